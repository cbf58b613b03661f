#include <iostream>
#include <memory>

#include "commands.hpp"
#include "nbtrace/bundle.hpp"

std::function<int()> setup_audit(CLI::App& app) {
  auto opt = std::make_shared<nbtrace::bundle::AuditOptions>();
  CLI::App* cmd = app.add_subcommand(
      "audit",
      "Everything verify checks plus bundle faults (codes B001-B014, docs/bundles.md). Exit 0 clean (warnings "
      "allowed), 4 when a finding has error severity.");
  cmd->add_option("DIR", opt->dir, "bundle folder")->required();
  cmd->add_option("--json", opt->json_out, "also write the findings as JSON to OUT ('-': stdout)")->type_name("OUT");
  cmd->add_option("--manifest", opt->manifest, "manifest file inside the bundle")
      ->type_name("NAME")
      ->default_val("sha256.txt");
  cmd->add_option("--kind", opt->kind, "bundle kind for the required-files check")
      ->type_name("KIND")
      ->check(CLI::IsMember({"auto", "scaling", "generic"}))
      ->default_val("auto");
  cmd->add_option("-j,--jobs", opt->threads, "hashing threads (default: all cores)")->type_name("N");
  return [=] { return nbtrace::bundle::run_audit(*opt, std::cout, std::cerr); };
}
