#include <iostream>
#include <memory>

#include "commands.hpp"
#include "nbtrace/parity/parity.hpp"

std::function<int()> setup_matrix(CLI::App& app) {
  auto opt = std::make_shared<nbtrace::MatrixOptions>();
  CLI::App* cmd = app.add_subcommand(
      "matrix",
      "Run many parity cases with per-case thresholds (correlation, sum ratio, max |diff|, peaks, trace tolerance, "
      "waivers) and print a table; exit 3 if any case fails. Without --ref-bin each case compares nbsim against its "
      "stored golden outputs (case.json, image.bin, c_trace_*.log).");
  cmd->add_option("CASES", opt->cases_file, "cases file, JSON or YAML (see docs/parity.md)")->required();
  cmd->add_option("--jobs", opt->jobs, "cases run at once by local workers (without MPI)")->default_val(1);
  cmd->add_flag("--mpi", opt->mpi,
                "spread the cases over MPI ranks, rank 0 handing them out (run under mpirun/srun; the default there)");
  cmd->add_option("--test", opt->test_bin, "program under test (default: nbsim beside this tool)");
  cmd->add_option("--ref-bin", opt->ref_bin, "run this reference program instead of using the golden outputs");
  cmd->add_option("--case", opt->only, "run only these case ids (repeatable)");
  cmd->add_option("--json", opt->json_out, "write the results as JSON");
  cmd->add_option("--md", opt->md_out, "write the table as Markdown");
  return [=] { return nbtrace::run_matrix(*opt, std::cout, std::cerr); };
}
