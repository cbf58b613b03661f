#pragma once
// nbparity explain: which documented quirks of nanoBragg.c (the quirk table
// of nbsim/quirks.hpp) explain the gap between a port's output and
// nanoBragg.c's. nbsim models both sides: it runs with `-mode spec` plus
// quirk sets (each quirk alone, then a greedy search towards each side),
// each run is compared with the port and with C, and an explanation is a
// pair of sets (one modelling the port, one modelling C) whose modelled
// gap reproduces the real one. docs/explain.md defines the search, the
// share and the JSON format.
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace nbtrace::explain {

/// What nbparity explain is given.
struct ExplainOptions {
  std::vector<std::string> port_traces;  ///< the port's traces, one or more pixels each
  std::string port_image;                ///< the port's float image (any format parity reads)
  std::vector<std::string> c_traces;     ///< nanoBragg.c's traces of the same pixels
  std::string c_image;                   ///< nanoBragg.c's float image
  std::string ref_bin;                   ///< or: run this nanoBragg for C's traces (and image)
  std::vector<std::string> args;         ///< the nanoBragg command line (after `--`)
  std::string cwd;                       ///< where its input files are (empty: the current folder)
  std::string nbsim;                     ///< the model (empty: the nbsim beside this tool)
  /// An explanation needs at least this share of the gap (docs/explain.md).
  double threshold = 0.9;
  std::string json_out, md_out, bundle_dir;
  std::vector<std::string> argv;  ///< the command line, for the bundle's commands.txt
  std::string tool = "nbparity";
};

/// One traced pixel's I_before_scaling on each side.
struct PixelGap {
  int slow = 0, fast = 0;
  double port = 0;  ///< I_before_scaling of the port's trace
  double c = 0;     ///< of nanoBragg.c's
};

/// One side's trace against one nbsim run (nbtrace diff's field-by-field call).
struct TraceMatch {
  std::size_t compared = 0;  ///< fields present in both traces
  std::size_t agree = 0;     ///< of those, within the tolerance
  /// (I_set - I_side) / I_side per traced pixel, in PixelGap order.
  std::vector<double> i_rel_gap;
};

struct ImageMatch {
  std::optional<double> correlation;
  std::optional<double> sum_ratio;  ///< set / side
};

/// One nbsim run with a quirk set, against both sides.
struct SetRun {
  std::vector<std::string> quirks;  ///< ids on over -mode spec, table order
  std::vector<double> i_before_scaling;  ///< per traced pixel
  std::optional<TraceMatch> vs_port_trace, vs_c_trace;
  std::optional<ImageMatch> vs_port_image, vs_c_image;
  double mismatch_port = 0;  ///< the search's distance to the port (docs/explain.md)
  double mismatch_c = 0;     ///< and to C
};

/// A pair of sets and the share of the port-vs-C gap its modelled gap makes.
struct Explanation {
  std::vector<std::string> quirks;       ///< the ids the two sets differ by, table order
  std::vector<std::string> port_quirks;  ///< the set modelling the port
  std::vector<std::string> c_quirks;     ///< the set modelling C
  double share = 0;                      ///< the smaller of the shares below that exist
  std::optional<double> share_i_before_scaling;
  std::optional<double> share_image;
};

/// Where the port's trace first leaves C's, as nbtrace diff names it.
struct FirstDivergence {
  int slow = 0, fast = 0;
  std::string field;  ///< label, e.g. "pix0_vector_meters"
  std::string status; ///< CRITICAL, ...
  double max_abs_rel = 0;
};

struct ExplainResult {
  /// explained (an explanation reaches the threshold), unexplained, or
  /// no_gap (the port equals C in everything compared).
  std::string verdict;
  double threshold = 0.9;
  std::vector<PixelGap> pixels;
  std::optional<ImageMatch> port_vs_c_image;
  std::vector<std::string> port_set;  ///< the greedy search's set for the port
  std::vector<std::string> c_set;     ///< and for C
  std::vector<Explanation> explanations;  ///< best first
  std::vector<SetRun> runs;               ///< every set run, in the order run
  std::vector<std::string> inert;         ///< quirks whose run equals spec's in everything compared
  std::optional<FirstDivergence> first_divergence;
  /// With C's image: the OpenMP thread count of nanoBragg.c that nbsim
  /// reproduces C's image with, bit for bit, under the C set (1: the single
  /// thread order; 2..64 through -c_threads). Unset: none does, or it was
  /// not checked; c_threads_note says which and why.
  std::optional<int> c_threads;
  std::string c_threads_note;
  /// 0 explained or no gap, 3 unexplained (nbtrace/base/error.hpp).
  int exit_code() const;
};

void to_json(nlohmann::json& j, const PixelGap& v);
void from_json(const nlohmann::json& j, PixelGap& v);
void to_json(nlohmann::json& j, const TraceMatch& v);
void from_json(const nlohmann::json& j, TraceMatch& v);
void to_json(nlohmann::json& j, const ImageMatch& v);
void from_json(const nlohmann::json& j, ImageMatch& v);
void to_json(nlohmann::json& j, const SetRun& v);
void from_json(const nlohmann::json& j, SetRun& v);
void to_json(nlohmann::json& j, const Explanation& v);
void from_json(const nlohmann::json& j, Explanation& v);
void to_json(nlohmann::json& j, const FirstDivergence& v);
void from_json(const nlohmann::json& j, FirstDivergence& v);
void to_json(nlohmann::json& j, const ExplainResult& v);
void from_json(const nlohmann::json& j, ExplainResult& v);

/// explain.md: the verdict, the ranked explanations, the runs.
std::string explain_markdown(const ExplainResult& r);
/// report.html of an explain bundle: the verdict, the ranked explanations
/// as a bar chart (SVG) and a table, the traced pixels, the thread count,
/// the first divergence and every run; self-contained (docs/report.md).
std::string explain_html(const ExplainResult& r);
/// The lines nbparity explain prints.
std::string explain_summary(const ExplainResult& r);

/// nbsim or the reference program failed or could not start (the tool's
/// exit 2, nbtrace/base/error.hpp).
class ProgramRunFailed : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// Runs the search and writes --json, --md and the bundle. Throws
/// UsageError (nothing to compare), InputError (an unreadable trace or
/// image, exit 5), ProgramRunFailed, and what the process runner throws.
ExplainResult run_explain(const ExplainOptions& options);

}  // namespace nbtrace::explain
