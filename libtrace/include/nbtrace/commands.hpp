#pragma once
// The library entry points behind the command-line tools: each takes a plain
// options struct, does the whole job and returns the process exit code.
// Tools only parse arguments into these structs and map exceptions.
#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

#include "nbtrace/trace.hpp"

namespace nbtrace {

struct CompareScalingOptions {
  std::string c_trace;
  std::string test_trace;
  std::string test_label = "PyTorch";  ///< "PyTorch" for --py, "C++" for --cpp
  std::string out_summary;             ///< path of summary.md; metrics.json and run_metadata.json go beside it
  double tolerance_rel = 1e-6;
  std::optional<TracedPixel> pixel;    ///< --pixel S F (else from the trace)
  bool fail_on_divergence = false;
  bool allow_malformed = false;
  std::vector<std::string> aliases;    ///< extra from=to aliases
  std::vector<std::string> argv;       ///< the command line, recorded in run_metadata.json
  /// --bundle DIR (instead of out_summary): outputs go into the evidence
  /// bundle, traces from outside are copied in, and the run is appended to
  /// its commands.txt (nbtrace/bundle.hpp).
  std::string bundle_dir;
  bool seal = false;                   ///< --seal: seal the bundle afterwards
  std::string bundle_id;               ///< set by the bundle run: recorded in run_metadata.json
};

/// compare_scaling_traces: writes summary.md, metrics.json, run_metadata.json
/// (all or none) and prints where they are. Returns 0, or 3 with
/// fail_on_divergence when a factor is not PASS. Throws InputError (5) for
/// unreadable or malformed inputs before anything is written.
int run_compare_scaling(const CompareScalingOptions& opt, std::ostream& out, std::ostream& err);

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
  bool color = false;
  bool only_divergent = false;
  bool show_missing = false;
  bool quiet = false;
  bool allow_malformed = false;
};

/// nbtrace diff: prints the table, writes --json/--md. Returns 0 when every
/// common field agrees, 3 on a divergence.
int run_trace_diff(const DiffCommandOptions& opt, std::ostream& out, std::ostream& err);

struct AttributeCommandOptions {
  std::string ref;
  std::string test;
  std::string ref_tag;
  std::string test_tag;
  std::string ref_label;   ///< default: "C" for TRACE_C, else the tag
  std::string test_label;
  std::vector<int> cells;  ///< Na Nb Nc, or empty to infer
  std::vector<std::string> aliases;
  std::string md_out;
  std::string json_out;
  std::string svg_out;     ///< default: beside --md, same stem
  bool allow_malformed = false;
};

/// nbtrace attribute: explains the I_before_scaling gap; prints the
/// narrative and ranked hypotheses, writes --md/--json/--svg. Returns 0.
int run_trace_attribute(const AttributeCommandOptions& opt, std::ostream& out, std::ostream& err);

struct ShowCommandOptions {
  std::string log;
  std::string tag;
  bool json = false;
};

/// nbtrace show: the parsed records of a log, one per line, with counts.
/// Returns 0, or 5 when the log has malformed lines (they are listed).
int run_trace_show(const ShowCommandOptions& opt, std::ostream& out, std::ostream& err);

}  // namespace nbtrace
