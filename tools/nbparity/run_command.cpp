#include <iostream>
#include <memory>

#include "commands.hpp"
#include "nbtrace/base/error.hpp"
#include "nbtrace/parity/parity.hpp"

std::function<int()> setup_run(CLI::App& app, const std::vector<std::string>& forwarded,
                               const std::vector<std::string>& argv) {
  auto opt = std::make_shared<nbtrace::ParityRunOptions>();
  auto pixels = std::make_shared<std::vector<std::string>>();
  auto roi = std::make_shared<std::vector<std::size_t>>();
  auto corr = std::make_shared<double>(0);
  CLI::App* cmd = app.add_subcommand(
      "run",
      "Run a reference program and nbsim (or another program) with the same arguments, compare the images, trace the "
      "chosen and the K worst pixels on both sides, diff every trace, and keep it all as one sealed evidence bundle.\n"
      "Usage: nbparity run --ref-bin PATH [options] -- ARGS...");
  cmd->add_option("--ref-bin", opt->ref_bin, "reference program, e.g. nanoBragg.c built with -DTRACING")->required();
  cmd->add_option("--test", opt->test_bin, "program under test: nbsim (default) or a path");
  cmd->add_option("--mode", opt->mode, "nbsim mode for the test side: spec or c-parity")
      ->check(CLI::IsMember({"spec", "c-parity"}));
  cmd->add_option("--pixels", *pixels, "pixels to trace as S,F (repeatable)");
  cmd->add_option("--auto-pixels", opt->auto_pixels, "also trace the K pixels with the largest |difference|");
  cmd->add_option("--bundle", opt->bundle_dir, "bundle folder (default: parity/<UTC id>)");
  cmd->add_option("--trace-tolerance", opt->trace_tolerance, "relative tolerance of the trace diffs")->default_val(1e-9);
  cmd->add_option("--tolerances", opt->tolerances_file, "policy file for the trace diffs (overrides, waivers)");
  auto* c = cmd->add_option("--correlation-min", *corr, "image correlation below this is a divergence");
  cmd->add_option("--roi", *roi, "image metrics on xmin xmax ymin ymax only")->expected(4);
  return [=] {
    opt->args = forwarded;
    opt->argv = argv;
    if (c->count()) opt->correlation_min = *corr;
    if (!roi->empty()) opt->roi = nbtrace::image::Roi{(*roi)[0], (*roi)[1], (*roi)[2], (*roi)[3]};
    for (const std::string& p : *pixels) {
      const auto comma = p.find(',');
      if (comma == std::string::npos) throw nbtrace::UsageError("--pixels " + p + ": expected SLOW,FAST");
      opt->pixels.push_back({std::stoi(p.substr(0, comma)), std::stoi(p.substr(comma + 1))});
    }
    return nbtrace::run_parity(*opt, std::cout, std::cerr);
  };
}
