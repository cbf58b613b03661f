// nbbundle audit DIR: verify plus the faults real bundles have (B001-B014).
#include <iostream>
#include <memory>

#include "commands.hpp"
#include "nbtrace/base/error.hpp"
#include "nbtrace/base/files.hpp"
#include "nbtrace/bundle/bundle.hpp"

namespace {

struct AuditCommandOptions {
  nbtrace::bundle::AuditOptions audit;
  std::string json_out;  ///< "-" for stdout
};

/// Prints the findings; 0, or 4 when any has error severity.
int run_audit(const AuditCommandOptions& opt) {
  namespace bundle = nbtrace::bundle;
  // With --json - stdout is the JSON document alone; the lines go to stderr.
  std::ostream& out = opt.json_out == "-" ? std::cerr : std::cout;
  const bundle::AuditResult r = bundle::audit_bundle(opt.audit);
  for (const bundle::Finding& f : r.findings) {
    out << f.code << " " << bundle::severity_name(f.severity) << (f.severity == bundle::Severity::error ? "   " : " ")
        << (f.file.empty() ? "(bundle)" : bundle::display_name(f.file)) << ": " << f.message << "\n";
  }
  const std::size_t errors = r.errors(), warnings = r.findings.size() - errors;
  out << "audit " << opt.audit.dir << " (" << r.kind << " bundle): ";
  if (r.findings.empty()) out << "clean\n";
  else out << errors << (errors == 1 ? " error, " : " errors, ") << warnings << (warnings == 1 ? " warning\n" : " warnings\n");
  if (opt.json_out == "-") std::cout << bundle::findings_json(r);
  else if (!opt.json_out.empty()) nbtrace::write_file_atomic(opt.json_out, bundle::findings_json(r));
  return errors ? nbtrace::exit_code::check_failed : nbtrace::exit_code::ok;
}

}  // namespace

std::function<int()> setup_audit(CLI::App& app) {
  auto opt = std::make_shared<AuditCommandOptions>();
  CLI::App* cmd = app.add_subcommand(
      "audit",
      "Everything verify checks plus bundle faults (codes B001-B015, docs/bundles.md). Exit 0 clean (warnings "
      "allowed), 4 when a finding has error severity.");
  cmd->add_option("DIR", opt->audit.dir, "bundle folder")->required();
  cmd->add_option("--json", opt->json_out, "also write the findings as JSON to OUT ('-': stdout, the lines then go to stderr)")->type_name("OUT");
  cmd->add_option("--manifest", opt->audit.manifest, "manifest file inside the bundle")
      ->type_name("NAME")
      ->default_val("sha256.txt");
  cmd->add_option("--kind", opt->audit.kind, "bundle kind for the required-files check")
      ->type_name("KIND")
      ->check(CLI::IsMember({"auto", "scaling", "generic"}))
      ->default_val("auto");
  cmd->add_option("-j,--jobs", opt->audit.threads, "hashing threads (default: all cores)")->type_name("N");
  return [=] { return run_audit(*opt); };
}
