#include "cuda_host.hpp"

#include <fmt/format.h>

namespace nbsim::cuda_host {

namespace {
std::string mib(double bytes) { return fmt::format("{:.1f} MiB", bytes / (1024.0 * 1024.0)); }
}  // namespace

std::string memory_message(const MemoryNeed& need, const std::string& device_name) {
  return fmt::format("-device cuda: the simulation needs {} of GPU memory ({} structure factors, {} per-pixel buffers); {} has {} free",
                     mib(need.total), mib(need.structure_factors), mib(need.per_pixel), device_name, mib(need.free));
}

}  // namespace nbsim::cuda_host
