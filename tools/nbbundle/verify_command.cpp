// nbbundle verify DIR: the manifest checked like sha256sum -c.
#include <filesystem>
#include <iostream>
#include <memory>
#include <unistd.h>

#include "commands.hpp"
#include "nbtrace/base/cli_flags.hpp"
#include "nbtrace/base/error.hpp"
#include "nbtrace/bundle/bundle.hpp"

namespace {

struct VerifyOptions {
  std::string dir;
  std::string manifest = std::string(nbtrace::bundle::kManifestName);
  bool strict = false;
  unsigned threads = 0;  ///< 0: all cores
  nbtrace::ProgressFlags progress;
};

/// One `<name>: OK|FAILED|MISSING|REFUSED` line per listed file, then a
/// summary. 0 when the manifest passes, else 4; a manifest without one
/// valid line is an input error (5), as sha256sum fails on it.
int run_verify(const VerifyOptions& opt) {
  namespace bundle = nbtrace::bundle;
  std::ostream& out = std::cout;
  std::ostream& err = std::cerr;
  nbtrace::ProgressOptions meter_options;
  meter_options.label = "nbbundle verify";
  meter_options.unit = "files";
  nbtrace::ProgressMeter meter(nbtrace::progress_settings(opt.progress.request(), isatty(STDERR_FILENO) != 0), err,
                               meter_options);
  const bundle::VerifyResult r = bundle::verify_manifest(opt.dir, opt.manifest, opt.threads, opt.strict, &meter);
  if (r.items.empty()) {
    throw nbtrace::InputError((std::filesystem::path(opt.dir) / r.manifest).string() +
                              ": no properly formatted SHA-256 checksum lines found");
  }
  for (const bundle::ManifestLineProblem& p : r.malformed) {
    err << "nbbundle: " << (opt.strict ? "error" : "warning") << ": " << r.manifest << ":" << p.line
        << ": improperly formatted line: " << p.text << "\n";
  }
  for (const bundle::VerifyItem& i : r.items) {
    if (i.entry.format == bundle::LineFormat::bsd) {
      err << "nbbundle: warning: " << r.manifest << ":" << i.entry.line << ": BSD-style line accepted\n";
    } else if (i.entry.format == bundle::LineFormat::gnu_binary) {
      err << "nbbundle: warning: " << r.manifest << ":" << i.entry.line
          << ": '*' binary marker accepted (files are always hashed byte for byte)\n";
    } else if (i.entry.format == bundle::LineFormat::gnu_one_space) {
      err << "nbbundle: warning: " << r.manifest << ":" << i.entry.line << ": one-space line accepted\n";
    }
  }
  for (const bundle::VerifyItem& i : r.items) {
    if (opt.progress.quiet && i.verdict == bundle::Verdict::ok) continue;  // as sha256sum --quiet
    out << bundle::display_name(i.entry.path) << ": " << bundle::verdict_name(i.verdict);
    if (!i.detail.empty()) out << " (" << i.detail << ")";
    out << "\n";
  }
  for (const std::string& u : r.unlisted) out << bundle::display_name(u) << ": NOT LISTED\n";
  out << r.manifest << ": " << r.items.size() << " listed, " << r.count(bundle::Verdict::ok) << " OK, "
      << r.count(bundle::Verdict::failed) << " FAILED, " << r.count(bundle::Verdict::missing) << " MISSING, "
      << r.count(bundle::Verdict::refused) << " REFUSED";
  if (opt.strict) out << ", " << r.malformed.size() << " malformed, " << r.unlisted.size() << " not listed";
  out << "\n";
  return r.passes(opt.strict) ? nbtrace::exit_code::ok : nbtrace::exit_code::check_failed;
}

}  // namespace

std::function<int()> setup_verify(CLI::App& app) {
  auto opt = std::make_shared<VerifyOptions>();
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
  nbtrace::add_progress_flags(*cmd, opt->progress, "files hashed",
                              "no progress meter and no line per file that verifies (as sha256sum --quiet); the "
                              "other lines and the summary as usual");
  return [=] { return run_verify(*opt); };
}
