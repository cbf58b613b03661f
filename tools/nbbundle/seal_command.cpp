// nbbundle seal DIR: env.json, git_sha.txt, then sha256.txt over every other file.
#include <iostream>
#include <memory>

#include "commands.hpp"
#include "nbtrace/bundle/bundle.hpp"

std::function<int()> setup_seal(CLI::App& app) {
  auto opt = std::make_shared<nbtrace::bundle::SealOptions>();
  opt->tool = "nbbundle";
  CLI::App* cmd = app.add_subcommand(
      "seal", "Write env.json and git_sha.txt, then sha256.txt over every other file (atomically, last).");
  cmd->add_option("DIR", opt->dir, "bundle folder")->required();
  cmd->add_option("-j,--jobs", opt->threads, "hashing threads (default: all cores)")->type_name("N");
  return [=] {
    std::cout << nbtrace::bundle::seal_report(opt->dir, nbtrace::bundle::seal_bundle(*opt));
    return 0;
  };
}
