#include <iostream>
#include <memory>

#include "commands.hpp"
#include "nbtrace/bundle.hpp"

std::function<int()> setup_record(CLI::App& app) {
  auto opt = std::make_shared<nbtrace::bundle::RecordOptions>();
  CLI::App* cmd = app.add_subcommand(
      "record",
      "Run a command and append it to the bundle's commands.txt (UTC start, duration, exit code, command line, "
      "working folder, git sha, first run or rerun). Returns the command's exit code.");
  cmd->add_option("DIR", opt->dir, "bundle folder (created if needed)")->required();
  cmd->add_option("--capture", opt->capture,
                  "save the command's stdout and stderr as NAME.stdout.log and NAME.stderr.log in the bundle")
      ->type_name("NAME");
  cmd->add_option("CMD", opt->argv, "the command and its arguments, after --")->required();
  cmd->footer("Example: nbbundle record runs/20251008T212459Z --capture c_trace -- ./nanoBragg -trace_pixel 685 1039");
  return [=] { return nbtrace::bundle::run_record(*opt, std::cout, std::cerr); };
}
