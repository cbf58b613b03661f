#include <iostream>
#include <memory>

#include "commands.hpp"
#include "nbtrace/bundle.hpp"

std::function<int()> setup_verify(CLI::App& app) {
  auto opt = std::make_shared<nbtrace::bundle::VerifyOptions>();
  CLI::App* cmd = app.add_subcommand(
      "verify",
      "Check the manifest like sha256sum -c: OK, FAILED, MISSING or REFUSED (entry escaping the bundle) per listed "
      "file. Exit 0 only when every listed file verifies, else 4.");
  cmd->add_option("DIR", opt->dir, "bundle folder")->required();
  cmd->add_flag("--strict", opt->strict, "also fail on malformed lines and on files present but not listed");
  cmd->add_option("--manifest", opt->manifest, "manifest file inside the bundle")
      ->type_name("NAME")
      ->default_val("sha256.txt");
  cmd->add_option("-j,--jobs", opt->threads, "hashing threads (default: all cores)")->type_name("N");
  return [=] { return nbtrace::bundle::run_verify(*opt, std::cout, std::cerr); };
}
