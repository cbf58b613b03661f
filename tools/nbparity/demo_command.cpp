#include <iostream>
#include <memory>

#include "commands.hpp"
#include "nbtrace/parity.hpp"

std::function<int()> setup_demo(CLI::App& app) {
  auto opt = std::make_shared<nbtrace::DemoOptions>();
  CLI::App* cmd = app.add_subcommand(
      "demo",
      "The main job on the embedded demo_scaling case: nbsim in both modes against nanoBragg.c's outputs and the "
      "PyTorch port's, images and traces compared, each gap attributed, one sealed and audited bundle, a short "
      "report.");
  cmd->add_option("--example", opt->example_dir, "example folder (default: examples/demo_scaling of the source tree)");
  cmd->add_option("--out", opt->out_dir, "output folder (default: demo-out)");
  cmd->add_option("--nbsim", opt->nbsim, "nbsim binary (default: the one beside this tool)");
  return [=] { return nbtrace::run_demo(*opt, std::cout, std::cerr); };
}
