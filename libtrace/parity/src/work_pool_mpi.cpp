// The MPI form of WorkPool: rank 0 hands out tasks one at a time to whichever
// rank asks next (dynamic scheduling: long and short tasks mix well) and runs
// tasks itself on a worker thread; results come back as JSON text.
#include <mpi.h>
#include <sched.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <deque>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>

#include "nbtrace/base/error.hpp"
#include "work_pool_internal.hpp"

namespace nbtrace {

bool mpi_built() { return true; }

namespace {

constexpr int kTagReady = 1;   // worker -> root: ready for a task, carrying the last result
constexpr int kTagAssign = 2;  // root -> worker: a task index, or -1 to stop

void check(int rc, const char* what) {
  if (rc != MPI_SUCCESS) {
    char text[MPI_MAX_ERROR_STRING];
    int len = 0;
    MPI_Error_string(rc, text, &len);
    throw std::runtime_error(std::string("MPI: ") + what + ": " + std::string(text, static_cast<std::size_t>(len)));
  }
}

/// Sleeps between polls, from 50 us doubling to 2 ms while nothing comes:
/// Open MPI's blocking calls poll continuously, which would starve the
/// simulations when ranks share cores; 2 ms bounds the added delay, small
/// against a job (a process start alone is ~10 ms).
class Backoff {
 public:
  void reset() { pause_ = kMin; }
  void wait() {
    std::this_thread::sleep_for(pause_);
    pause_ = std::min(pause_ * 2, kMax);
  }

 private:
  static constexpr std::chrono::microseconds kMin{50}, kMax{2000};
  std::chrono::microseconds pause_ = kMin;
};

/// Waits for a request without holding a core (see Backoff).
void wait_gently(MPI_Request& request) {
  Backoff backoff;
  for (;;) {
    int done = 0;
    check(MPI_Test(&request, &done, MPI_STATUS_IGNORE), "MPI_Test");
    if (done) return;
    backoff.wait();
  }
}

/// A ready message: the finished task's index (-1: none yet) and its result.
std::string encode(std::int64_t task, const std::string& result) {
  std::string m(sizeof task, '\0');
  std::memcpy(m.data(), &task, sizeof task);
  return m + result;
}

class MpiPool final : public WorkPool {
 public:
  explicit MpiPool(unsigned threads) {
    if (threads > 1) throw UsageError("--jobs N with MPI: run N times as many ranks instead (one job per rank at a time)");
    int initialised = 0;
    MPI_Initialized(&initialised);
    if (!initialised) {
      int provided = 0;
      // Only the main thread calls MPI; rank 0's worker thread never does.
      check(MPI_Init_thread(nullptr, nullptr, MPI_THREAD_FUNNELED, &provided), "MPI_Init_thread");
      owns_mpi_ = true;
      if (provided < MPI_THREAD_FUNNELED) {
        MPI_Finalize();
        throw std::runtime_error("MPI: this MPI library does not allow threads (MPI_THREAD_FUNNELED), which rank 0 "
                                 "needs to run jobs beside its scheduler");
      }
    }
    check(MPI_Comm_dup(MPI_COMM_WORLD, &comm_), "MPI_Comm_dup");
    MPI_Comm_rank(comm_, &rank_);
    MPI_Comm_size(comm_, &ranks_);
    MPI_Comm node;
    check(MPI_Comm_split_type(comm_, MPI_COMM_TYPE_SHARED, rank_, MPI_INFO_NULL, &node), "MPI_Comm_split_type");
    MPI_Comm_rank(node, &local_rank_);
    MPI_Comm_size(node, &local_ranks_count_);
    // Ranks of this node whose CPUs overlap this one's share them.
    cpu_set_t mine;
    CPU_ZERO(&mine);
    const bool known = sched_getaffinity(0, sizeof mine, &mine) == 0;
    std::vector<cpu_set_t> sets(static_cast<std::size_t>(local_ranks_count_));
    check(MPI_Allgather(&mine, sizeof mine, MPI_BYTE, sets.data(), sizeof mine, MPI_BYTE, node), "MPI_Allgather");
    int sharing = 0;
    for (cpu_set_t& other : sets) {
      cpu_set_t both;
      CPU_AND(&both, &mine, &other);
      if (CPU_COUNT(&both) > 0) ++sharing;
    }
    cpu_share_ = known ? std::max(1u, usable_cpus() / static_cast<unsigned>(std::max(1, sharing)))
                       : std::max(1u, usable_cpus() / static_cast<unsigned>(local_ranks_count_));
    MPI_Comm_free(&node);
    local_ranks_.assign(static_cast<std::size_t>(ranks_), 0);
    check(MPI_Allgather(&local_rank_, 1, MPI_INT, local_ranks_.data(), 1, MPI_INT, comm_), "MPI_Allgather");
  }
  ~MpiPool() override {
    MPI_Comm_free(&comm_);
    if (owns_mpi_) MPI_Finalize();
  }
  MpiPool(const MpiPool&) = delete;
  MpiPool& operator=(const MpiPool&) = delete;

