#pragma once
// Between work_pool.cpp and the MPI pool (built only with MPI).
#include <memory>

#include "nbtrace/parity/work_pool.hpp"

namespace nbtrace {

/// A task's result, or {"pool_error": why} when it throws: a failing task
/// must not take its worker (or its MPI rank) down.
inline nlohmann::json run_guarded(const WorkPool::Work& work, std::size_t task, const WorkerSlot& where) {
  try {
    return work(task, where);
  } catch (const std::exception& e) {
    return nlohmann::json{{"pool_error", e.what()}};
  }
}

#ifdef NB_HAVE_MPI
std::unique_ptr<WorkPool> make_mpi_pool(unsigned threads);
#endif

}  // namespace nbtrace
