#include <unistd.h>

#include <cstdlib>
#include <iostream>
#include <memory>

#include "commands.hpp"
#include "nbtrace/commands.hpp"

std::function<int()> setup_diff(CLI::App& app) {
  auto opt = std::make_shared<nbtrace::DiffCommandOptions>();
  auto color = std::make_shared<std::string>("auto");
  auto tol = std::make_shared<double>(0);
  auto floor = std::make_shared<double>(0);
  CLI::App* cmd = app.add_subcommand(
      "diff", "Compare TEST against REF field by field (every common field, every component).");
  cmd->add_option("REF", opt->ref, "reference trace log (e.g. nanoBragg.c's TRACE_C output)")->required();
  cmd->add_option("TEST", opt->test, "trace log to check against it")->required();
  auto* t = cmd->add_option("--tolerance", *tol, "relative tolerance for PASS (default 1e-6)");
  auto* f = cmd->add_option("--abs-floor", *floor, "absolute difference that always passes (default 0: off)");
  cmd->add_option("--tolerances", opt->tolerances_file,
                  "JSON policy: tolerance_rel, abs_floor, per-field overrides, waivers, aliases");
  cmd->add_option("--alias", opt->aliases, "map a field name: test_name=reference_name (repeatable)");
  cmd->add_flag("--no-builtin-aliases", opt->no_builtin_aliases, "do not apply the built-in alias table");
  cmd->add_option("--fields", opt->field_globs, "compare only fields matching these globs (repeatable)");
  cmd->add_option("--ref-tag", opt->ref_tag, "tag of REF lines, e.g. C (default: detected)");
  cmd->add_option("--test-tag", opt->test_tag, "tag of TEST lines, e.g. PY (default: detected)");
  cmd->add_option("--json", opt->json_out, "write the per-component results as JSON");
  cmd->add_option("--md", opt->md_out, "write a Markdown report");
  cmd->add_option("--color", *color, "colour: auto (on a terminal), always, never")
      ->check(CLI::IsMember({"auto", "always", "never"}));
  cmd->add_flag("--only-divergent", opt->only_divergent, "show only divergent fields in the table");
  cmd->add_flag("--show-missing", opt->show_missing, "list fields present on one side only in the table");
  cmd->add_flag("-q,--quiet", opt->quiet, "print only the verdict, not the table");
  cmd->add_flag("--allow-malformed", opt->allow_malformed, "warn about malformed TRACE lines instead of failing");
  return [=] {
    if (t->count()) opt->tolerance_rel = *tol;
    if (f->count()) opt->abs_floor = *floor;
    opt->color = *color == "always" || (*color == "auto" && ::isatty(STDOUT_FILENO) && !std::getenv("NO_COLOR"));
    return nbtrace::run_trace_diff(*opt, std::cout, std::cerr);
  };
}
