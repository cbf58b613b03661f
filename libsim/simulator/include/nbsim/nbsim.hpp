#pragma once
// libsim: the reference nanoBragg simulator on the CPU. Entry points:
// nbsim/config.hpp (what to simulate), nbsim/validate.hpp (what is
// refused), nbsim/setup.hpp (resolve it),
// nbsim/simulator.hpp (run, statistics, traces), nbsim/run.hpp (one
// complete nbsim run). See docs/nbsim.md.
#include <string_view>

namespace nbsim {
/// Library version (same as the project's).
std::string_view version() noexcept;
}  // namespace nbsim
