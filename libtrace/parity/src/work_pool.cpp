#include "nbtrace/parity/work_pool.hpp"

#include <sched.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <mutex>
#include <thread>

#include "nbtrace/base/error.hpp"
#include "work_pool_internal.hpp"

namespace nbtrace {

unsigned usable_cpus() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof set, &set) == 0) return static_cast<unsigned>(std::max(1, CPU_COUNT(&set)));
  return std::max(1u, std::thread::hardware_concurrency());
}

int mpi_launch_size() {
  // Open MPI's mpirun, PMIx (srun --mpi=pmix, prterun) and PMI-1/2 launchers.
  for (const char* var : {"OMPI_COMM_WORLD_SIZE", "PMIX_SIZE", "PMI_SIZE"}) {
    if (const char* v = std::getenv(var)) return std::max(1, std::atoi(v));
  }
  if (std::getenv("PMIX_RANK") || std::getenv("PMI_RANK")) return 1;
  return 0;
}

namespace {

class LocalPool final : public WorkPool {
 public:
  explicit LocalPool(unsigned threads) : threads_(std::max(1u, threads)) {}

  void run(const std::vector<bool>& todo, const Work& work, const Started& started,
           const Finished& finished) override {
    std::atomic<std::size_t> next{0};
    std::mutex root;  // Started/Finished one at a time
    auto worker = [&](unsigned t) {
      WorkerSlot where;
      where.thread = t;
      where.node_slot = t;
      for (std::size_t i; (i = next++) < todo.size();) {
        if (!todo[i]) continue;
        {
          std::lock_guard lock(root);
          started(i, where);
        }
        nlohmann::json result = run_guarded(work, i, where);
        std::lock_guard lock(root);
        finished(i, where, std::move(result));
      }
    };
    std::vector<std::thread> pool;
    for (unsigned t = 1; t < threads_; ++t) pool.emplace_back(worker, t);
    worker(0);
    for (auto& t : pool) t.join();
  }

  int share_from_root(int value) override { return value; }
  int rank() const override { return 0; }
  int ranks() const override { return 1; }
  unsigned threads() const override { return threads_; }
  unsigned cpu_share() const override { return std::max(1u, usable_cpus() / threads_); }
  std::string description() const override {
    return std::to_string(threads_) + (threads_ == 1 ? " local worker" : " local workers");
  }

 private:
  unsigned threads_;
};

}  // namespace

std::unique_ptr<WorkPool> make_local_pool(unsigned threads) { return std::make_unique<LocalPool>(threads); }

std::unique_ptr<WorkPool> make_work_pool(Distribution distribution, unsigned threads) {
  const int launched = mpi_launch_size();
  // srun without an MPI plugin starts N copies that know nothing of each
  // other: each would run every job into the same folder.
  if (launched == 0) {
    if (const char* tasks = std::getenv("SLURM_STEP_NUM_TASKS"); tasks && std::atoi(tasks) > 1)
      throw UsageError("started by srun as one of " + std::string(tasks) +
                       " tasks without an MPI environment: use srun --mpi=pmix (or pmi2; srun --mpi=list), or run "
                       "one task");
  }
  if (distribution == Distribution::local) {
    // Every rank would run every task and overwrite the others' outputs.
    if (launched > 1)
      throw UsageError("local workers asked for, but this process is one of " + std::to_string(launched) +
                       " MPI ranks: run it without mpirun/srun, or drop --no-mpi");
    return make_local_pool(threads);
  }
#ifdef NB_HAVE_MPI
  if (distribution == Distribution::mpi || launched) return make_mpi_pool(threads);
  return make_local_pool(threads);
#else
  if (distribution == Distribution::mpi)
    throw UsageError("--mpi: this build has no MPI support (rebuild with Open MPI installed, -DNB_MPI=AUTO or ON)");
  // Every rank would run every task and overwrite the others' outputs.
  if (launched > 1)
    throw UsageError("started by an MPI launcher, but this build has no MPI support: run without mpirun, or rebuild "
                     "with Open MPI installed (-DNB_MPI=AUTO or ON)");
  return make_local_pool(threads);
#endif
}

#ifndef NB_HAVE_MPI
bool mpi_built() { return false; }
#endif

}  // namespace nbtrace
