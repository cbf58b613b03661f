#pragma once
// compare_scaling_traces: the options and the two ways it runs (plain
// outputs beside --out, or a recorded bundle run with --bundle).
#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

#include "nbtrace/trace/trace.hpp"

struct CompareScalingOptions {
  std::string c_trace;
  std::string test_trace;
  std::string test_label = "PyTorch";  ///< "PyTorch" for --py, "C++" for --cpp
  std::string out_summary;             ///< path of summary.md; metrics.json and run_metadata.json go beside it
  double tolerance_rel = 1e-6;
  std::optional<nbtrace::TracedPixel> pixel;  ///< --pixel S F (else from the trace)
  bool fail_on_divergence = false;
  bool allow_malformed = false;
  std::vector<std::string> aliases;    ///< extra from=to aliases
  std::vector<std::string> argv;       ///< the command line, recorded in run_metadata.json
  /// --bundle DIR (instead of out_summary): outputs go into the evidence
  /// bundle, traces from outside are copied in, and the run is appended to
  /// its commands.txt.
  std::string bundle_dir;
  bool seal = false;                   ///< --seal: seal the bundle afterwards
  std::string bundle_id;               ///< set by the bundle run: recorded in run_metadata.json
};

/// Writes summary.md, metrics.json, run_metadata.json (all or none) and
/// prints where they are. Returns 0, or 3 with fail_on_divergence when a
/// factor is not PASS. Throws InputError (5) for unreadable or malformed
/// inputs before anything is written.
int run_compare_scaling(const CompareScalingOptions& opt, std::ostream& out, std::ostream& err);

/// --bundle DIR [--seal]: copies traces from outside into the bundle, runs
/// run_compare_scaling there, appends the run to commands.txt (failures too,
/// with their exit code) and seals when asked.
int run_compare_scaling_in_bundle(const CompareScalingOptions& opt, std::ostream& out, std::ostream& err);
