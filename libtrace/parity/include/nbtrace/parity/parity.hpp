#pragma once
// nbparity run: the parity engine on two programs with the same arguments,
// kept as one sealed evidence bundle (images, traces, diffs, metrics.json,
// summary.md). Batch parity jobs write the same bundle.
#include <filesystem>
#include <functional>
#include <iosfwd>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <vector>

#include "nbtrace/parity/engine.hpp"
#include "nbtrace/trace/policy.hpp"
#include "nbtrace/trace/trace.hpp"

namespace nbtrace {

/// Relative tolerance of parity trace diffs when nothing else sets one.
inline constexpr double kDefaultTraceTolerance = 1e-9;

/// Thresholds of a parity check: a matrix case, a batch parity job.
struct CaseThresholds {
  ImageThresholds image;
  double trace_tolerance = kDefaultTraceTolerance;
  std::string mode = "c-parity";  ///< nbsim mode for the test side
  std::vector<Waiver> waivers;
};

/// Reads thresholds from a JSON object (the keys of CaseThresholds, as in a
/// matrix cases file); keys in `other_keys` are left to the caller, any
/// other key throws InputError `where: unknown key`.
void read_case_thresholds(const nlohmann::json& j, CaseThresholds& t, const std::string& where,
                          const std::vector<std::string>& other_keys);

struct ParityRunOptions {
  std::string tool;               ///< the tool running it ("nbparity"), recorded in env.json; required
  std::string ref_bin;            ///< reference program (e.g. nanoBragg.c)
  std::string test_bin = "nbsim"; ///< program under test ("nbsim": the one beside this tool)
  std::string mode;               ///< adds -mode MODE to nbsim's arguments (spec, c-parity); empty: none
  std::vector<TracedPixel> pixels;  ///< pixels to trace (slow, fast)
  std::size_t auto_pixels = 0;    ///< also trace the K pixels with the largest |Δ|
  std::string bundle_dir;         ///< default: parity/<UTC id>
  /// Relative tolerance of the trace diffs; wins over the policy file's
  /// tolerance_rel. Neither: kDefaultTraceTolerance.
  std::optional<double> trace_tolerance;
  std::string tolerances_file;    ///< policy (tolerance_rel, abs_floor, overrides, waivers, aliases) for the trace diffs
  std::optional<double> correlation_min;  ///< image verdict threshold
  /// Every image threshold, trace tolerance and waiver at once (a batch
  /// parity job); when set, overrides mode, trace_tolerance and correlation_min.
  std::optional<CaseThresholds> thresholds;
  std::optional<image::Roi> roi;
  std::vector<std::string> args;  ///< simulator arguments, forwarded to both
  std::vector<std::string> test_extra_args;  ///< appended to the test side's arguments only (device, threads)
  std::vector<std::string> argv;  ///< this command line, recorded in commands.txt
  /// Called with the bundle's folder once its files are written, just before
  /// it is sealed: the tools add their report.html here (nbtrace::report).
  std::function<void(const std::filesystem::path& bundle)> before_seal;
};

/// A parity run kept as a sealed bundle.
struct ParityBundle {
  std::filesystem::path dir;
  std::string id;
  ParityResult result;
};

/// Runs the engine on both programs and writes the bundle: images, stdout
/// and stderr of each side, traces/, diffs/, metrics.json, summary.md, the
/// commands.txt entry; seals it. Notes about the bundle folder go to `err`.
ParityBundle run_parity(const ParityRunOptions& opt, const ParityObserver& observer, std::ostream& err);

}  // namespace nbtrace
