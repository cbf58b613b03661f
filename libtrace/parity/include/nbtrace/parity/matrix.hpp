#pragma once
// nbparity matrix: many parity cases with per-case thresholds, each compared
// against its stored golden outputs or a reference program, spread over
// local workers or MPI ranks. The tool prints and writes the results.
#include <functional>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <vector>

#include "nbtrace/parity/parity.hpp"
#include "nbtrace/parity/work_pool.hpp"

namespace nbtrace {

struct MatrixCase {
  std::string id;
  std::string golden;  ///< folder with case.json, image.bin, c_trace_*.log (golden mode)
  CaseThresholds thresholds;
};

struct MatrixOptions {
  std::string cases_file;  ///< JSON or YAML (see docs/parity.md)
  std::string test_bin = "nbsim";
  std::string ref_bin;     ///< run this reference instead of using the stored golden outputs
  unsigned jobs = 1;        ///< local workers (without MPI)
  bool mpi = false;         ///< spread the cases over MPI ranks (also the default under an MPI launcher)
  std::vector<std::string> only;  ///< case ids to run (empty: all)
};

/// One case's outcome; it travels from the rank that ran it to rank 0 as JSON.
struct CaseResult {
  std::string id;
  bool pass = false;
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
  double seconds = 0;
};

void to_json(nlohmann::json& j, const CaseResult& r);
void from_json(const nlohmann::json& j, CaseResult& r);

/// Reads a cases file; throws InputError naming the file and the problem.
std::vector<MatrixCase> load_matrix_cases(const std::string& path);

/// Runs one case (golden mode unless ref_bin is given); never throws: an
/// error is in the result.
CaseResult run_matrix_case(const MatrixCase& c, const MatrixOptions& opt);

struct MatrixRun {
  bool root = true;          ///< false on MPI ranks other than 0: nothing to report there
  std::string distribution;  ///< e.g. "3 MPI ranks"
  std::vector<CaseResult> cases;  ///< in the cases file's order (root only)
  int exit_code = 0;         ///< shared by every rank: 0 when every case passes, else exit_code::divergence
};

/// Called on the root as each case finishes, with where it ran and the number of ranks.
using CaseDone = std::function<void(const CaseResult&, const WorkerSlot& where, int ranks)>;

/// Runs the cases (in parallel with jobs > 1 or over MPI ranks). Setup
/// problems (an unreadable cases file, an unknown --case) throw on the root;
/// the other ranks return with the same exit code.
MatrixRun run_matrix(const MatrixOptions& opt, const CaseDone& case_done);

}  // namespace nbtrace
