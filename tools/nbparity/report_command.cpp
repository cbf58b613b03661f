// nbparity report DIR: (re)builds a parity bundle's report.html from what
// the bundle holds, and reseals the bundle when it was sealed.
#include <fmt/format.h>

#include <iostream>
#include <memory>

#include "commands.hpp"
#include "nbtrace/base/files.hpp"
#include "nbtrace/report/report.hpp"

namespace {

struct ReportCommandOptions {
  std::string dir;
  std::string json_out;
};

int run_report_command(const ReportCommandOptions& o) {
  const nbtrace::report::ReportWritten r = nbtrace::report::write_bundle_report(o.dir, "nbparity");
  std::cout << report_line(o.dir, r) << "\n";
  if (!o.json_out.empty()) nbtrace::write_file_atomic(o.json_out, nlohmann::json(r).dump(2) + "\n");
  return nbtrace::exit_code::ok;
}

}  // namespace

std::string report_line(const std::string& dir, const nbtrace::report::ReportWritten& r) {
  return fmt::format("report: {}/{} ({} bytes; {} image pair{}, {} trace table{}, {} chart{}{})", dir, r.path, r.bytes,
                     r.image_pairs, r.image_pairs == 1 ? "" : "s", r.trace_tables, r.trace_tables == 1 ? "" : "s",
                     r.charts, r.charts == 1 ? "" : "s", r.resealed ? "; bundle resealed" : "");
}

std::function<int()> setup_report(CLI::App& app) {
  auto o = std::make_shared<ReportCommandOptions>();
  CLI::App* cmd = app.add_subcommand(
      "report",
      "Build DIR/report.html for an existing parity bundle: one self-contained page (inline images and SVG, no "
      "network) with the reference, test and difference images on one colour scale, the worst pixels marked and "
      "zoomed, the per-field trace tables with the first divergence highlighted, and the bundle's charts. A sealed "
      "bundle must verify first and is sealed again with the report. Exit 0, 5 (not a parity bundle, or it does not "
      "verify), 1.");
  cmd->add_option("DIR", o->dir, "parity bundle folder (nbparity run's)")->required();
  cmd->add_option("--json", o->json_out, "write what was written (sizes, worst pixels, panel boxes) as JSON");
  return [o] { return run_report_command(*o); };
}
