#include <iostream>
#include <memory>

#include "commands.hpp"
#include "nbtrace/bundle.hpp"

std::function<int()> setup_seal(CLI::App& app) {
  auto opt = std::make_shared<nbtrace::bundle::SealOptions>();
  CLI::App* cmd = app.add_subcommand(
      "seal", "Write env.json and git_sha.txt, then sha256.txt over every other file (atomically, last).");
  cmd->add_option("DIR", opt->dir, "bundle folder")->required();
  cmd->add_option("-j,--jobs", opt->threads, "hashing threads (default: all cores)")->type_name("N");
  return [=] { return nbtrace::bundle::run_seal(*opt, std::cout, std::cerr); };
}
