#pragma once
// Between work_pool.cpp and the MPI pool (built only with MPI).
#include <memory>

#include "nbtrace/work_pool.hpp"

namespace nbtrace {

#ifdef NB_HAVE_MPI
std::unique_ptr<WorkPool> make_mpi_pool(unsigned threads);
#endif

}  // namespace nbtrace
