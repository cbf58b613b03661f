// nb-compare: compare the float images of two nanoBragg implementations.
//   nb-compare [options] [--c-bin PATH] [--py-bin CMD] [--] ARGS...   (nb_compare.py's way)
//   nb-compare [options] [--ref-bin PATH] [--test-bin PATH] [--] ARGS...
//   nb-compare images REF.bin TEST.bin --fpixels N --spixels M [options]
#include <CLI/CLI.hpp>
#include <algorithm>
#include <cmath>
#include <fmt/format.h>
#include <limits>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "compare.hpp"
#include "nbtrace/base/tool_main.hpp"
#include "nbtrace/base/cli_flags.hpp"

namespace {

/// A finite number in [lo, hi]. (NaN passes CLI::Range, every comparison
/// with it being false, and a NaN threshold, percentile or gate would make
/// every verdict meaningless.)
CLI::Validator finite_in(double lo, double hi) {
  return CLI::Validator(
      [lo, hi](std::string& text) {
        double v = 0;
        if (!CLI::detail::lexical_cast(text, v) || !std::isfinite(v)) return "'" + text + "' is not a finite number";
        if (v < lo || v > hi) {
          return "'" + text + "' is not " +
                 (hi == std::numeric_limits<double>::max() ? fmt::format("at least {:g}", lo)
                                                            : fmt::format("from {:g} to {:g}", lo, hi));
        }
        return std::string();
      },
      "FINITE", "finite");
}
constexpr double kAny = std::numeric_limits<double>::max();

/// Without "--", the simulator arguments start at the first argument that is
/// not one of nb-compare's options or their values (nb_compare.py's
/// `nb-compare [options] ARGS`); "images" first is the subcommand. A "--name"
/// that is no option stays with the options, for CLI11 to refuse: nanoBragg's
/// own options have one dash.
void split_off_args(const CLI::App& app, std::vector<std::string>& front, std::vector<std::string>& forwarded) {
  if (!forwarded.empty() || front.empty() || front[0] == "images") return;
  std::size_t i = 0;
  while (i < front.size()) {
    const std::string& a = front[i];
    if (a == "-h") {
      ++i;
      continue;
    }
    if (a.rfind("--", 0) != 0) break;
    const std::size_t eq = a.find('=');
    const CLI::Option* o = app.get_option_no_throw(a.substr(0, eq));
    if (o == nullptr || eq != std::string::npos) {
      ++i;
      continue;
    }
    i += 1 + static_cast<std::size_t>(std::max(0, o->get_items_expected_max()));
  }
  if (i >= front.size() || front[i] == "images") return;  // options before the subcommand
  forwarded.assign(front.begin() + static_cast<std::ptrdiff_t>(i), front.end());
  front.resize(i);
}

void add_common(CLI::App& app, nbtrace::CompareCommonOptions& c, std::vector<std::size_t>& roi) {
  app.add_option("--outdir", c.outdir, "output folder (default: comparisons/<UTC time>-<hash>)");
  app.add_option("--roi", roi, "region for the metrics: xmin xmax ymin ymax (inclusive pixels; x = fast)")->expected(4);
  app.add_option("--threshold", c.threshold, "minimum correlation; below it the exit code is 3 (default: 0.95 in runner mode, none for images)")
      ->check(finite_in(-kAny, kAny));
  app.add_flag("--resample", c.resample, "resize the test image to the reference's shape (nearest neighbour)");
  app.add_option("--png-scale", c.png_scale, "percentile of both images mapped to white in the previews")
      ->default_val(99.5)
      ->check(finite_in(0, 100));
  app.add_flag("--save-diff", c.save_diff, "also write diff.bin and a signed heat map diff.png");
  app.add_option("--peaks", c.peaks, "peaks to register per image (brightest local maxima)")->default_val(20);
  app.add_option("--peak-percentile", c.peak_percentile, "peaks must exceed this percentile of the ROI")
      ->default_val(95.0)
      ->check(finite_in(0, 100));
  app.add_option("--peak-gate", c.peak_gate, "largest distance in pixels for a matched peak pair")
      ->default_val(2.0)
      ->check(finite_in(0, kAny));
}

}  // namespace

