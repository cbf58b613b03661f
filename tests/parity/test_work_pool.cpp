// WorkPool with local workers: every task to do runs once, the rest never;
// Started/Finished are serialized; a throwing task becomes a pool_error.
#include <stdlib.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
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

TEST_CASE("local pool: N workers really run N tasks at once") {
  // The first three tasks each wait (up to 20 s) until three are running:
  // with three workers all three get there, and the results come from
  // three different threads.
  constexpr unsigned kWorkers = 3;
  const auto pool = nbtrace::make_local_pool(kWorkers);
  std::mutex m;
  std::condition_variable cv;
  unsigned running = 0, most_at_once = 0;
  std::set<unsigned> threads_seen;
  pool->run(
      std::vector<bool>(12, true),
      [&](std::size_t i, const nbtrace::WorkerSlot&) {
        if (i >= kWorkers) return json{{"task", i}};
        std::unique_lock lock(m);
        most_at_once = std::max(most_at_once, ++running);
        cv.notify_all();
        cv.wait_for(lock, std::chrono::seconds(20), [&] { return running >= kWorkers; });
        return json{{"task", i}};
      },
      [](std::size_t, const nbtrace::WorkerSlot&) {},
      [&](std::size_t i, const nbtrace::WorkerSlot& where, json r) {
        CHECK(r["task"] == i);
        if (i < kWorkers) threads_seen.insert(where.thread);
      });
  CHECK(most_at_once == kWorkers);
  CHECK(threads_seen.size() == kWorkers);
}

namespace {

/// Sets an environment variable for one scope (a launcher's, here).
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const char* value) : name_(name) { ::setenv(name, value, 1); }
  ~ScopedEnv() { ::unsetenv(name_); }
  ScopedEnv(const ScopedEnv&) = delete;
  ScopedEnv& operator=(const ScopedEnv&) = delete;

 private:
  const char* name_;
};

}  // namespace

TEST_CASE("make_work_pool: local without a launcher; MPI refused where it cannot be used") {
  CHECK(nbtrace::mpi_launch_size() == 0);  // the test runs without mpirun
  CHECK(nbtrace::mpi_built() == (NBTEST_MPI_BUILT != 0));
  const auto pool = nbtrace::make_work_pool(nbtrace::Distribution::automatic, 2);
  CHECK(pool->ranks() == 1);
  CHECK(pool->description() == "2 local workers");
  if (!nbtrace::mpi_built()) {
    CHECK_THROWS_WITH_AS(nbtrace::make_work_pool(nbtrace::Distribution::mpi, 1),
                         doctest::Contains("this build has no MPI support"), nbtrace::UsageError);
  }
  {
    // One of four ranks (as mpirun's environment says) asked for local
    // workers would run every task four times over: refused in every build.
    const ScopedEnv launched("OMPI_COMM_WORLD_SIZE", "4");
    CHECK(nbtrace::mpi_launch_size() == 4);
    CHECK_THROWS_WITH_AS(nbtrace::make_work_pool(nbtrace::Distribution::local, 1),
                         doctest::Contains("this process is one of 4 MPI ranks"), nbtrace::UsageError);
    if (!nbtrace::mpi_built()) {
      CHECK_THROWS_WITH_AS(nbtrace::make_work_pool(nbtrace::Distribution::automatic, 1),
                           doctest::Contains("started by an MPI launcher"), nbtrace::UsageError);
    }
  }
  {
    // srun without an MPI plugin: three copies that know nothing of each other.
    const ScopedEnv srun("SLURM_STEP_NUM_TASKS", "3");
    CHECK_THROWS_WITH_AS(nbtrace::make_work_pool(nbtrace::Distribution::automatic, 1),
                         doctest::Contains("started by srun as one of 3 tasks"), nbtrace::UsageError);
  }
  CHECK(nbtrace::mpi_launch_size() == 0);
}
