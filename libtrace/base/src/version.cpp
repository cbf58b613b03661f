#include "nbtrace/base/version.hpp"

namespace nbtrace {

std::string version_line(std::string_view tool) {
  // version() and build_git_sha() come from the generated nb_version.cpp.
  std::string sha(build_git_sha());
  constexpr std::string_view dirty = "-dirty";
  const bool is_dirty = sha.size() > dirty.size() && sha.ends_with(dirty);
  if (is_dirty) sha.resize(sha.size() - dirty.size());
  if (sha.size() > 12 && sha.find_first_not_of("0123456789abcdef") == std::string::npos) sha.resize(12);
  if (is_dirty) sha += dirty;
  return std::string(tool) + " (nbparity " + std::string(version()) + ", git " + sha + ")";
}

}  // namespace nbtrace