int main(int argc, char** argv) {
  // Everything after the first "--" goes to the simulators unchanged.
  auto [front, forwarded] = nbtrace::split_at_double_dash(argc, argv);

  CLI::App app{
      "nb-compare: run two nanoBragg implementations with the same arguments (or take two float images) and compare "
      "the images: correlation, MSE, RMSE, max |diff| and where, sums and their ratio, peak registration "
      "(Hungarian matching under a pixel gate), PNG previews and summary.json in a fresh folder. A drop-in for the "
      "PyTorch port's nb_compare.py: --c-bin, --py-bin, NB_C_BIN, NB_PY_BIN, its files and summary keys.\n"
      "Exit codes: 0 the images agree, 1 usage, 2 a runner failed or is not there, 3 correlation below --threshold "
      "(runner mode: 0.95 unless given), 4 shape mismatch without --resample or an image with NaN/inf pixels, 5 an "
      "image missing, empty, a folder or of the wrong size.",
      "nb-compare"};
  nbtrace::add_version_flag(app, "nb-compare");
  nbtrace::CompareRunOptions run;
  std::vector<std::size_t> roi;
  add_common(app, run.common, roi);
  app.add_option("--c-bin", run.c_bin,
                 "C program, nb_compare.py's name (default: $NB_C_BIN, ./golden_suite_generator/nanoBragg, ./nanoBragg)");
  app.add_option("--py-bin", run.py_bin,
                 "program under test: a path or a command line such as 'python -m nanobrag_torch' (default: "
                 "$NB_PY_BIN, nanoBragg on PATH, python -m nanobrag_torch when installed, nbsim beside this tool)");
  app.add_option("--ref-bin", run.ref_bin, "reference program; files named ref_* (default: $NB_C_BIN)");
  app.add_option("--test-bin", run.test_bin, "program under test; files named test_* (default: nbsim beside this tool)");
  app.footer("Runner mode: nb-compare [options] [--] ARGS... (each program runs in its own folder under the output "
             "folder; input file arguments are made absolute; --threshold defaults to 0.95). Without --ref-bin and "
             "--test-bin the sides are nb_compare.py's c and py: c_float.bin, py_float.bin, c.png, py.png, diff.png.");

  nbtrace::CompareImagesOptions img;
  std::vector<std::size_t> img_roi;
  CLI::App* images = app.add_subcommand(
      "images", "Compare two existing images: raw float32 (fast-major), .npy, SMV or CBF, told by their content.");
  images->add_option("REF", img.ref, "reference float image")->required();
  images->add_option("TEST", img.test, "float image under test")->required();
  // 0 stands for "not given" in the options, so it is refused here.
  const CLI::Validator positive(
      [](std::string& s) { return s.find_first_not_of('0') == std::string::npos ? "must be positive" : std::string(); },
      "> 0");
  images->add_option("--fpixels", img.fpixels, "fast-axis pixels of a raw float32 reference (a check for .npy, SMV, CBF)")
      ->check(positive);
  images->add_option("--spixels", img.spixels, "slow-axis pixels of a raw float32 reference (a check for .npy, SMV, CBF)")
      ->check(positive);
  images->add_option("--test-fpixels", img.test_fpixels, "fast-axis pixels of TEST when it differs (with --resample)");
  images->add_option("--test-spixels", img.test_spixels, "slow-axis pixels of TEST when it differs (with --resample)");
  add_common(*images, img.common, img_roi);

  split_off_args(app, front, forwarded);
  std::vector<std::string> reversed(front.rbegin(), front.rend());
  try {
    app.parse(reversed);
  } catch (const CLI::ParseError& e) {
    return nbtrace::cli_parse_exit(app, e);
  }
  auto to_roi = [](const std::vector<std::size_t>& v) -> std::optional<nbtrace::image::Roi> {
    if (v.empty()) return std::nullopt;
    return nbtrace::image::Roi{v[0], v[1], v[2], v[3]};
  };
  return nbtrace::guarded_main("nb-compare", [&] {
    if (images->parsed()) {
      if (!forwarded.empty()) throw nbtrace::UsageError("images mode takes no arguments after --");
      img.common.roi = to_roi(img_roi);
      return nbtrace::run_compare_images(img, std::cout, std::cerr);
    }
    run.common.roi = to_roi(roi);
    run.args = forwarded;
    return nbtrace::run_compare_programs(run, std::cout, std::cerr);
  });
}
