#pragma once
#include <string_view>

namespace nbtrace {
/// Project version, e.g. "0.1.0".
std::string_view version() noexcept;
/// Git sha of the source tree the binaries were built from ("-dirty" when
/// tracked files differed from HEAD at build time; "unknown" outside git).
std::string_view build_git_sha() noexcept;
}  // namespace nbtrace
