#pragma once
// Batch simulation and parity: one job per line of a JSON-lines file, each
// kept as a sealed bundle DIR/<id>/, spread over MPI ranks (rank 0 hands out
// jobs as ranks become free) or local worker threads; rank 0 writes
// DIR/batch.json and seals DIR over the job bundles.
#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

#include "nbtrace/parity/parity.hpp"
#include "nbtrace/trace/trace.hpp"
#include "nbtrace/parity/work_pool.hpp"

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

struct BatchOptions {
  std::string jobs_file;
  std::string out_dir;
  unsigned workers = 1;            ///< local worker threads (without MPI)
  Distribution distribution = Distribution::automatic;
  bool resume = false;             ///< skip jobs whose bundle verifies and succeeded
  std::string test_bin = "nbsim";  ///< simulator (default: nbsim beside this tool)
  std::string ref_bin;             ///< reference program of parity jobs that name none
  std::string device = "cpu";      ///< cpu, or cuda: each worker uses GPU node_slot % GPUs
  unsigned threads_per_job = 0;    ///< nbsim -nthreads on the CPU; 0: the node's cores / its workers
  std::vector<std::string> argv;   ///< this command line, for the record
};

/// nbparity batch: runs the jobs, writes DIR/<id>/ bundles and DIR/batch.json,
/// seals DIR. Returns on every rank: 0 when every job succeeded, 3 when any
/// failed or did not pass its parity thresholds.
int run_batch(const BatchOptions& opt, std::ostream& out, std::ostream& err);

}  // namespace nbtrace
