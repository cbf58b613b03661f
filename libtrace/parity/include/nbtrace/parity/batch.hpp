#pragma once
// Batch simulation and parity: one job per line of a JSON-lines file, each
// kept as a sealed bundle DIR/<id>/, spread over MPI ranks (rank 0 hands out
// jobs as ranks become free) or local worker threads; rank 0 writes
// DIR/batch.json and seals DIR over the job bundles.
#include <iosfwd>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "nbtrace/base/progress.hpp"
#include "nbtrace/parity/parity.hpp"
#include "nbtrace/parity/work_pool.hpp"
#include "nbtrace/trace/trace.hpp"

namespace nbtrace {

/// A job's "parity" object: compare the simulation with a reference program.
struct BatchParity {
  std::string ref_bin;              ///< reference program; empty: --ref-bin
  std::vector<TracedPixel> pixels;  ///< pixels to trace on both sides
  std::size_t auto_pixels = 0;      ///< also trace the K pixels with the largest |Δ|
  CaseThresholds thresholds;        ///< image thresholds, trace tolerance, waivers, nbsim mode
};

struct BatchJob {
  std::string id;
  std::vector<std::string> args;  ///< nbsim arguments
  std::optional<BatchParity> parity;
  std::size_t line = 0;  ///< line in the jobs file
};

/// Reads a jobs file: one JSON object per line ({"id": "...", "args": [...],
/// "parity": {...}}; blank lines and lines starting with # are skipped).
/// Every line is checked before any work starts; the first bad one throws
/// InputError `file:line: why`.
std::vector<BatchJob> load_batch_jobs(const std::string& path);

/// A simulation job's image statistics in batch.json, as nbsim prints them.
struct SimulationStatistics {
  double max_I = 0;
  double mean = 0, rms = 0, rmsd = 0;
};

/// A parity job's summary in batch.json.
struct ParityJobSummary {
  std::string verdict;  ///< PASS, DIVERGENT, RUNNER_FAILED, SHAPE_MISMATCH, INVALID_IMAGE
  struct Image {
    std::optional<double> correlation, sum_ratio;
    double max_abs_diff = 0, max_abs_diff_rel = 0;
    std::vector<std::string> failed_checks;
  };
  std::optional<Image> image;  ///< absent when the images were not compared
  std::size_t traced_pixels = 0, divergent_pixels = 0;
  std::optional<std::string> first_divergence;  ///< of the first divergent pixel
};

/// What a job reports; it travels from the rank that ran it to rank 0 as JSON.
struct JobOutcome {
  std::string status = "not done";  ///< ok, failed, divergent; rank 0 adds skipped and not done
  int exit_code = -1;
  double runtime_s = 0;
  std::string error;
  std::string device;
  /// Nothing (a failed job), a simulation's statistics or a parity summary.
  std::variant<std::monostate, SimulationStatistics, ParityJobSummary> metrics;
};

void to_json(nlohmann::json& j, const SimulationStatistics& s);
void from_json(const nlohmann::json& j, SimulationStatistics& s);
void to_json(nlohmann::json& j, const ParityJobSummary& s);
void from_json(const nlohmann::json& j, ParityJobSummary& s);
void to_json(nlohmann::json& j, const JobOutcome& o);
void from_json(const nlohmann::json& j, JobOutcome& o);

struct BatchOptions {
  std::string tool;  ///< the tool running the batch ("nbparity"), recorded in every env.json; required
  std::string jobs_file;
  std::string out_dir;
  unsigned workers = 1;            ///< local worker threads (without MPI)
  Distribution distribution = Distribution::automatic;
  bool resume = false;             ///< skip jobs whose bundle verifies and succeeded
  std::string test_bin = "nbsim";  ///< simulator (default: nbsim beside this tool)
  std::string ref_bin;             ///< reference program of parity jobs that name none
  /// ParityRunOptions::before_seal of every parity job (the tool's report.html).
  std::function<void(const std::filesystem::path& bundle)> parity_before_seal;
  std::string device = "cpu";      ///< cpu, or cuda: each worker uses GPU node_slot % GPUs
  unsigned threads_per_job = 0;    ///< nbsim -nthreads on the CPU; 0: the node's cores / its workers
  std::vector<std::string> argv;   ///< this command line, for the record
  /// The meter of the jobs run, on `err` (rank 0): resolved by the tool
  /// from --progress/--no-progress and whether stderr is a terminal.
  ProgressMode progress = ProgressMode::off;
  bool quiet = false;  ///< --quiet: no header or per-job lines on `err` either
};

/// nbparity batch: runs the jobs, writes DIR/<id>/ bundles and DIR/batch.json,
/// seals DIR. Returns on every rank: 0 when every job succeeded, 3 when any
/// failed or did not pass its parity thresholds.
int run_batch(const BatchOptions& opt, std::ostream& out, std::ostream& err);

}  // namespace nbtrace
