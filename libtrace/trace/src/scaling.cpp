#include "nbtrace/trace/scaling.hpp"

#include <cmath>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <fmt/format.h>

#include "nbtrace/trace/diff.hpp"

namespace nbtrace {

const std::vector<std::pair<std::string, std::string>>& scaling_factor_table() {
  // Scaling-chain order; descriptions as the peer writes them.
  static const std::vector<std::pair<std::string, std::string>> table = {
      {"I_before_scaling", "Raw accumulated intensity before normalization"},
      {"r_e_sqr", "Thomson scattering cross section (r_e\u00b2)"},
      {"fluence_photons_per_m2", "Incident photon fluence"},
      {"steps", "Normalization divisor (sources\u00d7mosaic\u00d7\u03c6\u00d7oversample\u00b2)"},
      {"capture_fraction", "Detector absorption capture fraction"},
      {"polar", "Kahn polarization factor"},
      {"omega_pixel", "Solid angle (steradians)"},
      {"cos_2theta", "Cosine of scattering angle 2\u03b8"},
      {"I_pixel_final", "Final normalized pixel intensity"},
  };
  return table;
}

namespace {

/// First value of the last numeric record whose resolved name is `name`.
std::optional<double> last_value(const Trace& t, std::string_view name, const AliasTable& aliases) {
  const auto& records = t.records();
  for (std::size_t i = records.size(); i-- > 0;) {
    const Record& r = records[i];
    if (aliases.resolve(t.name(r)) != name) continue;
    // A text value (e.g. NOT_EXTRACTED) means the factor was not extracted.
    if (r.form == ValueForm::text || r.form == ValueForm::marker || r.num_values == 0) return std::nullopt;
    return t.values(r)[0];
  }
  return std::nullopt;
}

std::string rel_text(const std::optional<double>& rel) { return rel ? fmt::format("{:+.6e}", *rel) : "N/A"; }

}  // namespace

std::string peer_format_value(std::optional<double> v) {
  if (!v) return "NOT_EXTRACTED";
  const double a = std::fabs(*v);
  if (a < 1e-6 || a > 1e6) return fmt::format("{:.6e}", *v);
  return fmt::format("{:.9g}", *v);
}

ScalingComparison compare_scaling(const Trace& c_trace, const Trace& test_trace, double tolerance_rel,
                                  const AliasTable& aliases, std::string test_label) {
  ScalingComparison out;
  out.tolerance_rel = tolerance_rel;
  out.test_label = std::move(test_label);
  const std::string zero_status =
      out.test_label == "PyTorch" ? "DIVERGENT (C\u2248" "0, Py\u2260" "0)" : "DIVERGENT (C\u2248" "0, " + out.test_label + "\u2260" "0)";
  for (const auto& [name, description] : scaling_factor_table()) {
    ScalingFactor f;
    f.name = name;
    f.description = description;
    f.c_value = last_value(c_trace, name, aliases);
    f.test_value = last_value(test_trace, name, aliases);
    if (!f.c_value || !f.test_value) {
      f.status = "MISSING";
    } else {
      const NumericVerdict v = compare_values(*f.c_value, *f.test_value, tolerance_rel);
      f.abs_delta = *f.test_value - *f.c_value;
      if (!std::isnan(v.rel_delta)) f.rel_delta = v.rel_delta;
      switch (v.status) {
        case Status::pass: f.status = "PASS"; break;
        case Status::zero_match: f.status = "MATCH (both ~0)"; break;
        case Status::minor: f.status = "MINOR"; break;
        case Status::divergent: f.status = "DIVERGENT"; break;
        case Status::zero_ref_divergent: f.status = zero_status; break;
        default: f.status = "CRITICAL"; break;
      }
    }
    f.passes = f.status == "PASS" || f.status == "MATCH (both ~0)";
    // The peer counts MINOR, DIVERGENT, CRITICAL and MISSING, not the C≈0 case.
    f.divergent = f.status == "MINOR" || f.status == "DIVERGENT" || f.status == "CRITICAL" || f.status == "MISSING";
    if (f.divergent) {
      ++out.num_divergent;
      if (!out.first_divergence) out.first_divergence = out.factors.size();
    }
    out.factors.push_back(std::move(f));
  }
  if (!c_trace.pixels().empty()) out.pixel = c_trace.pixels().front();
  else if (!test_trace.pixels().empty()) out.pixel = test_trace.pixels().front();
  return out;
}

std::string scaling_metrics_json(const ScalingComparison& cmp) {
  using json = nlohmann::ordered_json;
  auto opt = [](const std::optional<double>& v) { return v ? json(*v) : json(nullptr); };
  json factors = json::object();
  for (const ScalingFactor& f : cmp.factors) {
    json e;
    e["description"] = f.description;
    e["c_value"] = opt(f.c_value);
    e["py_value"] = opt(f.test_value);
    e["abs_delta"] = opt(f.abs_delta);
    e["rel_delta"] = opt(f.rel_delta);
    e["status"] = f.status;
    factors[f.name] = std::move(e);
  }
  json doc;
  doc["tolerance_rel"] = cmp.tolerance_rel;
  doc["first_divergence"] = cmp.first_divergence ? json(cmp.factors[*cmp.first_divergence].name) : json(nullptr);
  doc["num_divergent"] = cmp.num_divergent;
  doc["factors"] = std::move(factors);
  // Python's json.dump(indent=2): ASCII escapes, no trailing newline.
  return doc.dump(2, ' ', true);
}

std::string scaling_summary_markdown(const ScalingComparison& cmp, std::string_view c_path,
                                     std::string_view test_path) {
  const std::string& who = cmp.test_label;
  std::string md;
  md += "# Scaling Chain Comparison: C vs " + who + "\n\n";
  md += "**Tolerance:** \u2264" + fmt::format("{:.2e}", cmp.tolerance_rel) + " relative\n\n";
  md += "## Summary\n\n";
  if (cmp.pixel) {
    md += "Comparing scaling factors for pixel (" + std::to_string(cmp.pixel->slow) + ", " +
          std::to_string(cmp.pixel->fast) + ") (slow, fast).\n\n";
  } else {
    md += "Comparing scaling factors for an unidentified pixel (no TRACE_CONFIG line in either trace; pass --pixel).\n\n";
  }
  md += "- C trace: `" + std::string(c_path) + "`\n";
  md += "- " + who + " trace: `" + std::string(test_path) + "`\n";
  md += "- Divergent factors: " + std::to_string(cmp.num_divergent) + " of " + std::to_string(cmp.factors.size()) +
        " (MINOR, DIVERGENT, CRITICAL and MISSING count)\n\n";
  md += "## Detailed Comparison\n\n";
  md += "| Factor | C Value | " + who + " Value | \u0394 (abs) | \u0394 (rel) | Status |\n";
  md += "|--------|---------|---------------|---------|---------|--------|\n";
  for (const ScalingFactor& f : cmp.factors) {
    md += "| " + f.name + " | " + peer_format_value(f.c_value) + " | " + peer_format_value(f.test_value) + " | " +
          (f.abs_delta ? peer_format_value(f.abs_delta) : "N/A") + " | " + (f.abs_delta ? rel_text(f.rel_delta) : "N/A") +
          " | " + f.status + " |\n";
  }
  md += "\n## First Divergence\n\n";
  if (cmp.first_divergence) {
    const ScalingFactor& f = cmp.factors[*cmp.first_divergence];
    md += "**" + f.name + "** (" + f.description + ")\n\n";
    md += "- C value: `" + peer_format_value(f.c_value) + "`\n";
    md += "- " + who + " value: `" + peer_format_value(f.test_value) + "`\n";
    if (f.abs_delta) md += "- Absolute delta: `" + peer_format_value(f.abs_delta) + "`\n";
    if (f.rel_delta) md += "- Relative delta: `" + rel_text(f.rel_delta) + "`\n";
    md += "- Status: **" + f.status + "**\n";
  } else {
    md += "**No divergence detected!** All scaling factors match within tolerances.\n";
  }
  md += "\n## All Divergent Factors\n\n";
  if (cmp.num_divergent == 0) md += "None - all factors match!\n";
  for (const ScalingFactor& f : cmp.factors) {
    if (!f.divergent) continue;
    md += "### " + f.name + "\n";
    md += "- Description: " + f.description + "\n";
    md += "- C: `" + peer_format_value(f.c_value) + "`\n";
    md += "- " + who + ": `" + peer_format_value(f.test_value) + "`\n";
    if (f.abs_delta) md += "- \u0394: `" + peer_format_value(f.abs_delta) + "` (rel: " + rel_text(f.rel_delta) + ")\n";
    md += "- Status: **" + f.status + "**\n\n";
  }
  md += "\n## Next Steps\n\n";
  if (cmp.first_divergence) {
    md += "1. Diff every field of the two traces (`nbtrace diff`) to find where " +
          cmp.factors[*cmp.first_divergence].name + " first departs in computation order.\n";
    md += "2. Fix the cause, regenerate the " + who + " trace and rerun this comparison.\n";
  } else {
    md += "1. The scaling chain agrees; compare whole images next.\n";
  }
  return md;
}

}  // namespace nbtrace
