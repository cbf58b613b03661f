#include "nbsim/nbsim.hpp"

#include "nbtrace/base/version.hpp"

namespace nbsim {
std::string_view version() noexcept { return nbtrace::version(); }
}  // namespace nbsim
