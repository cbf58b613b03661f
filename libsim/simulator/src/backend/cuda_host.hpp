#pragma once
// Host-side text of the CUDA backend, compiled by the C++ compiler: fmt's
// headers do not compile under nvcc (its consteval format strings).
#include <string>

namespace nbsim::cuda_host {

/// What a run needs on the GPU (bytes), for the message when it does not fit.
struct MemoryNeed {
  double total = 0, structure_factors = 0, per_pixel = 0, free = 0;
};

/// "-device cuda: the simulation needs 1.5 MiB of GPU memory (...); NAME has 0.9 MiB free".
std::string memory_message(const MemoryNeed& need, const std::string& device_name);

}  // namespace nbsim::cuda_host
