// WorkPool with local workers: every task to do runs once, the rest never;
// Started/Finished are serialized; a throwing task becomes a pool_error.
#include <atomic>
#include <set>
#include <stdexcept>

#include "nbtrace/base/error.hpp"
#include "nbtrace/parity/work_pool.hpp"
#include "test_support.hpp"

using nlohmann::json;

TEST_CASE("local pool: each task once, skipped ones never, results back in one place") {
  for (unsigned threads : {1u, 3u}) {
    CAPTURE(threads);
    const auto pool = nbtrace::make_local_pool(threads);
    CHECK(pool->ranks() == 1);
    CHECK(pool->is_root());
    CHECK(pool->cpu_share() >= 1);
    std::vector<bool> todo(50, true);
    todo[7] = todo[8] = false;
    std::atomic<int> runs{0};
    std::vector<int> finished(50, 0), started(50, 0);
    int in_callback = 0, overlap = 0;
    std::set<unsigned> threads_seen;
    pool->run(
        todo,
        [&](std::size_t i, const nbtrace::WorkerSlot& where) {
          ++runs;
          if (i == 13) throw std::runtime_error("task 13 broke");
          return json{{"square", i * i}, {"thread", where.thread}};
        },
        [&](std::size_t i, const nbtrace::WorkerSlot&) { ++started[i]; },
        [&](std::size_t i, const nbtrace::WorkerSlot& where, json r) {
          if (in_callback++) ++overlap;
          ++finished[i];
          threads_seen.insert(where.thread);
          if (i == 13) {
            CHECK(r["pool_error"] == "task 13 broke");
          } else {
            CHECK(r["square"] == i * i);
          }
          --in_callback;
        });
    CHECK(runs == 48);
    CHECK(overlap == 0);
    for (std::size_t i = 0; i < 50; ++i) {
      CAPTURE(i);
      CHECK(finished[i] == (todo[i] ? 1 : 0));
      CHECK(started[i] == finished[i]);
    }
    CHECK(threads_seen.size() <= threads);
  }
}

TEST_CASE("make_work_pool: local without a launcher; MPI refused where it cannot be used") {
  CHECK(nbtrace::mpi_launch_size() == 0);  // the test runs without mpirun
  const auto pool = nbtrace::make_work_pool(nbtrace::Distribution::automatic, 2);
  CHECK(pool->ranks() == 1);
  CHECK(pool->description() == "2 local workers");
  if (!nbtrace::mpi_built()) CHECK_THROWS_AS(nbtrace::make_work_pool(nbtrace::Distribution::mpi, 1), nbtrace::UsageError);
}
