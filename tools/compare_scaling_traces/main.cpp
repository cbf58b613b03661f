// compare_scaling_traces: the nine-factor scaling-chain comparison of a C
// trace and a PyTorch (or C++) trace of one pixel; a drop-in for the peer's
// scripts/validation/compare_scaling_traces.py.
#include <CLI/CLI.hpp>
#include <iostream>

#include "compare_scaling.hpp"
#include "nbtrace/base/tool_main.hpp"
#include "nbtrace/base/cli_flags.hpp"

int main(int argc, char** argv) {
  CompareScalingOptions opt;
  opt.argv.assign(argv, argv + argc);
  opt.argv[0] = "compare_scaling_traces";  // recorded without this machine's install path
  CLI::App app{
      "Compare the scaling chain (I_before_scaling, r_e_sqr, fluence, steps, capture_fraction, polar, omega, "
      "cos_2theta, I_pixel_final) of a C trace and a PyTorch or C++ trace of the same pixel.\n"
      "Writes summary.md (the --out path), metrics.json and run_metadata.json beside it, or into an evidence "
      "bundle with --bundle DIR (recorded in its commands.txt; --seal seals it).\n"
      "Exit codes: 0 done, 1 usage, 3 divergence (with --fail-on-divergence), 5 input error.",
      "compare_scaling_traces"};
  std::string py, cpp;
  std::vector<int> pixel;
  app.add_option("--c", opt.c_trace, "C reference trace log (TRACE_C lines)")->required();
  auto* py_opt = app.add_option("--py", py, "PyTorch trace log (TRACE_PY lines)");
  auto* cpp_opt = app.add_option("--cpp", cpp, "C++ trace log (TRACE_CPP lines), instead of --py");
  py_opt->excludes(cpp_opt);
  auto* out_opt =
      app.add_option("--out", opt.out_summary, "output summary.md; metrics.json and run_metadata.json go beside it");
  auto* bundle_opt = app.add_option("--bundle", opt.bundle_dir,
                                    "evidence bundle folder instead of --out: outputs and copies of the traces go "
                                    "there, and the run is recorded in its commands.txt");
  bundle_opt->excludes(out_opt);
  app.add_flag("--seal", opt.seal, "with --bundle: seal the bundle afterwards (env.json, git_sha.txt, sha256.txt)")
      ->needs(bundle_opt);
  app.add_option("--tolerance", opt.tolerance_rel, "relative tolerance for PASS")->default_val(1e-6);
  app.add_option("--pixel", pixel, "traced pixel as SLOW FAST (default: from the trace's TRACE_CONFIG line)")
      ->expected(2);
  app.add_flag("--fail-on-divergence", opt.fail_on_divergence, "exit 3 when any factor is not PASS");
  app.add_option("--alias", opt.aliases, "extra field alias test_name=reference_name (repeatable)");
  app.add_flag("--allow-malformed", opt.allow_malformed, "warn about malformed TRACE lines instead of failing");
  nbtrace::add_version_flag(app, "compare_scaling_traces");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return nbtrace::cli_parse_exit(app, e);
  }
  return nbtrace::guarded_main("compare_scaling_traces", [&] {
    if (py.empty() && cpp.empty()) throw nbtrace::UsageError("one of --py or --cpp is required");
    if (opt.out_summary.empty() && opt.bundle_dir.empty()) {
      throw nbtrace::UsageError("one of --out or --bundle is required");
    }
    opt.test_trace = py.empty() ? cpp : py;
    opt.test_label = py.empty() ? "C++" : "PyTorch";
    if (!pixel.empty()) opt.pixel = nbtrace::TracedPixel{pixel[0], pixel[1]};
    return opt.bundle_dir.empty() ? run_compare_scaling(opt, std::cout, std::cerr)
                                  : run_compare_scaling_in_bundle(opt, std::cout, std::cerr);
  });
}
