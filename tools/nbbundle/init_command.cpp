// nbbundle init DIR: create a bundle folder and its commands.txt.
#include <filesystem>
#include <iostream>
#include <memory>

#include "commands.hpp"
#include "nbtrace/base/error.hpp"
#include "nbtrace/bundle/bundle.hpp"

namespace {

struct InitOptions {
  std::string dir;
  std::string id;  ///< empty: from the path, else the current UTC time
};

int run_init(const InitOptions& opt) {
  namespace bundle = nbtrace::bundle;
  if (opt.dir.empty()) throw nbtrace::UsageError("DIR is required");
  const bool existed = std::filesystem::exists(std::filesystem::path(opt.dir) / bundle::kCommandsName);
  const std::string id = bundle::ensure_bundle(opt.dir, opt.id.empty() ? std::nullopt : std::optional(opt.id), std::cerr);
  std::cout << (existed ? "bundle " : "initialized bundle ") << opt.dir << " (id " << id << ")"
            << (existed ? " already exists" : "") << "\n";
  return 0;
}

}  // namespace

std::function<int()> setup_init(CLI::App& app) {
  auto opt = std::make_shared<InitOptions>();
  CLI::App* cmd = app.add_subcommand("init", "Create a bundle folder and its commands.txt.");
  cmd->add_option("DIR", opt->dir, "bundle folder to create")->required();
  cmd->add_option("--id", opt->id,
                  "bundle id YYYYMMDDTHHMMSSZ (default: the id in the folder name, else the UTC time now)")
      ->type_name("ID");
  return [=] { return run_init(*opt); };
}
