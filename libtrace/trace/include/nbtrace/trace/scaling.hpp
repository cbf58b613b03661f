#pragma once
// The nine-factor scaling-chain comparison of the peer's
// scripts/validation/compare_scaling_traces.py, reproduced number for number
// (same factors, order, statuses and metrics.json keys), with its defects
// fixed: the pixel comes from the trace, the tolerance applies everywhere,
// metadata paths are relative.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "nbtrace/trace/policy.hpp"
#include "nbtrace/trace/trace.hpp"

namespace nbtrace {

struct ScalingFactor {
  std::string name;
  std::string description;
  std::optional<double> c_value;
  std::optional<double> test_value;
  std::optional<double> abs_delta;
  std::optional<double> rel_delta;
  std::string status;  ///< PASS, MINOR, DIVERGENT, CRITICAL, MISSING, "MATCH (both ~0)", "DIVERGENT (C≈0, Py≠0)"
  bool passes = false; ///< PASS or MATCH (both ~0)
  bool divergent = false;  ///< counted in num_divergent (MINOR counts, as the peer counts it)
};

struct ScalingComparison {
  double tolerance_rel = 1e-6;
  std::string test_label = "PyTorch";  ///< "PyTorch" (--py) or "C++" (--cpp)
  std::vector<ScalingFactor> factors;
  std::optional<std::size_t> first_divergence;  ///< in the nine-factor order
  std::size_t num_divergent = 0;
  std::optional<TracedPixel> pixel;
};

/// The nine factors in scaling-chain order: name and description.
const std::vector<std::pair<std::string, std::string>>& scaling_factor_table();

/// Compares the nine factors: for each, the first value of the last record
/// of that (alias-resolved) name on each side.
ScalingComparison compare_scaling(const Trace& c_trace, const Trace& test_trace, double tolerance_rel,
                                  const AliasTable& aliases, std::string test_label = "PyTorch");

/// metrics.json, byte-compatible with the peer's json.dump(indent=2).
std::string scaling_metrics_json(const ScalingComparison& cmp);

/// summary.md: the peer's tables and sections with the traced pixel.
std::string scaling_summary_markdown(const ScalingComparison& cmp, std::string_view c_path,
                                     std::string_view test_path);

/// The peer's display format: %.6e outside [1e-6, 1e6], else %.9g.
std::string peer_format_value(std::optional<double> v);

}  // namespace nbtrace
