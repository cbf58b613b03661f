#include <iostream>
#include <memory>

#include "commands.hpp"
#include "nbtrace/bundle.hpp"

std::function<int()> setup_init(CLI::App& app) {
  auto opt = std::make_shared<nbtrace::bundle::InitOptions>();
  CLI::App* cmd = app.add_subcommand("init", "Create a bundle folder and its commands.txt.");
  cmd->add_option("DIR", opt->dir, "bundle folder to create")->required();
  cmd->add_option("--id", opt->id,
                  "bundle id YYYYMMDDTHHMMSSZ (default: the id in the folder name, else the UTC time now)")
      ->type_name("ID");
  return [=] { return nbtrace::bundle::run_init(*opt, std::cout, std::cerr); };
}
