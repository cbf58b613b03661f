#pragma once
#include <string>
#include <string_view>

namespace nbtrace {
/// Project version, e.g. "0.1.0".
std::string_view version() noexcept;
/// Git sha of the source tree the binaries were built from ("-dirty" when
/// tracked files differed from HEAD at build time; "unknown" outside git).
std::string_view build_git_sha() noexcept;
/// What every tool's --version prints and a bundle's env.json records as
/// "tool_version_line": "<tool> (nbparity <version>, git <sha>)", the sha
/// cut to 12 hex digits and keeping its "-dirty", e.g.
/// "nbsim (nbparity 0.1.0, git 6289849a1b2c-dirty)".
std::string version_line(std::string_view tool);
}  // namespace nbtrace
