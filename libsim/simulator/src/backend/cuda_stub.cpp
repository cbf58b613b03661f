// Built instead of cuda.cu when the CUDA backend is not compiled in.
#include "nbsim/cuda.hpp"

#include "nbtrace/base/error.hpp"

namespace nbsim {

namespace {
constexpr const char* kNotBuilt =
    "-device cuda: this nbsim was built without CUDA (reconfigure with -DNB_CUDA=ON where nvcc is installed)";
}

bool cuda_built() { return false; }

int cuda_device_count() { return 0; }

CudaDeviceInfo cuda_device_info(int) {
  CudaDeviceInfo info;
  info.reason = "built without CUDA";
  return info;
}

void require_cuda(DType, int) { throw nbtrace::UsageError(kNotBuilt); }

SimulationResult run_simulation_cuda(PreparedSimulation&, DType, CudaRunInfo*, int) {
  throw nbtrace::UsageError(kNotBuilt);
}

}  // namespace nbsim
