#pragma once
// Shared by the hostile-input suite: each case runs a built tool as a user
// would and checks the exit code, the one error line and the files left.
#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

#include "test_support.hpp"

namespace hostile {

namespace fs = std::filesystem;

/// The project's demo traces (shipped in the repository).
inline std::string demo_trace(const std::string& name) {
  return (nbtest::source_dir() / "examples/demo_scaling" / name).string();
}

/// Every entry below `dir`, relative and sorted: what a failure left behind.
inline std::vector<std::string> tree(const fs::path& dir) {
  std::vector<std::string> out;
  for (const auto& e : fs::recursive_directory_iterator(dir)) out.push_back(fs::relative(e.path(), dir).generic_string());
  std::sort(out.begin(), out.end());
  return out;
}

/// A refusal: the given exit code and one line `<tool>: error: ...` holding `fragment`.
inline void check_refusal(const nbtest::ProcessResult& r, const std::string& tool, int code, const std::string& fragment) {
  CAPTURE(r.err);
  CHECK(r.exit_code == code);
  CHECK(r.err.rfind(tool + ": error: ", 0) == 0);
  CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
  CHECK_MESSAGE(r.err.find(fragment) != std::string::npos, fragment);
}

}  // namespace hostile
