#include "nbtrace/commands.hpp"

#include <chrono>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <ostream>

#include "nbtrace/atomic_file.hpp"
#include "nbtrace/attribute.hpp"
#include "nbtrace/bundle.hpp"
#include "nbtrace/diff.hpp"
#include "nbtrace/error.hpp"
#include "nbtrace/numbers.hpp"
#include "nbtrace/report.hpp"
#include "nbtrace/scaling.hpp"
#include "nbtrace/shell.hpp"
#include "nbtrace/version.hpp"

namespace nbtrace {

namespace fs = std::filesystem;

namespace {

/// `path` relative to folder `base` (both made absolute first).
std::string relative_to(const std::string& path, const fs::path& base) {
  std::error_code ec;
  const fs::path abs_path = fs::weakly_canonical(fs::absolute(path), ec);
  const fs::path abs_base = fs::weakly_canonical(fs::absolute(base.empty() ? fs::path(".") : base), ec);
  fs::path rel = abs_path.lexically_relative(abs_base);
  return rel.empty() ? fs::path(path).filename().string() : rel.generic_string();
}

std::string local_iso8601_now() {
  const auto now = std::chrono::system_clock::now();
  const std::time_t t = std::chrono::system_clock::to_time_t(now);
  std::tm tm{};
  localtime_r(&t, &tm);
  char buf[64];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S%z", &tm);
  std::string s(buf);
  // +0200 → +02:00 (ISO 8601 extended form)
  if (s.size() > 4) s.insert(s.size() - 2, ":");
  return s;
}

Trace load_checked(const std::string& path, const std::string& tag, bool allow_malformed, std::ostream& err) {
  Trace t = load_trace(path, ParseOptions{tag});
  if (t.tag().empty()) throw InputError(path + ": no TRACE_<tag> lines found");
  if (!t.diagnostics().empty()) {
    if (!allow_malformed) require_well_formed(t);
    for (const Diagnostic& d : t.diagnostics()) {
      err << "warning: " << path << ":" << d.line << ": " << d.reason << " (line skipped)\n";
    }
  }
  return t;
}

}  // namespace

int run_compare_scaling(const CompareScalingOptions& opt, std::ostream& out, std::ostream& err) {
  if (!opt.bundle_dir.empty()) return bundle::run_compare_scaling_in_bundle(opt, out, err);
  if (!(opt.tolerance_rel >= 0)) throw UsageError("--tolerance must be a non-negative number");
  const Trace c_trace = load_checked(opt.c_trace, "", opt.allow_malformed, err);
  const Trace test_trace = load_checked(opt.test_trace, "", opt.allow_malformed, err);
  AliasTable aliases = AliasTable::builtin();
  for (const std::string& a : opt.aliases) aliases.add_spec(a);

  ScalingComparison cmp = compare_scaling(c_trace, test_trace, opt.tolerance_rel, aliases, opt.test_label);
  std::string pixel_source = cmp.pixel ? "trace" : "";
  if (opt.pixel) {
    if (cmp.pixel && (cmp.pixel->slow != opt.pixel->slow || cmp.pixel->fast != opt.pixel->fast)) {
      err << "warning: --pixel " << opt.pixel->slow << " " << opt.pixel->fast << " differs from the traced pixel ("
          << cmp.pixel->slow << ", " << cmp.pixel->fast << "); reporting --pixel\n";
    }
    cmp.pixel = opt.pixel;
    pixel_source = "--pixel";
  }

  const fs::path summary_path(opt.out_summary);
  const fs::path out_dir = summary_path.parent_path();
  const fs::path metrics_path = out_dir / "metrics.json";
  const fs::path metadata_path = out_dir / "run_metadata.json";

  nlohmann::ordered_json meta;
  meta["timestamp"] = local_iso8601_now();
  meta["tool"] = "compare_scaling_traces";
  meta["tool_version"] = std::string(version());
  meta["git_sha"] = std::string(build_git_sha());
  meta["command"] = shell_join(opt.argv);
  meta["c_trace"] = relative_to(opt.c_trace, out_dir);
  meta["py_trace"] = relative_to(opt.test_trace, out_dir);
  meta["test_label"] = opt.test_label;
  meta["tolerance_rel"] = opt.tolerance_rel;
  meta["pixel"] = cmp.pixel ? nlohmann::ordered_json::array({cmp.pixel->slow, cmp.pixel->fast})
                            : nlohmann::ordered_json(nullptr);
  meta["pixel_source"] = pixel_source.empty() ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(pixel_source);
  meta["outputs"] = {summary_path.filename().string(), "metrics.json"};
  if (!opt.bundle_id.empty()) meta["bundle_id"] = opt.bundle_id;

  AtomicFileSet files;
  files.add(summary_path, scaling_summary_markdown(cmp, relative_to(opt.c_trace, out_dir),
                                                   relative_to(opt.test_trace, out_dir)));
  files.add(metrics_path, scaling_metrics_json(cmp));
  files.add(metadata_path, meta.dump(2) + "\n");
  files.commit();

  out << "Comparison written to " << summary_path.string() << "\n";
  out << "Metrics written to " << metrics_path.string() << "\n";
  out << "Metadata written to " << metadata_path.string() << "\n";
  out << "First divergence: " << (cmp.first_divergence ? cmp.factors[*cmp.first_divergence].name : "None") << "\n";
  out << "Divergent factors: " << cmp.num_divergent << "\n";

  if (opt.fail_on_divergence) {
    for (const ScalingFactor& f : cmp.factors) {
      if (!f.passes) return exit_code::divergence;
    }
  }
  return exit_code::ok;
}

int run_trace_diff(const DiffCommandOptions& opt, std::ostream& out, std::ostream& err) {
  DiffOptions d;
  if (!opt.tolerances_file.empty()) {
    const PolicyFile p = load_policy_file(opt.tolerances_file);
    if (p.tolerance_rel) d.policy.rel = *p.tolerance_rel;
    if (p.abs_floor) d.policy.abs_floor = *p.abs_floor;
    d.policy.overrides = p.overrides;
    d.policy.waivers = p.waivers;
    for (const auto& [from, to] : p.aliases) d.aliases.add(from, to);
  }
  if (opt.no_builtin_aliases) d.aliases = AliasTable{};
  if (opt.tolerance_rel) {
    if (!(*opt.tolerance_rel >= 0)) throw UsageError("--tolerance must be a non-negative number");
    d.policy.rel = *opt.tolerance_rel;
  }
  if (opt.abs_floor) {
    if (!(*opt.abs_floor >= 0)) throw UsageError("--abs-floor must be a non-negative number");
    d.policy.abs_floor = *opt.abs_floor;
  }
  for (const std::string& a : opt.aliases) d.aliases.add_spec(a);
  d.field_globs = opt.field_globs;

  const Trace ref = load_checked(opt.ref, opt.ref_tag, opt.allow_malformed, err);
  const Trace test = load_checked(opt.test, opt.test_tag, opt.allow_malformed, err);
  const DiffResult result = diff_traces(ref, test, d);

  AtomicFileSet files;
  if (!opt.json_out.empty()) files.add(opt.json_out, diff_to_json(result));
  if (!opt.md_out.empty()) files.add(opt.md_out, diff_to_markdown(result));
  files.commit();

  if (!opt.quiet) {
    TableOptions t;
    t.color = opt.color;
    t.only_divergent = opt.only_divergent;
    t.show_missing = opt.show_missing;
    out << diff_to_table(result, t);
  } else {
    out << diff_summary_line(result);
  }
  if (!opt.json_out.empty()) out << "json: " << opt.json_out << "\n";
  if (!opt.md_out.empty()) out << "markdown: " << opt.md_out << "\n";
  return result.num_divergent ? exit_code::divergence : exit_code::ok;
}

int run_trace_attribute(const AttributeCommandOptions& opt, std::ostream& out, std::ostream& err) {
  AttributionOptions a;
  for (const std::string& spec : opt.aliases) a.aliases.add_spec(spec);
  if (!opt.cells.empty()) {
    if (opt.cells.size() != 3 || opt.cells[0] < 1 || opt.cells[1] < 1 || opt.cells[2] < 1) {
      throw UsageError("--cells takes three positive integers: Na Nb Nc");
    }
    a.cells = std::array<int, 3>{opt.cells[0], opt.cells[1], opt.cells[2]};
  }
  const Trace ref = load_checked(opt.ref, opt.ref_tag, opt.allow_malformed, err);
  const Trace test = load_checked(opt.test, opt.test_tag, opt.allow_malformed, err);
  a.ref_label = opt.ref_label.empty() ? ref.tag() : opt.ref_label;
  a.test_label = opt.test_label.empty() ? test.tag() : opt.test_label;
  if (a.ref_label == a.test_label) {
    a.ref_label += " (ref)";
    a.test_label += " (test)";
  }
  const Attribution result = attribute_gap(ref, test, a);

  std::string svg_path = opt.svg_out;
  if (svg_path.empty() && !opt.md_out.empty()) svg_path = fs::path(opt.md_out).replace_extension(".svg").string();
  AtomicFileSet files;
  std::string svg_ref;
  if (!svg_path.empty()) {
    files.add(svg_path, attribution_svg(result));
    svg_ref = opt.md_out.empty() ? fs::path(svg_path).filename().string() : relative_to(svg_path, fs::path(opt.md_out).parent_path());
  }
  if (!opt.md_out.empty()) files.add(opt.md_out, attribution_markdown(result, svg_ref));
  if (!opt.json_out.empty()) files.add(opt.json_out, attribution_json(result));
  files.commit();

  out << result.narrative << "\n\nhypotheses:\n";
  int rank = 1;
  for (const Hypothesis& h : result.hypotheses) {
    char score[32];
    std::snprintf(score, sizeof score, "%.3f", h.score);
    out << "  " << rank++ << ". " << h.id << " (score " << score << "): " << h.title << "\n";
  }
  if (!opt.md_out.empty()) out << "markdown: " << opt.md_out << "\n";
  if (!svg_path.empty()) out << "chart: " << svg_path << "\n";
  if (!opt.json_out.empty()) out << "json: " << opt.json_out << "\n";
  return exit_code::ok;
}

int run_trace_show(const ShowCommandOptions& opt, std::ostream& out, std::ostream& err) {
  const Trace t = load_trace(opt.log, ParseOptions{opt.tag});
  if (opt.json) {
    nlohmann::ordered_json doc;
    doc["path"] = t.path();
    doc["tag"] = t.tag();
    nlohmann::ordered_json recs = nlohmann::ordered_json::array();
    for (const Record& r : t.records()) {
      nlohmann::ordered_json e;
      e["name"] = std::string(t.name(r));
      e["line"] = r.line;
      e["occurrence"] = r.occurrence;
      nlohmann::ordered_json loop = nlohmann::ordered_json::object();
      for (const LoopCoord& c : t.loop(r)) loop[std::string(t.names()[c.name_id])] = c.value;
      e["loop"] = loop;
      if (r.form == ValueForm::text) e["text"] = std::string(r.text);
      nlohmann::ordered_json vals = nlohmann::ordered_json::array();
      for (double v : t.values(r)) vals.push_back(std::isfinite(v) ? nlohmann::ordered_json(v) : nlohmann::ordered_json(format_double(v)));
      e["values"] = vals;
      recs.push_back(std::move(e));
    }
    doc["records"] = std::move(recs);
    out << doc.dump(2) << "\n";
  } else {
    for (const Record& r : t.records()) {
      out << r.line << "\t" << t.label(r) << "\t";
      switch (r.form) {
        case ValueForm::text: out << "text '" << r.text << "'"; break;
        case ValueForm::marker: out << "(marker)"; break;
        default: {
          const auto vals = t.values(r);
          if (r.form == ValueForm::matrix) out << "matrix " << r.rows << "x" << t.cols(r) << " ";
          for (std::size_t i = 0; i < vals.size(); ++i) {
            if (i) out << ' ';
            if (r.form == ValueForm::keyed) out << t.component_key(r, i) << ':';
            out << format_double(vals[i]);
          }
        }
      }
      out << "\n";
    }
  }
  const ParseStats& s = t.stats();
  err << t.path() << ": tag " << (t.tag().empty() ? "(none)" : "TRACE_" + t.tag()) << ", " << s.lines << " lines, "
      << s.trace_lines << " trace lines, " << s.records << " records, " << s.skipped_lines << " skipped, "
      << s.foreign_lines << " other-tag, " << s.config_lines << " TRACE_CONFIG, " << s.malformed_lines
      << " malformed\n";
  for (const TracedPixel& p : t.pixels()) err << "traced pixel: slow " << p.slow << ", fast " << p.fast << "\n";
  for (const Diagnostic& d : t.diagnostics()) err << t.path() << ":" << d.line << ": " << d.reason << "\n";
  if (t.tag().empty()) {
    err << t.path() << ": no TRACE_<tag> lines found\n";
    return exit_code::input;
  }
  return t.diagnostics().empty() ? exit_code::ok : exit_code::input;
}

}  // namespace nbtrace
