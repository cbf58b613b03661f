// nbtrace diff REF TEST: every common field, every component.
#include <unistd.h>

#include <cstdlib>
#include <iostream>
#include <memory>
#include <optional>

#include "commands.hpp"
#include "nbtrace/base/error.hpp"
#include "nbtrace/base/files.hpp"
#include "nbtrace/trace/diff.hpp"
#include "nbtrace/trace/report.hpp"

namespace {

struct DiffCommandOptions {
  std::string ref;
  std::string test;
  std::string ref_tag;   ///< empty: auto-detect
  std::string test_tag;  ///< empty: auto-detect
  std::optional<double> tolerance_rel;  ///< --tolerance (wins over the policy file)
  std::optional<double> abs_floor;
  std::string tolerances_file;
  std::vector<std::string> aliases;
  bool no_builtin_aliases = false;
  std::vector<std::string> field_globs;
  std::string json_out;
  std::string md_out;
  std::string color = "auto";
  bool only_divergent = false;
  bool show_missing = false;
  bool quiet = false;
  bool allow_malformed = false;
};

/// Prints the table, writes --json/--md. 0 when every common field agrees,
/// 3 on a divergence, 4 when too little was compared to agree.
int run_diff(const DiffCommandOptions& opt) {
  using namespace nbtrace;
  DiffOptions d;
  if (!opt.tolerances_file.empty()) apply_policy_file(load_policy_file(opt.tolerances_file), d);
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

  const Trace ref = load_trace_checked(opt.ref, opt.ref_tag, opt.allow_malformed, std::cerr);
  const Trace test = load_trace_checked(opt.test, opt.test_tag, opt.allow_malformed, std::cerr);
  const DiffResult result = diff_traces(ref, test, d);

  AtomicFileSet files;
  if (!opt.json_out.empty()) files.add(opt.json_out, diff_to_json(result));
  if (!opt.md_out.empty()) files.add(opt.md_out, diff_to_markdown(result));
  files.commit();

  if (!opt.quiet) {
    TableOptions t;
    t.color = opt.color == "always" || (opt.color == "auto" && ::isatty(STDOUT_FILENO) && !std::getenv("NO_COLOR"));
    t.only_divergent = opt.only_divergent;
    t.show_missing = opt.show_missing;
    std::cout << diff_to_table(result, t);
  } else {
    std::cout << diff_summary_line(result);
  }
  if (!opt.json_out.empty()) std::cout << "json: " << opt.json_out << "\n";
  if (!opt.md_out.empty()) std::cout << "markdown: " << opt.md_out << "\n";
  switch (result.verdict()) {
    case DiffVerdict::pass: return exit_code::ok;
    case DiffVerdict::divergent: return exit_code::divergence;
    case DiffVerdict::not_compared: return exit_code::check_failed;
  }
  return exit_code::failure;
}

}  // namespace

std::function<int()> setup_diff(CLI::App& app) {
  auto opt = std::make_shared<DiffCommandOptions>();
  CLI::App* cmd = app.add_subcommand(
      "diff", "Compare TEST against REF field by field (every common field, every component).");
  cmd->add_option("REF", opt->ref, "reference trace log (e.g. nanoBragg.c's TRACE_C output)")->required();
  cmd->add_option("TEST", opt->test, "trace log to check against it")->required();
  cmd->add_option("--tolerance", opt->tolerance_rel, "relative tolerance for PASS (default 1e-6)");
  cmd->add_option("--abs-floor", opt->abs_floor, "absolute difference that always passes (default 0: off)");
  cmd->add_option("--tolerances", opt->tolerances_file,
                  "JSON policy: tolerance_rel, abs_floor, min_compared_fields, non_finite, per-field overrides, waivers, aliases");
  cmd->add_option("--alias", opt->aliases, "map a field name: test_name=reference_name (repeatable)");
  cmd->add_flag("--no-builtin-aliases", opt->no_builtin_aliases, "do not apply the built-in alias table");
  cmd->add_option("--fields", opt->field_globs, "compare only fields matching these globs (repeatable)");
  cmd->add_option("--ref-tag", opt->ref_tag, "tag of REF lines, e.g. C (default: detected)");
  cmd->add_option("--test-tag", opt->test_tag, "tag of TEST lines, e.g. PY (default: detected)");
  cmd->add_option("--json", opt->json_out, "write the per-component results as JSON");
  cmd->add_option("--md", opt->md_out, "write a Markdown report");
  cmd->add_option("--color", opt->color, "colour: auto (on a terminal), always, never")
      ->check(CLI::IsMember({"auto", "always", "never"}));
  cmd->add_flag("--only-divergent", opt->only_divergent, "show only divergent fields in the table");
  cmd->add_flag("--show-missing", opt->show_missing, "list fields present on one side only in the table");
  cmd->add_flag("-q,--quiet", opt->quiet, "print only the verdict, not the table");
  cmd->add_flag("--allow-malformed", opt->allow_malformed, "warn about malformed TRACE lines instead of failing");
  return [=] { return run_diff(*opt); };
}
