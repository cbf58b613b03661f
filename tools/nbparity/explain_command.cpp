// nbparity explain: which documented quirks of nanoBragg.c explain the gap
// between a port and nanoBragg.c (docs/explain.md); the verdict on stdout.
#include <iostream>
#include <memory>

#include "commands.hpp"
#include "nbtrace/base/error.hpp"
#include "nbtrace/explain/explain.hpp"

namespace {

int explain_command(const nbtrace::explain::ExplainOptions& o) {
  try {
    const nbtrace::explain::ExplainResult r = nbtrace::explain::run_explain(o);
    std::cout << nbtrace::explain::explain_summary(r);
    if (!o.bundle_dir.empty()) std::cout << "bundle: " << o.bundle_dir << " (sealed; explain.json, explain.md, report.html)\n";
    return r.exit_code();
  } catch (const nbtrace::explain::ProgramRunFailed& e) {
    std::cerr << "nbparity: error: " << nbtrace::printable(e.what()) << "\n";
    return nbtrace::exit_code::program_failed;
  }
}

}  // namespace

std::function<int()> setup_explain(CLI::App& app, const std::vector<std::string>& forwarded,
                                   const std::vector<std::string>& argv) {
  auto o = std::make_shared<nbtrace::explain::ExplainOptions>();
  CLI::App* cmd = app.add_subcommand(
      "explain",
      "Find which documented quirks of nanoBragg.c (C-PARITY-001 ... C-TRACE-001) explain the gap between a port's "
      "output and nanoBragg.c's: nbsim runs -mode spec with each quirk alone, then a greedy search towards each side; "
      "each set is compared with both, and the pairs are ranked by the share of the gap they explain.\n"
      "Usage: nbparity explain --port-trace FILE (--c-trace FILE | --ref-bin PROG) [options] -- ARGS...\n"
      "Exit 0: an explanation reaches the threshold (or no gap); 3: none does; 1 usage; 2 a program failed; 5 bad input.");
  cmd->add_option("--port-trace", o->port_traces, "the port's trace of one pixel (repeatable, one per pixel)");
  cmd->add_option("--port-image", o->port_image, "the port's float image (raw float32, .npy, SMV, CBF)");
  cmd->add_option("--c-trace", o->c_traces, "nanoBragg.c's trace of the same pixel (repeatable, in --port-trace order)");
  cmd->add_option("--c-image", o->c_image, "nanoBragg.c's float image");
  cmd->add_option("--ref-bin", o->ref_bin, "or run this nanoBragg for C's traces (and image, with --port-image)");
  cmd->add_option("--cwd", o->cwd, "folder of the command line's input files (default: the current folder)");
  cmd->add_option("--nbsim", o->nbsim, "the model (default: the nbsim beside this tool)");
  cmd->add_option("--threshold", o->threshold, "share of the gap an explanation needs (default 0.9)");
  cmd->add_option("--json", o->json_out, "write the result as JSON (explanations[], verdict, first_divergence, runs)");
  cmd->add_option("--md", o->md_out, "write the result as Markdown");
  cmd->add_option("--bundle", o->bundle_dir, "write explain.json and explain.md into this evidence bundle and seal it");
  return [o, forwarded, argv] {
    o->args = forwarded;
    o->argv = argv;
    return explain_command(*o);
  };
}
