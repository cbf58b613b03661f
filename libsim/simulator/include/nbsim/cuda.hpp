#pragma once
// The CUDA backend: the same NB_HD compute_pixel as the CPU launcher, one
// GPU thread per pixel. Declared in every build; a build without CUDA
// (NB_CUDA=OFF, or AUTO without nvcc) links stubs that report it.
#include <string>

#include "nbsim/config.hpp"
#include "nbsim/setup.hpp"
#include "nbsim/simulator.hpp"

namespace nbsim {

/// Whether this library was compiled with the CUDA backend.
bool cuda_built();

/// The GPU the backend would use, or why there is none.
struct CudaDeviceInfo {
  bool available = false;
  std::string name;    ///< e.g. "NVIDIA H100 80GB HBM3"
  std::string reason;  ///< when !available: one line for the user
};
/// GPU `index` (0 = the first visible one).
CudaDeviceInfo cuda_device_info(int index = 0);

/// How many CUDA GPUs this process sees (0 without CUDA, driver or GPU).
int cuda_device_count();

/// Throws nbtrace::UsageError (exit 1) unless the CUDA backend can run
/// `dtype` on GPU `device` here: built with CUDA, that GPU present, the
/// dtype supported. Called before any output (even the Fdump.bin cache) is
/// written.
void require_cuda(DType dtype, int device = 0);

/// What a CUDA run measured (device events around the pixel kernels).
struct CudaRunInfo {
  std::string device;
  double kernel_ms = 0;  ///< pixel kernels only (both passes with interpolation)
  double total_ms = 0;   ///< uploads, kernels, reductions, image download
};

/// run_simulation() on the GPU: the same image (within float64 rounding of
/// the device math library), statistics reduced on the device. Sets
/// sim.params.interp_stop_* like the CPU run so later traces agree.
/// Throws nbtrace::UsageError when the buffers do not fit the GPU.
SimulationResult run_simulation_cuda(PreparedSimulation& sim, DType dtype, CudaRunInfo* info = nullptr, int device = 0);

}  // namespace nbsim
