#pragma once
// Enumerates the reference logs under ../shared/golden.
#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

#include "test_support.hpp"

namespace nbtest {

/// Every *.log under golden/<case>/ (sorted), plus the seed bundle's traces.
inline std::vector<fs::path> golden_logs(bool traces_only) {
  std::vector<fs::path> out;
  const fs::path shared = shared_dir();
  for (const auto& c : fs::directory_iterator(shared / "golden")) {
    if (!c.is_directory()) continue;
    for (const auto& f : fs::directory_iterator(c.path())) {
      const std::string name = f.path().filename().string();
      if (f.path().extension() != ".log") continue;
      if (traces_only && name.find("trace") == std::string::npos) continue;
      out.push_back(f.path());
    }
  }
  const fs::path seed = shared / "seed-bundle/20251008T212459Z/spec_baseline";
  if (fs::is_directory(seed)) {
    out.push_back(seed / "c_trace_scaling.log");
    out.push_back(seed / "trace_py_scaling.log");
  }
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace nbtest
