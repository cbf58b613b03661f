// nbtrace attribute REF TEST: explain the I_before_scaling gap of one pixel.
#include <array>
#include <filesystem>
#include <iostream>
#include <memory>

#include <fmt/format.h>

#include "commands.hpp"
#include "nbtrace/base/error.hpp"
#include "nbtrace/base/files.hpp"
#include "nbtrace/base/paths.hpp"
#include "nbtrace/trace/attribute.hpp"

namespace {

struct AttributeCommandOptions {
  std::string ref;
  std::string test;
  std::string ref_tag;
  std::string test_tag;
  std::string ref_label;   ///< default: the tag
  std::string test_label;
  std::vector<int> cells;  ///< Na Nb Nc, or empty to infer
  std::vector<std::string> aliases;
  std::string md_out;
  std::string json_out;
  std::string svg_out;     ///< default: beside --md, same stem
  bool allow_malformed = false;
};

/// Prints the narrative and the ranked hypotheses, writes --md/--json/--svg. Returns 0.
int run_attribute(const AttributeCommandOptions& opt) {
  using namespace nbtrace;
  namespace fs = std::filesystem;
  std::ostream& out = std::cout;
  AttributionOptions a;
  for (const std::string& spec : opt.aliases) a.aliases.add_spec(spec);
  if (!opt.cells.empty()) {
    if (opt.cells.size() != 3 || opt.cells[0] < 1 || opt.cells[1] < 1 || opt.cells[2] < 1) {
      throw UsageError("--cells takes three positive integers: Na Nb Nc");
    }
    a.cells = std::array<int, 3>{opt.cells[0], opt.cells[1], opt.cells[2]};
  }
  const Trace ref = load_trace_checked(opt.ref, opt.ref_tag, opt.allow_malformed, std::cerr);
  const Trace test = load_trace_checked(opt.test, opt.test_tag, opt.allow_malformed, std::cerr);
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
    svg_ref = opt.md_out.empty() ? fs::path(svg_path).filename().string()
                                 : relative_path(svg_path, fs::path(opt.md_out).parent_path());
  }
  if (!opt.md_out.empty()) files.add(opt.md_out, attribution_markdown(result, svg_ref));
  if (!opt.json_out.empty()) files.add(opt.json_out, attribution_json(result));
  files.commit();

  out << result.narrative << "\n\nhypotheses:\n";
  int rank = 1;
  for (const Hypothesis& h : result.hypotheses) {
    out << fmt::format("  {}. {} (score {:.3f}): {}\n", rank++, h.id, h.score, h.title);
  }
  if (!opt.md_out.empty()) out << "markdown: " << opt.md_out << "\n";
  if (!svg_path.empty()) out << "chart: " << svg_path << "\n";
  if (!opt.json_out.empty()) out << "json: " << opt.json_out << "\n";
  return exit_code::ok;
}

}  // namespace

std::function<int()> setup_attribute(CLI::App& app) {
  auto opt = std::make_shared<AttributeCommandOptions>();
  CLI::App* cmd = app.add_subcommand(
      "attribute",
      "Explain the I_before_scaling gap between two traces of one pixel: per-step terms F_cell^2*F_latt^2, each "
      "step's share of the gap, a log-ratio decomposition, lattice factors recomputed from hkl, ranked hypotheses.");
  cmd->add_option("REF", opt->ref, "reference trace (e.g. nanoBragg.c, with TRACE_C_PHI per-step lines)")->required();
  cmd->add_option("TEST", opt->test, "trace to explain against it")->required();
  cmd->add_option("--md", opt->md_out, "write a Markdown report (and an SVG chart beside it)");
  cmd->add_option("--json", opt->json_out, "write the data as JSON (gap_rel, steps with share, hypotheses)");
  cmd->add_option("--svg", opt->svg_out, "where to write the chart (default: the --md path with .svg)");
  cmd->add_option("--cells", opt->cells, "crystal size Na Nb Nc for the lattice recomputation (default: inferred)")
      ->expected(3);
  cmd->add_option("--ref-tag", opt->ref_tag, "tag of REF lines (default: detected)");
  cmd->add_option("--test-tag", opt->test_tag, "tag of TEST lines (default: detected)");
  cmd->add_option("--ref-label", opt->ref_label, "name of the reference in reports (default: its tag)");
  cmd->add_option("--test-label", opt->test_label, "name of the test side in reports (default: its tag)");
  cmd->add_option("--alias", opt->aliases, "map a field name: test_name=reference_name (repeatable)");
  cmd->add_flag("--allow-malformed", opt->allow_malformed, "warn about malformed TRACE lines instead of failing");
  return [=] { return run_attribute(*opt); };
}
