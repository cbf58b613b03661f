// nbparity batch: a jobs file run by the library over local workers or MPI ranks.
#include <unistd.h>

#include <iostream>
#include <memory>

#include "commands.hpp"
#include "nbtrace/report/report.hpp"
#include "nbtrace/base/cli_flags.hpp"
#include "nbtrace/parity/batch.hpp"

namespace {

struct BatchCommandOptions {
  nbtrace::BatchOptions batch;
  bool mpi = false;     ///< --mpi
  bool no_mpi = false;  ///< --no-mpi
  nbtrace::ProgressFlags progress;
};

}  // namespace

std::function<int()> setup_batch(CLI::App& app, const std::vector<std::string>& argv) {
  auto o = std::make_shared<BatchCommandOptions>();
  nbtrace::BatchOptions& opt = o->batch;
  CLI::App* cmd = app.add_subcommand(
      "batch",
      "Run one simulation (or parity check) per line of a JSON-lines jobs file ({\"id\": ..., \"args\": [...], "
      "\"parity\": {...}}), each kept as a sealed bundle DIR/<id>/, with DIR/batch.json and DIR sealed over them. "
      "Started by mpirun/srun, the jobs are spread over the MPI ranks (rank 0 hands them out as ranks become free); "
      "otherwise over --jobs local workers. Every line is checked before any work starts. Exit 0 when every job "
      "succeeded, 3 when any failed, diverged or was not done, 5 for a malformed jobs file. See docs/batch.md.");
  cmd->add_option("JOBS", opt.jobs_file, "jobs file (JSON lines); input paths in args are relative to its folder")
      ->required();
  cmd->add_option("--out", opt.out_dir, "output folder (on a file system every rank can write)")->required();
  cmd->add_option("--jobs", opt.workers, "jobs run at once by local workers (without MPI)")->default_val(1);
  cmd->add_flag("--resume", opt.resume, "skip jobs whose bundles verify and succeeded; rerun the rest");
  cmd->add_option("--test", opt.test_bin, "simulator (default: nbsim beside this tool)");
  cmd->add_option("--ref-bin", opt.ref_bin, "reference program for parity jobs that name no ref_bin");
  cmd->add_option("--device", opt.device, "cpu (default) or cuda: each rank (or worker) uses GPU local_rank % GPUs")
      ->check(CLI::IsMember({"cpu", "cuda"}));
  cmd->add_option("--threads-per-job", opt.threads_per_job,
                  "nbsim -nthreads for CPU jobs that set none (default: the node's cores / the jobs it runs at once)");
  auto* m = cmd->add_flag("--mpi", o->mpi, "require MPI (an error unless built with MPI); the default under mpirun/srun");
  cmd->add_flag("--no-mpi", o->no_mpi, "local workers even under an MPI launcher")->excludes(m);
  nbtrace::add_progress_flags(*cmd, o->progress, "jobs",
                              "no progress meter and no per-job lines on stderr (the summary and errors as usual)");
  return [o, argv] {
    o->batch.tool = "nbparity";
    // Each parity job's bundle gets its report.html, sealed with it (docs/report.md).
    o->batch.parity_before_seal = [](const std::filesystem::path& dir) { nbtrace::report::write_report_file(dir); };
    o->batch.argv = argv;
    o->batch.progress = nbtrace::progress_settings(o->progress.request(), isatty(STDERR_FILENO) != 0);
    o->batch.quiet = o->progress.quiet;
    o->batch.distribution = o->mpi ? nbtrace::Distribution::mpi
                                   : (o->no_mpi ? nbtrace::Distribution::local : nbtrace::Distribution::automatic);
    return nbtrace::run_batch(o->batch, std::cout, std::cerr);
  };
}
