#include "nbtrace/trace/report.hpp"

#include <cmath>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <fmt/format.h>

#include "nbtrace/base/numbers.hpp"
#include "nbtrace/base/version.hpp"

namespace nbtrace {

namespace {

using json = nlohmann::ordered_json;

json number_or_null(double v) { return std::isfinite(v) ? json(v) : json(nullptr); }
json number_or_text(double v) { return std::isfinite(v) ? json(v) : json(format_double(v)); }

/// Short human form of a value for tables.
std::string short_value(double v) {
  if (std::isnan(v)) return "-";
  return fmt::format("{:.10g}", v);
}

std::string rel_text(double rel) { return std::isnan(rel) ? "-" : fmt::format("{:+.3e}", rel); }

const ComponentResult& worst_component(const DiffResult& r, const FieldResult& f) {
  const ComponentResult* worst = &r.components[f.first_component];
  for (std::uint32_t i = 0; i < f.num_components; ++i) {
    const ComponentResult& c = r.components[f.first_component + i];
    if (c.status == f.status && (worst->status != f.status || (std::fabs(c.rel_delta) > std::fabs(worst->rel_delta)))) {
      worst = &c;
    }
  }
  return *worst;
}

std::string value_text(const DiffResult& r, const FieldResult& f, bool ref_side) {
  const Trace* t = ref_side ? r.ref : r.test;
  const std::int32_t idx = ref_side ? f.ref_record : f.test_record;
  if (idx < 0) return "-";
  const Record& rec = t->records()[static_cast<std::size_t>(idx)];
  if (rec.form == ValueForm::text) return std::string(rec.text);
  if (rec.form == ValueForm::marker) return "(marker)";
  const auto vals = t->values(rec);
  if (vals.size() == 1) return short_value(vals[0]);
  const ComponentResult& c = worst_component(r, f);
  return short_value(ref_side ? r.ref_value(c) : r.test_value(c));
}

std::string component_text(const DiffResult& r, const FieldResult& f) {
  const Trace* t = f.ref_record >= 0 ? r.ref : r.test;
  const std::int32_t idx = f.ref_record >= 0 ? f.ref_record : f.test_record;
  const Record& rec = t->records()[static_cast<std::size_t>(idx)];
  if (rec.num_values <= 1) return "";
  const ComponentResult& c = worst_component(r, f);
  if (rec.form == ValueForm::keyed) return std::string(t->component_key(rec, c.component));
  if (rec.form == ValueForm::matrix) {
    const std::size_t cols = t->cols(rec);
    return std::to_string(c.component / cols) + "," + std::to_string(c.component % cols);
  }
  return std::to_string(c.component);
}

const char* color_of(Status s) {
  switch (s) {
    case Status::pass:
    case Status::zero_match: return "\033[32m";
    case Status::waived: return "\033[34m";
    case Status::minor: return "\033[33m";
    case Status::missing: return "\033[90m";
    default: return "\033[31m";
  }
}

std::string pad(std::string s, std::size_t width) {
  if (s.size() < width) s.append(width - s.size(), ' ');
  return s;
}

std::string upstream_text(const DiffResult& r) {
  std::string out;
  for (std::size_t i : r.upstream) {
    const FieldResult& u = r.fields[i];
    if (!out.empty()) out += ", ";
    out += r.field_label(u) + " " + std::string(status_name(u.status));
  }
  return out.empty() ? "(none: it is the first field both traces have)" : out;
}

}  // namespace

std::string diff_summary_line(const DiffResult& r) {
  std::string s;
  if (r.verdict() == DiffVerdict::not_compared) {
    s += "NOT COMPARED: " + std::to_string(r.num_compared) + " field" + (r.num_compared == 1 ? "" : "s") +
         " present on both sides, at least " + std::to_string(r.min_compared) +
         " needed: this is no agreement (check the tags, the aliases, --fields)\n";
  }
  if (r.num_non_finite) {
    s += "non-finite values: " + std::to_string(r.num_non_finite) + " component" + (r.num_non_finite == 1 ? "" : "s") +
         " with NaN or inf on either side (NON_FINITE)\n";
  }
  s += "compared " + std::to_string(r.num_compared) + " fields: " +
                  std::to_string(r.num_compared - r.num_divergent - r.num_waived) + " agree, " +
                  std::to_string(r.num_divergent) + " diverge, " + std::to_string(r.num_waived) + " waived; " +
                  std::to_string(r.num_missing) + " on one side only (tolerance " + fmt::format("{:g}", r.tolerance_rel) +
                  ")\n";
  if (r.first_divergence) {
    const FieldResult& f = r.fields[*r.first_divergence];
    s += "first divergence: " + r.field_label(f) + " " + std::string(status_name(f.status)) + " (ref line " +
         std::to_string(r.ref_line(f)) + ", test line " + std::to_string(r.test_line(f)) +
         ", max |rel delta| " + fmt::format("{:.3e}", f.max_abs_rel) + ")\n";
    s += "just upstream: " + upstream_text(r) + "\n";
  } else {
    s += "first divergence: none\n";
  }
  return s;
}

std::string diff_to_json(const DiffResult& r) {
  json doc;
  doc["tool"] = "nbtrace diff";
  doc["version"] = std::string(version());
  doc["ref"] = r.ref->path();
  doc["test"] = r.test->path();
  doc["ref_tag"] = r.ref->tag();
  doc["test_tag"] = r.test->tag();
  doc["tolerance_rel"] = r.tolerance_rel;
  doc["verdict"] = std::string(verdict_name(r.verdict()));
  doc["min_compared"] = r.min_compared;
  if (r.first_divergence) {
    const FieldResult& f = r.fields[*r.first_divergence];
    doc["first_divergence"] = std::string(r.name(f));
    json detail;
    detail["label"] = r.field_label(f);
    detail["status"] = std::string(status_name(f.status));
    detail["ref_line"] = r.ref_line(f);
    detail["test_line"] = r.test_line(f);
    detail["max_abs_rel_delta"] = number_or_null(f.max_abs_rel);
    json up = json::array();
    for (std::size_t i : r.upstream) {
      const FieldResult& u = r.fields[i];
      up.push_back({{"label", r.field_label(u)}, {"status", std::string(status_name(u.status))},
                    {"max_abs_rel_delta", number_or_null(u.max_abs_rel)}});
    }
    detail["upstream"] = up;
    doc["first_divergence_detail"] = detail;
  } else {
    doc["first_divergence"] = nullptr;
  }
  doc["num_divergent"] = r.num_divergent;
  doc["num_divergent_components"] = r.num_divergent_components;
  doc["num_compared"] = r.num_compared;
  doc["num_missing"] = r.num_missing;
  doc["num_waived"] = r.num_waived;
  doc["num_non_finite"] = r.num_non_finite;
  doc["unused_waivers"] = r.unused_waivers;
  json fields = json::array();
  for (const FieldResult& f : r.fields) {
    const auto coords = r.loop_coords(f);
    json loop = json::object();
    for (const auto& [k, v] : coords) loop[k] = v;
    const Trace* t = f.ref_record >= 0 ? r.ref : r.test;
    const Record& rec = t->records()[static_cast<std::size_t>(f.ref_record >= 0 ? f.ref_record : f.test_record)];
    for (std::uint32_t i = 0; i < f.num_components; ++i) {
      const ComponentResult& c = r.components[f.first_component + i];
      json e;
      e["name"] = std::string(r.name(f));
      e["component"] = c.component;
      if (rec.form == ValueForm::keyed) e["component_key"] = std::string(t->component_key(rec, c.component));
      e["occurrence"] = f.occurrence;
      e["loop"] = loop;
      if (rec.form == ValueForm::text || rec.form == ValueForm::marker) {
        e["ref"] = f.ref_record >= 0 ? json(value_text(r, f, true)) : json(nullptr);
        e["test"] = f.test_record >= 0 ? json(value_text(r, f, false)) : json(nullptr);
      } else {
        // A value the side has is shown, non-finite ones as "nan"/"inf"/"-inf".
        e["ref"] = f.ref_record >= 0 ? number_or_text(r.ref_value(c)) : json(nullptr);
        e["test"] = f.test_record >= 0 ? number_or_text(r.test_value(c)) : json(nullptr);
      }
      e["abs_delta"] = number_or_null(r.abs_delta(c));
      e["rel_delta"] = number_or_null(c.rel_delta);
      const std::uint64_t ulps = r.ulps(c);
      e["ulps"] = ulps == std::numeric_limits<std::uint64_t>::max() ? json(nullptr) : json(ulps);
      e["status"] = std::string(status_name(c.status));
      if (c.waiver >= 0) e["underlying_status"] = std::string(status_name(c.underlying));
      e["ref_line"] = r.ref_line(f);
      e["test_line"] = r.test_line(f);
      fields.push_back(std::move(e));
    }
  }
  doc["fields"] = std::move(fields);
  return doc.dump(2) + "\n";
}

std::string diff_to_markdown(const DiffResult& r) {
  std::string md;
  md += "# Trace diff: " + r.test->path() + " vs " + r.ref->path() + "\n\n";
  md += "- Reference: `" + r.ref->path() + "` (TRACE_" + r.ref->tag() + ")\n";
  md += "- Test: `" + r.test->path() + "` (TRACE_" + r.test->tag() + ")\n";
  md += "- Verdict: **" + std::string(verdict_name(r.verdict())) + "**" +
        (r.verdict() == DiffVerdict::not_compared
             ? " (" + std::to_string(r.num_compared) + " fields on both sides, at least " + std::to_string(r.min_compared) +
                   " needed)"
             : std::string()) +
        "\n";
  md += "- Tolerance: " + fmt::format("{:g}", r.tolerance_rel) + " relative\n";
  md += "- Fields compared: " + std::to_string(r.num_compared) + "; divergent: " + std::to_string(r.num_divergent) +
        "; waived: " + std::to_string(r.num_waived) + "; on one side only: " + std::to_string(r.num_missing) + "\n\n";
  md += "## First divergence\n\n";
  if (r.first_divergence) {
    const FieldResult& f = r.fields[*r.first_divergence];
    const ComponentResult& c = worst_component(r, f);
    md += "**" + r.field_label(f) + "** — " + std::string(status_name(f.status)) + " (reference line " +
          std::to_string(r.ref_line(f)) + ", test line " + std::to_string(r.test_line(f)) + ")\n\n";
    md += "- worst component: " + (component_text(r, f).empty() ? std::string("scalar") : component_text(r, f)) +
          ", ref `" + format_double(r.ref_value(c)) + "`, test `" + format_double(r.test_value(c)) + "`, rel Δ " +
          rel_text(c.rel_delta) + "\n";
    md += "- just upstream: " + upstream_text(r) + "\n\n";
  } else {
    md += "None: every common field agrees within tolerance.\n\n";
  }
  md += "## Fields\n\n| Field | Comp | Reference | Test | max rel Δ | ULPs | Status |\n";
  md += "|---|---|---|---|---|---|---|\n";
  for (const FieldResult& f : r.fields) {
    if (f.ref_record < 0 || f.test_record < 0) continue;
    md += "| " + r.field_label(f) + " | " + component_text(r, f) + " | " + value_text(r, f, true) + " | " +
          value_text(r, f, false) + " | " + (f.max_abs_rel > 0 ? fmt::format("{:.3e}", f.max_abs_rel) : "0") + " | " +
          std::to_string(f.max_ulps) + " | " + std::string(status_name(f.status)) + " |\n";
  }
  if (r.num_missing) {
    md += "\n## On one side only\n\n";
    for (const FieldResult& f : r.fields) {
      if (f.ref_record >= 0 && f.test_record >= 0) continue;
      md += "- " + r.field_label(f) + " (" + (f.ref_record >= 0 ? "reference" : "test") + " only)\n";
    }
  }
  if (!r.unused_waivers.empty()) {
    md += "\n## Waivers that matched no divergence\n\n";
    for (const std::string& w : r.unused_waivers) md += "- " + w + "\n";
  }
  return md;
}

std::string diff_to_table(const DiffResult& r, const TableOptions& opt) {
  std::size_t w_name = 5;
  for (const FieldResult& f : r.fields) w_name = std::max(w_name, r.field_label(f).size());
  w_name = std::min<std::size_t>(w_name, 48);
  std::string out = pad("field", w_name) + "  " + pad("comp", 5) + "  " + pad("reference", 20) + "  " +
                    pad("test", 20) + "  " + pad("rel delta", 11) + "  " + pad("ulps", 10) + "  status\n";
  for (const FieldResult& f : r.fields) {
    const bool both = f.ref_record >= 0 && f.test_record >= 0;
    if (!both && !opt.show_missing) continue;
    if (opt.only_divergent && !is_divergence(f.status)) continue;
    const ComponentResult& c = worst_component(r, f);
    std::string label = r.field_label(f);
    if (label.size() > w_name) label = label.substr(0, w_name - 1) + "~";
    std::string ref = value_text(r, f, true);
    std::string test = value_text(r, f, false);
    if (ref.size() > 20) ref = ref.substr(0, 19) + "~";
    if (test.size() > 20) test = test.substr(0, 19) + "~";
    const std::uint64_t u = r.ulps(c);
    const std::string ulps =
        u == std::numeric_limits<std::uint64_t>::max() ? "-" : (u > 9999999999ULL ? ">1e10" : std::to_string(u));
    std::string status(status_name(f.status));
    if (opt.color) status = std::string(color_of(f.status)) + status + "\033[0m";
    out += pad(label, w_name) + "  " + pad(component_text(r, f), 5) + "  " + pad(ref, 20) + "  " + pad(test, 20) +
           "  " + pad(rel_text(c.rel_delta), 11) + "  " + pad(ulps, 10) + "  " + status + "\n";
  }
  out += "\n" + diff_summary_line(r);
  return out;
}

}  // namespace nbtrace
