#include <iostream>
#include <memory>

#include "commands.hpp"
#include "nbtrace/commands.hpp"

std::function<int()> setup_attribute(CLI::App& app) {
  auto opt = std::make_shared<nbtrace::AttributeCommandOptions>();
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
  return [=] { return nbtrace::run_trace_attribute(*opt, std::cout, std::cerr); };
}
