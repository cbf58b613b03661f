#pragma once
// Number and step-label texts shared by attribution's analysis (hypothesis
// evidence) and its reports (not installed).
#include <string>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "nbtrace/base/numbers.hpp"

namespace nbtrace::attribution_text {

inline std::string pct(double share) { return fmt::format("{:.2f}%", 100.0 * share); }
inline std::string num(double v) { return fmt::format("{:.10g}", v); }

using Coords = std::vector<std::pair<std::string, double>>;

inline std::string coords_label(const Coords& c) {
  if (c.empty()) return "(single step)";
  std::string s;
  for (const auto& [k, v] : c) {
    if (!s.empty()) s += ",";
    s += k + "=" + format_double(v);
  }
  return s;
}

}  // namespace nbtrace::attribution_text