  void run(const std::vector<bool>& todo, const Work& work, const Started& started,
           const Finished& finished) override {
    if (rank_ == 0) {
      schedule(todo, work, started, finished);
    } else {
      serve(work);
    }
  }

  int share_from_root(int value) override {
    MPI_Request request;
    check(MPI_Ibcast(&value, 1, MPI_INT, 0, comm_, &request), "MPI_Ibcast");
    wait_gently(request);
    return value;
  }

  int rank() const override { return rank_; }
  int ranks() const override { return ranks_; }
  unsigned threads() const override { return 1; }
  unsigned cpu_share() const override { return cpu_share_; }
  std::string description() const override {
    return std::to_string(ranks_) + (ranks_ == 1 ? " MPI rank" : " MPI ranks");
  }

 private:
  WorkerSlot slot_of(int rank) const {
    WorkerSlot s;
    s.rank = rank;
    s.local_rank = local_ranks_[static_cast<std::size_t>(rank)];
    s.node_slot = static_cast<unsigned>(s.local_rank);
    return s;
  }

  /// Rank 0: a worker thread takes tasks from the queue like any rank; the
  /// main thread answers the other ranks until each has been told to stop.
  void schedule(const std::vector<bool>& todo, const Work& work, const Started& started, const Finished& finished) {
    std::deque<std::size_t> queue;
    for (std::size_t i = 0; i < todo.size(); ++i)
      if (todo[i]) queue.push_back(i);
    std::mutex lock;
    auto take = [&](const WorkerSlot& where) -> std::int64_t {
      if (queue.empty()) return -1;
      const std::size_t i = queue.front();
      queue.pop_front();
      started(i, where);
      return static_cast<std::int64_t>(i);
    };
    std::thread own([&] {
      const WorkerSlot here = slot_of(0);
      for (;;) {
        std::int64_t task;
        {
          std::lock_guard g(lock);
          task = take(here);
        }
        if (task < 0) return;
        nlohmann::json result = run_guarded(work, static_cast<std::size_t>(task), here);
        std::lock_guard g(lock);
        finished(static_cast<std::size_t>(task), here, std::move(result));
      }
    });
    int stopped = 0;
    std::string message;
    Backoff backoff;
    while (stopped < ranks_ - 1) {
      int waiting = 0;
      MPI_Status status;
      check(MPI_Iprobe(MPI_ANY_SOURCE, kTagReady, comm_, &waiting, &status), "MPI_Iprobe");
      if (!waiting) {
        backoff.wait();
        continue;
      }
      backoff.reset();
      int size = 0;
      MPI_Get_count(&status, MPI_CHAR, &size);
      message.assign(static_cast<std::size_t>(size), '\0');
      check(MPI_Recv(message.data(), size, MPI_CHAR, status.MPI_SOURCE, kTagReady, comm_, MPI_STATUS_IGNORE),
            "MPI_Recv");
      const WorkerSlot from = slot_of(status.MPI_SOURCE);
      std::int64_t done = -1;
      std::memcpy(&done, message.data(), sizeof done);
      std::int64_t next;
      {
        std::lock_guard g(lock);
        if (done >= 0) {
          nlohmann::json result;
          try {
            result = nlohmann::json::parse(message.begin() + sizeof done, message.end());
          } catch (const std::exception& e) {
            result = nlohmann::json{{"pool_error", std::string("unreadable result: ") + e.what()}};
          }
          finished(static_cast<std::size_t>(done), from, std::move(result));
        }
        next = take(from);
      }
      // Eight bytes go out eagerly: this send does not wait for the worker.
      check(MPI_Send(&next, 1, MPI_INT64_T, status.MPI_SOURCE, kTagAssign, comm_), "MPI_Send");
      if (next < 0) ++stopped;
    }
    own.join();
  }

  /// Ranks other than 0: ask for a task, run it, send the result with the
  /// next request, until told to stop.
  void serve(const Work& work) {
    const WorkerSlot here = slot_of(rank_);
    std::string message = encode(-1, "");
    for (;;) {
      MPI_Request request;
      check(MPI_Isend(message.data(), static_cast<int>(message.size()), MPI_CHAR, 0, kTagReady, comm_, &request),
            "MPI_Isend");
      wait_gently(request);
      std::int64_t task = -1;
      check(MPI_Irecv(&task, 1, MPI_INT64_T, 0, kTagAssign, comm_, &request), "MPI_Irecv");
      wait_gently(request);
      if (task < 0) return;
      message = encode(task, run_guarded(work, static_cast<std::size_t>(task), here).dump());
    }
  }

  MPI_Comm comm_ = MPI_COMM_NULL;
  int rank_ = 0, ranks_ = 1, local_rank_ = 0, local_ranks_count_ = 1;
  unsigned cpu_share_ = 1;
  std::vector<int> local_ranks_;
  bool owns_mpi_ = false;
};

}  // namespace

std::unique_ptr<WorkPool> make_mpi_pool(unsigned threads) { return std::make_unique<MpiPool>(threads); }

}  // namespace nbtrace
