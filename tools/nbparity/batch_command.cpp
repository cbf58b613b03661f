#include <iostream>
#include <memory>

#include "commands.hpp"
#include "nbtrace/batch.hpp"

std::function<int()> setup_batch(CLI::App& app, const std::vector<std::string>& argv) {
  auto opt = std::make_shared<nbtrace::BatchOptions>();
  CLI::App* cmd = app.add_subcommand(
      "batch",
      "Run one simulation per line of a JSON-lines jobs file ({\"id\": ..., \"args\": [...]}), each kept as a sealed "
      "bundle DIR/<id>/, with DIR/batch.json and DIR sealed over them. Every line is checked before any work starts. "
      "Exit 0 when every job succeeded, 3 when any failed. (Local workers; MPI ranks are to come.)");
  cmd->add_option("JOBS", opt->jobs_file, "jobs file (JSON lines); input paths in args are relative to its folder")
      ->required();
  cmd->add_option("--out", opt->out_dir, "output folder")->required();
  cmd->add_option("--jobs", opt->workers, "jobs run at once (local workers)")->default_val(1);
  cmd->add_flag("--resume", opt->resume, "skip jobs whose bundles verify and succeeded; rerun the rest");
  cmd->add_option("--test", opt->test_bin, "simulator (default: nbsim beside this tool)");
  return [=] {
    opt->argv = argv;
    return nbtrace::run_batch(*opt, std::cout, std::cerr);
  };
}
