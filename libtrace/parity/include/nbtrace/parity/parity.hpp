#pragma once
// Parity runs end to end: two implementations with the same arguments, their
// images compared, the worst (or chosen) pixels traced on both sides, every
// trace diffed, all kept as one sealed evidence bundle.
#include <iosfwd>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <vector>

#include "nbtrace/parity/image.hpp"
#include "nbtrace/trace/policy.hpp"
#include "nbtrace/trace/trace.hpp"

namespace nbtrace {

/// Thresholds of a parity check: a matrix case, a batch parity job (absent: not checked).
struct CaseThresholds {
  std::optional<double> correlation_min;
  std::optional<std::pair<double, double>> sum_ratio;  ///< inclusive range
  std::optional<double> max_abs_diff;                  ///< absolute, image units
  std::optional<double> max_abs_diff_rel;              ///< relative to the reference maximum
  std::optional<double> peaks_matched_min;             ///< matched fraction
  std::optional<double> peaks_max_displacement;        ///< pixels
  double trace_tolerance = 1e-9;
  std::string mode = "c-parity";  ///< nbsim mode for the test side
  std::vector<Waiver> waivers;
};

/// Reads thresholds from a JSON object (the keys of CaseThresholds, as in a
/// matrix cases file); keys in `other_keys` are left to the caller, any
/// other key throws InputError `where: unknown key`.
void read_case_thresholds(const nlohmann::json& j, CaseThresholds& t, const std::string& where,
                          const std::vector<std::string>& other_keys);

/// The image checks of `t` that `m` fails ("correlation", "sum_ratio",
/// "max_abs_diff", "max_abs_diff_rel", "peaks_matched", "peaks_displacement");
/// max_abs_diff_rel is max |Δ| over the reference maximum.
std::vector<std::string> failed_image_checks(const CaseThresholds& t, const image::Metrics& m, double max_abs_diff_rel);

struct ParityRunOptions {
  std::string ref_bin;            ///< reference program (e.g. nanoBragg.c)
  std::string test_bin = "nbsim"; ///< program under test ("nbsim": the one beside this tool)
  std::string mode;               ///< adds -mode MODE to nbsim's arguments (spec, c-parity); empty: none
  std::vector<TracedPixel> pixels;  ///< pixels to trace (slow, fast)
  std::size_t auto_pixels = 0;    ///< also trace the K pixels with the largest |Δ|
  std::string bundle_dir;         ///< default: parity/<UTC id>
  double trace_tolerance = 1e-9;  ///< relative tolerance of the trace diffs
  std::string tolerances_file;    ///< policy (overrides, waivers) for the trace diffs
  std::optional<double> correlation_min;  ///< image verdict threshold
  /// Every image threshold, trace tolerance and waiver at once (a batch
  /// parity job); when set, overrides mode, trace_tolerance and correlation_min.
  std::optional<CaseThresholds> thresholds;
  std::optional<image::Roi> roi;
  std::vector<std::string> args;  ///< simulator arguments, forwarded to both
  std::vector<std::string> test_extra_args;  ///< appended to the test side's arguments only (device, threads)
  std::vector<std::string> argv;  ///< this command line, recorded in commands.txt
};

/// Returns 0 when the image meets the threshold and every trace agrees, 3 on
/// a divergence, 2 when a program fails.
int run_parity(const ParityRunOptions& opt, std::ostream& out, std::ostream& err);

/// The pixels with the largest |test − ref|, distinct, largest first.
std::vector<TracedPixel> worst_pixels(const image::Image& ref, const image::Image& test, std::size_t k);

}  // namespace nbtrace

namespace nbtrace {

struct MatrixCase {
  std::string id;
  std::string golden;  ///< folder with case.json, image.bin, c_trace_*.log (golden mode)
  CaseThresholds thresholds;
};

struct MatrixOptions {
  std::string cases_file;  ///< JSON (see docs/parity.md)
  std::string test_bin = "nbsim";
  std::string ref_bin;     ///< run this reference instead of using the stored golden outputs
  unsigned jobs = 1;        ///< local workers (without MPI)
  bool mpi = false;         ///< spread the cases over MPI ranks (also the default under an MPI launcher)
  std::vector<std::string> only;  ///< case ids to run (empty: all)
  std::string json_out;
  std::string md_out;
};

struct CaseResult {
  std::string id;
  bool pass = false;
  std::string error;                  ///< a program failed or an input was missing
  std::optional<double> correlation;
  std::optional<double> sum_ratio;
  double max_abs_diff = 0;
  double max_abs_diff_rel = 0;
  double peaks_matched = 0;
  double peaks_max_displacement = 0;
  std::size_t traces = 0;             ///< traced pixels compared
  std::size_t traces_divergent = 0;
  std::string first_divergence;       ///< of the first divergent trace
  std::vector<std::string> failed_checks;
  double seconds = 0;
};

/// Reads a cases file; throws InputError naming the file and the problem.
std::vector<MatrixCase> load_matrix_cases(const std::string& path);

/// Runs one case (golden mode unless ref_bin is given).
CaseResult run_matrix_case(const MatrixCase& c, const MatrixOptions& opt);

/// nbparity matrix: runs the cases (in parallel with jobs > 1), prints a
/// table, writes --json/--md. Returns 0 when every case passes, else 3.
int run_matrix(const MatrixOptions& opt, std::ostream& out, std::ostream& err);

}  // namespace nbtrace
