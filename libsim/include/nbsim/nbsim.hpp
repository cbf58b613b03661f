#pragma once
// libsim: the reference nanoBragg simulator. This issue only lays the
// target; the physics arrives with the simulator issues.
#include <string_view>

namespace nbsim {
/// Library version (same as the project's).
std::string_view version() noexcept;
}  // namespace nbsim
