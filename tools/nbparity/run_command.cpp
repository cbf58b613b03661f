// nbparity run: two programs with the same arguments through the parity
// engine, kept as one sealed bundle; progress and the verdict on stdout.
#include <climits>
#include <fmt/format.h>

#include <cmath>
#include <iostream>
#include <memory>
#include <optional>

#include "commands.hpp"
#include "nbtrace/report/report.hpp"
#include "nbtrace/base/numbers.hpp"
#include "nbtrace/base/error.hpp"
#include "nbtrace/parity/parity.hpp"

namespace {

struct RunCommandOptions {
  nbtrace::ParityRunOptions run;
  std::vector<std::string> pixels;  ///< S,F
  std::vector<std::size_t> roi;     ///< xmin xmax ymin ymax
};

std::string shown(const std::optional<double>& v, const char* none) {
  return v && std::isfinite(*v) ? fmt::format("{:f}", *v) : std::string(none);
}

int run_command(RunCommandOptions& o) {
  nbtrace::ParityRunOptions& opt = o.run;
  opt.tool = "nbparity";
  if (!o.roi.empty()) opt.roi = nbtrace::image::Roi{o.roi[0], o.roi[1], o.roi[2], o.roi[3]};
  for (const std::string& p : o.pixels) {
    const auto comma = p.find(',');
    const auto slow = comma == std::string::npos ? std::nullopt : nbtrace::parse_integer(std::string_view(p).substr(0, comma));
    const auto fast = comma == std::string::npos ? std::nullopt : nbtrace::parse_integer(std::string_view(p).substr(comma + 1));
    if (!slow || !fast || *slow < 0 || *fast < 0 || *slow > INT_MAX || *fast > INT_MAX)
      throw nbtrace::UsageError("--pixels " + nbtrace::printable(p) + ": expected SLOW,FAST (two whole numbers, 0 or more)");
    opt.pixels.push_back({static_cast<int>(*slow), static_cast<int>(*fast)});
  }
  std::ostream& out = std::cout;
  nbtrace::ParityObserver progress;
  progress.side_done = [&](const nbtrace::SideResult& s) {
    out << s.label << ": " << s.command.front() << " exit " << s.exit_code << " in " << s.seconds << " s\n";
  };
  progress.images_done = [&](const nbtrace::ImageComparison& c) {
    const nbtrace::image::Metrics& m = c.metrics;
    out << fmt::format("image: correlation {}, max |diff| {:.6g} at ({}, {}), sum ratio {}\n",
                       shown(m.correlation, "undefined"), m.max_abs_diff, m.max_abs_diff_slow, m.max_abs_diff_fast,
                       shown(m.sum_ratio, "n/a"));
  };
  progress.pixel_done = [&](const nbtrace::PixelResult& p) {
    out << fmt::format("pixel ({}, {}): {} fields, {} divergent{}{}\n", p.pixel.slow, p.pixel.fast, p.num_compared,
                       p.num_divergent, p.first_divergence ? ", first " + *p.first_divergence : "",
                       p.trace_verdict == nbtrace::DiffVerdict::not_compared ? " (NOT COMPARED)" : "");
  };
  // The page of the bundle, written before the seal so that it is sealed with it (docs/report.md).
  nbtrace::report::ReportWritten page;
  opt.before_seal = [&page](const std::filesystem::path& dir) { page = nbtrace::report::write_report_file(dir); };
  const nbtrace::ParityBundle b = nbtrace::run_parity(opt, progress, std::cerr);
  out << report_line(b.dir.string(), page) << "\n";
  out << "bundle: " << b.dir.string() << " (sealed; verdict " << nbtrace::verdict_name(b.result.verdict) << ")\n";
  return b.result.exit_code();
}

}  // namespace

std::function<int()> setup_run(CLI::App& app, const std::vector<std::string>& forwarded,
                               const std::vector<std::string>& argv) {
  auto o = std::make_shared<RunCommandOptions>();
  nbtrace::ParityRunOptions& opt = o->run;
  CLI::App* cmd = app.add_subcommand(
      "run",
      "Run a reference program and nbsim (or another program) with the same arguments, compare the images, trace the "
      "chosen and the K worst pixels on both sides, diff every trace, and keep it all as one sealed evidence bundle.\n"
      "Usage: nbparity run --ref-bin PATH [options] -- ARGS...");
  cmd->add_option("--ref-bin", opt.ref_bin, "reference program, e.g. nanoBragg.c built with -DTRACING")->required();
  cmd->add_option("--test", opt.test_bin, "program under test: nbsim (default) or a path");
  cmd->add_option("--mode", opt.mode, "nbsim mode for the test side: spec or c-parity")
      ->check(CLI::IsMember({"spec", "c-parity"}));
  cmd->add_option("--pixels", o->pixels, "pixels to trace as S,F (repeatable)");
  cmd->add_option("--auto-pixels", opt.auto_pixels, "also trace the K pixels with the largest |difference|");
  cmd->add_option("--bundle", opt.bundle_dir, "bundle folder (default: parity/<UTC id>)");
  cmd->add_option("--trace-tolerance", opt.trace_tolerance,
                  "relative tolerance of the trace diffs (default: the policy file's tolerance_rel, else 1e-9)");
  cmd->add_option("--tolerances", opt.tolerances_file,
                  "policy file for the trace diffs (tolerance_rel, abs_floor, overrides, waivers, aliases)");
  cmd->add_option("--correlation-min", opt.correlation_min, "image correlation below this is a divergence");
  cmd->add_option("--roi", o->roi, "image metrics on xmin xmax ymin ymax only")->expected(4);
  return [o, forwarded, argv] {
    o->run.args = forwarded;
    o->run.argv = argv;
    return run_command(*o);
  };
}
