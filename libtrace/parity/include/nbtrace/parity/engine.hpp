#pragma once
// The parity engine: two sides, each a program to run or the stored outputs
// of one; their images compared; the chosen and the K worst pixels traced on
// both sides; every pair of traces diffed. Every parity caller (nbparity run,
// matrix, demo, batch; nb-compare) states what it wants as a ParityPlan and
// gets a ParityResult; files land where the plan says, so each caller keeps
// its own layout.
#include <cstddef>
#include <filesystem>
#include <functional>
#include <memory>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "nbsim/summary.hpp"
#include "nbtrace/parity/image.hpp"
#include "nbtrace/trace/diff.hpp"
#include "nbtrace/trace/trace.hpp"

namespace nbtrace {

/// Image checks of a parity run (absent: not checked).
struct ImageThresholds {
  std::optional<double> correlation_min;
  std::optional<std::pair<double, double>> sum_ratio;  ///< inclusive range
  std::optional<double> max_abs_diff;                  ///< absolute, image units
  std::optional<double> max_abs_diff_rel;              ///< relative to the reference maximum
  std::optional<double> peaks_matched_min;             ///< matched fraction
  std::optional<double> peaks_max_displacement;        ///< pixels
};

/// The checks that `m` fails: first those it fails whatever the thresholds
/// (image::invalid_checks: "non_finite_ref", "non_finite_test",
/// "nothing_compared"), then those of `t` ("correlation", "sum_ratio",
/// "max_abs_diff", "max_abs_diff_rel", "peaks_matched", "peaks_displacement");
/// max_abs_diff_rel is max |Δ| over the reference maximum.
std::vector<std::string> failed_image_checks(const ImageThresholds& t, const image::Metrics& m, double max_abs_diff_rel);

/// A side that runs a program: command + leading_args + the plan's args +
/// trailing_args, then -floatfile (and -trace_pixel S F for a trace).
struct SideProgram {
  explicit SideProgram(std::vector<std::string> argv_prefix = {}) : command(std::move(argv_prefix)) {}
  std::vector<std::string> command;        ///< the program and any arguments of its own (argv prefix)
  std::vector<std::string> leading_args;   ///< before the shared arguments (-mode c-parity)
  std::vector<std::string> trailing_args;  ///< after them (-nthreads T, -device cuda)
  /// The program is this build's nbsim: when the image shape is not given it
  /// is asked for its run summary (-stats_json), which gives the shape.
  bool nbsim = false;
  /// The program writes its trace with -trace_file (nbsim); otherwise its
  /// trace is its standard output (nanoBragg.c).
  bool trace_file_flag = false;
};

struct StoredTrace {
  TracedPixel pixel;
  std::filesystem::path file;
};

/// A side whose outputs exist already: golden outputs, a port's files.
struct StoredOutputs {
  std::filesystem::path image;  ///< empty: no image (traces only)
  std::vector<StoredTrace> traces;
};

/// Where a program side's files land. An empty path means a file in the
/// engine's scratch folder, removed when the run returns; "{pixel}" in
/// `trace` becomes s<S>_f<F>.
struct SideFiles {
  std::filesystem::path work_dir;  ///< the program's working folder (created)
  /// -floatfile as the program is told: a bare name is written in work_dir
  /// (nothing the program prints names a folder), a path is made absolute.
  std::string image = "image.bin";
  std::filesystem::path image_copy;  ///< where a bare-name image is copied once written (empty: not copied)
  std::filesystem::path stdout_file, stderr_file;  ///< the image run's output
  std::string trace;                               ///< pattern: a pixel's trace
  std::filesystem::path trace_stderr;              ///< the trace runs' error output
};

struct ParitySide {
  std::string label;  ///< names the side in failures: "ref", "nbsim", "nbsim (c-parity)"
  std::variant<SideProgram, StoredOutputs> source;
  SideFiles files;                    ///< a program side's files
  std::optional<image::Shape> shape;  ///< the image's shape when known (a golden case.json)
};

/// How the shared arguments' input files (-mat, -hkl, ...) reach the programs.
enum class InputStaging {
  absolute,  ///< made absolute against inputs_base
  copies,    ///< copied into each program's working folder and named by file name
};

struct ParityPlan {
  ParitySide ref, test;
  std::vector<std::string> args;  ///< simulator arguments both programs get
  InputStaging inputs = InputStaging::absolute;
  std::filesystem::path inputs_base;  ///< relative input paths are relative to it (empty: the current folder)
  image::CompareOptions compare;
  bool resample = false;  ///< images of different shapes: resize the test image to the reference's
  ImageThresholds thresholds;
  std::vector<TracedPixel> pixels;  ///< traced on both sides
  std::size_t auto_pixels = 0;      ///< also the K pixels with the largest |Δ|
  DiffOptions diff;
  /// Pattern (no extension) of each pixel's diff report, written as .json
  /// and .md; the traces are named relative to its folder. Empty: none.
  std::string diff_report;
  bool keep_evidence = false;  ///< keep the images, traces and diffs in memory (ImageComparison, PixelResult)
};

/// invalid_image: an image has a NaN or infinite pixel in the compared
/// region (or no pixel finite on both sides), so its metrics cannot vouch
/// for it; it wins over divergent. not_compared: too little was compared to
/// call it agreement (no image compared and no pixel traced, or a traced
/// pixel whose diff is NOT_COMPARED).
enum class Verdict { pass, divergent, program_failed, shape_mismatch, invalid_image, not_compared };
/// "PASS", "DIVERGENT", "RUNNER_FAILED", "SHAPE_MISMATCH", "INVALID_IMAGE", "NOT_COMPARED".
std::string_view verdict_name(Verdict v);
/// The process exit code of a verdict (exit_code::ok, divergence,
/// program_failed, check_failed for shape_mismatch, invalid_image and not_compared).
int exit_code_of(Verdict v);

struct SideResult {
  std::string label;
  std::vector<std::string> command;  ///< the image run's argv (empty for stored outputs)
  int exit_code = 0;
  double seconds = 0;  ///< wall time of the image run
  std::filesystem::path image;               ///< its image (a scratch file is gone once the run returns)
  std::optional<image::Shape> shape;         ///< once the image is read
  std::optional<nbsim::RunSummary> summary;  ///< nbsim's, when it was asked for one
};

/// A step that failed: a program exiting non-zero, a stored trace missing.
struct ParityFailure {
  std::string what;          ///< "ref exited 2", "test trace of s1_f2 exited 1", "golden has no trace of s1_f2"
  std::string error_output;  ///< the start of the program's stderr
  /// what, then the error output when there is some.
  std::string message() const;
};

struct ImageComparison {
  image::Shape shape;                           ///< compared shape (the reference's)
  std::optional<image::Shape> test_resampled_from;
  image::Metrics metrics;
  double max_abs_diff_rel = 0;  ///< max |Δ| over the reference maximum (0 when that is not positive)
  std::vector<std::string> failed_checks;
  bool pass() const { return failed_checks.empty(); }
  /// False when the metrics do not stand for the whole region (a
  /// non-finite pixel, nothing compared): image::invalid_checks.
  bool valid() const { return image::invalid_checks(metrics).empty(); }
  /// The compared images (test resampled) when the plan keeps evidence.
  std::shared_ptr<const image::Image> ref_image, test_image;
};

/// Both traces of a pixel and their diff (the diff points into the traces).
struct PixelEvidence {
  Trace ref, test;
  DiffResult diff;
};

struct PixelResult {
  TracedPixel pixel;
  std::filesystem::path ref_trace, test_trace;
  std::optional<std::string> first_divergence;        ///< field name, e.g. "PHI.F_latt"
  std::optional<std::string> first_divergence_label;  ///< with loop coordinates, e.g. "PHI.F_latt[phi_tic=0]"
  std::size_t num_compared = 0, num_divergent = 0, num_waived = 0;
  std::size_t num_non_finite = 0;  ///< components with NaN or ±inf on either side
  DiffVerdict trace_verdict = DiffVerdict::not_compared;
  double tolerance_rel = 0;
  bool pass() const { return trace_verdict == DiffVerdict::pass; }
  std::shared_ptr<const PixelEvidence> evidence;  ///< when the plan keeps evidence
};

struct ParityResult {
  SideResult ref, test;
  std::optional<ImageComparison> images;  ///< absent when a side failed or the shapes differ
  std::vector<PixelResult> pixels;
  std::vector<ParityFailure> failures;
  Verdict verdict = Verdict::pass;
  int exit_code() const { return exit_code_of(verdict); }
};

/// Called as the run goes, so a tool can report progress.
struct ParityObserver {
  std::function<void(const SideResult&)> side_done;  ///< a program side's image run ended
  std::function<void(const ImageComparison&)> images_done;
  std::function<void(const PixelResult&)> pixel_done;
};

/// Runs the plan. Throws InputError for unreadable inputs or stored outputs;
/// a failing program is a result (Verdict::program_failed), not an exception.
ParityResult run_parity_plan(const ParityPlan& plan, const ParityObserver& observer = {});

/// The pixels with the largest |test − ref|, distinct, largest first.
std::vector<TracedPixel> worst_pixels(const image::Image& ref, const image::Image& test, std::size_t k);

/// "s<S>_f<F>": how files of a traced pixel are named.
std::string pixel_name(const TracedPixel& p);

// Summaries as JSON (evidence is never serialised).
void to_json(nlohmann::json& j, const SideResult& s);
void from_json(const nlohmann::json& j, SideResult& s);
void to_json(nlohmann::json& j, const ParityFailure& f);
void from_json(const nlohmann::json& j, ParityFailure& f);
void to_json(nlohmann::json& j, const ImageComparison& c);
void from_json(const nlohmann::json& j, ImageComparison& c);
void to_json(nlohmann::json& j, const PixelResult& p);
void from_json(const nlohmann::json& j, PixelResult& p);
void to_json(nlohmann::json& j, const ParityResult& r);
void from_json(const nlohmann::json& j, ParityResult& r);

}  // namespace nbtrace
