#include <iostream>
#include <memory>

#include "commands.hpp"
#include "nbtrace/commands.hpp"

std::function<int()> setup_show(CLI::App& app) {
  auto opt = std::make_shared<nbtrace::ShowCommandOptions>();
  CLI::App* cmd = app.add_subcommand("show", "Print the records parsed from a trace log, for debugging a trace.");
  cmd->add_option("LOG", opt->log, "trace log")->required();
  cmd->add_option("--tag", opt->tag, "tag to read, e.g. C or PY (default: detected)");
  cmd->add_flag("--json", opt->json, "print the records as JSON");
  return [=] { return nbtrace::run_trace_show(*opt, std::cout, std::cerr); };
}
