#pragma once
// Batch simulation (issue 8, local workers): one nbsim run per line of a
// JSON-lines jobs file, each kept as a sealed bundle, the whole output folder
// sealed over them. MPI distribution is to come; this is the single-node
// engine it will drive.
#include <iosfwd>
#include <string>
#include <vector>

namespace nbtrace {

struct BatchJob {
  std::string id;
  std::vector<std::string> args;  ///< nbsim arguments
  std::size_t line = 0;           ///< line in the jobs file
};

/// Reads a jobs file: one JSON object per line ({"id": "...", "args": [...]};
/// blank lines and lines starting with # are skipped). Every line is checked
/// before any work starts; the first bad one throws InputError `file:line: why`.
std::vector<BatchJob> load_batch_jobs(const std::string& path);

struct BatchOptions {
  std::string jobs_file;
  std::string out_dir;
  unsigned workers = 1;             ///< jobs run at once
  bool resume = false;              ///< skip jobs whose bundle verifies
  std::string test_bin = "nbsim";   ///< simulator (default: nbsim beside this tool)
  std::vector<std::string> argv;    ///< this command line, for the record
};

/// nbparity batch: runs the jobs, writes DIR/<id>/ bundles and DIR/batch.json,
/// seals DIR. Returns 0 when every job succeeded, 3 when any failed.
int run_batch(const BatchOptions& opt, std::ostream& out, std::ostream& err);

}  // namespace nbtrace
