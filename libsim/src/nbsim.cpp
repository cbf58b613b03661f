#include "nbsim/nbsim.hpp"

#include "nbtrace/version.hpp"

namespace nbsim {
std::string_view version() noexcept { return nbtrace::version(); }
}  // namespace nbsim
