#pragma once
// Hands out independent tasks (batch jobs, matrix cases) to workers: local
// threads in one process, or MPI ranks with a dynamic scheduler on rank 0.
// Callers see the same interface either way; results travel as JSON so the
// MPI path can carry them between processes.
#include <cstddef>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace nbtrace {

/// How tasks are spread.
enum class Distribution {
  automatic,  ///< MPI ranks when started by an MPI launcher (mpirun, srun), else local threads
  local,      ///< local threads only
  mpi,        ///< MPI ranks; an error when this build has no MPI
};

/// Where a task runs: shown to the task and recorded by the caller.
struct WorkerSlot {
  int rank = 0;           ///< MPI rank (0 without MPI)
  int local_rank = 0;     ///< rank among those on the same node
  unsigned thread = 0;    ///< local worker thread on this rank
  /// A per-node index for sharing node resources (GPU = slot % GPUs):
  /// local_rank with MPI, the thread index without.
  unsigned node_slot = 0;
};

/// CPUs this process may run on (its affinity mask), at least 1.
unsigned usable_cpus();

/// Whether MPI support was compiled in (-DNB_MPI=AUTO/ON found Open MPI).
bool mpi_built();

/// The number of ranks when this process was started by an MPI launcher
/// (Open MPI, PMI or PMIx environment; 1 when the size is not given), else 0.
int mpi_launch_size();

/// One run's scheduling. The MPI form initialises MPI when created and
/// finalises it when destroyed; create at most one per process.
class WorkPool {
 public:
  /// Work for task i; runs on any rank, on any of its worker threads.
  using Work = std::function<nlohmann::json(std::size_t task, const WorkerSlot& where)>;
  /// Root only, one call at a time: task i was handed to `where`.
  using Started = std::function<void(std::size_t task, const WorkerSlot& where)>;
  /// Root only, one call at a time: task i finished with `result`.
  using Finished = std::function<void(std::size_t task, const WorkerSlot& where, nlohmann::json result)>;

  virtual ~WorkPool() = default;

  /// Runs every task i with todo[i] true. Returns on every rank once all
  /// are finished; Started/Finished are called on the root alone.
  virtual void run(const std::vector<bool>& todo, const Work& work, const Started& started,
                   const Finished& finished) = 0;

  /// The root's `value`, returned on every rank (a final exit code).
  virtual int share_from_root(int value) = 0;

  /// This process's MPI rank, the number of ranks, and whether it is rank 0.
  virtual int rank() const = 0;
  virtual int ranks() const = 0;
  bool is_root() const { return rank() == 0; }
  /// Local worker threads per rank.
  virtual unsigned threads() const = 0;
  /// CPUs each of this rank's jobs may use without crowding the others:
  /// this process's CPUs (its affinity: mpirun --bind-to, Slurm
  /// --cpus-per-task, a cpuset) divided among the workers that share them
  /// (its own threads; with MPI, the ranks on the node whose CPUs overlap).
  virtual unsigned cpu_share() const = 0;
  virtual std::string description() const = 0;  ///< e.g. "4 MPI ranks", "2 local workers"
};

/// A pool for `distribution` with `threads` local workers per rank (with MPI,
/// non-root ranks run one job at a time unless threads > 1; rank 0 runs
/// `threads` jobs beside its scheduler). Throws UsageError when MPI is asked
/// for but not built, or not launched.
std::unique_ptr<WorkPool> make_work_pool(Distribution distribution, unsigned threads);

/// Local threads only (what make_work_pool gives without MPI).
std::unique_ptr<WorkPool> make_local_pool(unsigned threads);

}  // namespace nbtrace
