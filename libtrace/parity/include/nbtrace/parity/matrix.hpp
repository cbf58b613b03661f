#pragma once
// nbparity matrix: many parity checks with thresholds of their own, each
// compared against stored golden outputs or a reference program, spread over
// local workers or MPI ranks. A suite file is in one of two schemas: the
// project's own (golden folders, tests/parity_cases.json) or the PyTorch
// port's (inline arguments, its tests/parity_cases.yaml). The tool prints and
// writes the results.
#include <functional>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <vector>

#include "nbtrace/base/error.hpp"
#include "nbtrace/parity/image_json.hpp"
#include "nbtrace/parity/parity.hpp"
#include "nbtrace/parity/work_pool.hpp"

namespace nbtrace {

enum class SuiteSchema {
  project,  ///< golden_root, defaults, cases[] of golden folders (docs/parity.md)
  port,     ///< cases[] of base_args, thresholds and runs[] of extra_args (the PyTorch port's parity_cases.yaml)
};
/// "project", "port".
std::string_view schema_name(SuiteSchema s);

/// One parity check: a case of the project's schema, or one run of a case of
/// the port's schema.
struct MatrixCase {
  std::string id;
  std::string run;                ///< port schema: the run's name (empty in the project's schema)
  std::string description;        ///< port schema: the case's description
  std::string golden;             ///< project schema: folder with case.json, image.bin, c_trace_*.log
  std::vector<std::string> args;  ///< port schema: base_args then the run's extra_args, split as sh would
  CaseThresholds thresholds;
  /// "ID" or "ID/RUN": how progress lines, tables and --case name it.
  std::string label() const { return run.empty() ? id : id + "/" + run; }
};

struct MatrixSuite {
  SuiteSchema schema = SuiteSchema::project;
  std::vector<MatrixCase> cases;  ///< in the file's order (port schema: case by case, run by run)
};

struct MatrixOptions {
  std::string cases_file;  ///< JSON or YAML, either schema (see docs/parity.md)
  /// Program under test as a command line (split as sh would; the first
  /// word "nbsim" is the nbsim beside this tool, another word without '/'
  /// is looked up on PATH). Empty: $NB_PY_BIN in the port's schema, else nbsim.
  std::string test_bin;
  /// Reference program as a command line, run instead of the stored golden
  /// outputs. Empty: $NB_C_BIN in the port's schema (required there), else
  /// golden mode.
  std::string ref_bin;
  /// Port schema: <case>/<run>_metrics.json and <case>/<run>_diff.png per
  /// check land here (empty: none).
  std::string out_dir;
  unsigned jobs = 1;        ///< local workers (without MPI)
  bool mpi = false;         ///< spread the cases over MPI ranks (also the default under an MPI launcher)
  std::vector<std::string> only;  ///< ids ("ID" or "ID/RUN") to run (empty: all)
};

/// A port-schema check's <run>_metrics.json: the keys and meanings of the
/// port's parity harness (c = the reference, py = the program under test).
/// Non-finite numbers are JSON null (read back as NaN), as in image_json.hpp.
struct SuiteRunMetrics : image::PeerImageMetrics {
  std::string case_id;
  std::string run_name;
  std::string args;         ///< the simulator arguments, shell-quoted
  std::string c_binary;     ///< the reference command line as run
  std::string pytorch_cli;  ///< the program under test's command line as run
  std::string timestamp;    ///< UTC, ISO 8601
};

/// ordered_json keeps the port's key order (its metrics files).
void to_json(nlohmann::json& j, const SuiteRunMetrics& m);
void to_json(nlohmann::ordered_json& j, const SuiteRunMetrics& m);
void from_json(const nlohmann::json& j, SuiteRunMetrics& m);

/// One check's outcome; it travels from the rank that ran it to rank 0 as JSON.
struct CaseResult {
  std::string id;
  std::string run;                    ///< port schema: the run's name
  bool pass = false;
  /// The engine's verdict (verdict_name: PASS, DIVERGENT, RUNNER_FAILED,
  /// SHAPE_MISMATCH, NOT_COMPARED), or ERROR when the check threw.
  std::string verdict = "ERROR";
  int exit_code = exit_code::failure;  ///< exit_code_of(verdict); for ERROR: input (5) or failure (1)
  std::string error;                  ///< a program failed or an input was missing
  std::optional<double> correlation;
  std::optional<double> sum_ratio;
  double max_abs_diff = 0;
  double max_abs_diff_rel = 0;
  double peaks_matched = 0;
  double peaks_max_displacement = 0;  ///< pixels
  std::size_t traces = 0;             ///< traced pixels compared
  std::size_t traces_divergent = 0;
  std::string first_divergence;       ///< of the first divergent trace
  std::vector<std::string> failed_checks;
  std::optional<SuiteRunMetrics> metrics;  ///< port schema, once the images were compared
  std::vector<std::string> files;     ///< written under out_dir, relative to it
  double seconds = 0;
  std::string label() const { return run.empty() ? id : id + "/" + run; }
};

void to_json(nlohmann::json& j, const CaseResult& r);
void from_json(const nlohmann::json& j, CaseResult& r);

/// Reads a suite file, either schema, JSON or YAML; throws InputError naming
/// the file and the problem (an unknown key: the key and where it is).
MatrixSuite load_matrix_suite(const std::string& path);

/// The programs of a suite's checks, resolved from the options and the
/// environment. Throws UsageError when the port's schema has no reference.
struct MatrixPrograms {
  std::vector<std::string> ref;   ///< empty: golden mode
  std::vector<std::string> test;
  bool ref_is_nbsim = false, test_is_nbsim = false;
};
MatrixPrograms matrix_programs(const MatrixOptions& opt, SuiteSchema schema);

/// Runs one check; never throws: an error is in the result. In the port's
/// schema with opt.out_dir it writes the check's metrics and diff PNG.
CaseResult run_matrix_case(const MatrixCase& c, SuiteSchema schema, const MatrixPrograms& programs,
                           const MatrixOptions& opt);

/// The matrix's exit code: 0 when every check passes, else the first of
/// failure (1), input (5), program_failed (2), check_failed (4), divergence
/// (3) that some check has: the earlier a check stopped, the less the
/// matrix says, so an incomplete matrix never reads as a mere divergence.
int matrix_exit_code(const std::vector<CaseResult>& results);

struct MatrixRun {
  bool root = true;          ///< false on MPI ranks other than 0: nothing to report there
  std::string distribution;  ///< e.g. "3 MPI ranks"
  SuiteSchema schema = SuiteSchema::project;
  MatrixPrograms programs;
  std::vector<CaseResult> cases;  ///< in the suite file's order (root only)
  int exit_code = 0;         ///< shared by every rank (matrix_exit_code)
};

/// Called on the root as each check finishes, with where it ran and the number of ranks.
using CaseDone = std::function<void(const CaseResult&, const WorkerSlot& where, int ranks)>;
/// Called on the root once the suite is loaded, with the number of checks to run.
using ChecksStarting = std::function<void(std::size_t checks)>;

/// Runs the checks (in parallel with jobs > 1 or over MPI ranks). Setup
/// problems (an unreadable suite file, an unknown --case, no reference for
/// the port's schema) throw on the root; the other ranks return with the
/// same exit code.
MatrixRun run_matrix(const MatrixOptions& opt, const CaseDone& case_done, const ChecksStarting& starting = {});

}  // namespace nbtrace
