#pragma once
// nb-compare: compare the float images of two nanoBragg implementations,
// either two existing files (`images`) or by running both programs with the
// same arguments, through the parity engine (images only). Exit codes
// (AT-TOOLS-001, nbtrace::exit_code): 0 ok, 1 failure (usage, an output
// that cannot be written), 2 program_failed (a runner), 3 divergence
// (correlation below --threshold), 4 check_failed (shape mismatch without
// --resample; a NaN or infinite pixel in the ROI), 5 input (an image
// missing, a folder, empty or of the wrong size). Its own files (PNGs,
// diff.bin, summary.json) are written as one set (docs/nb-compare.md).
#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

#include "nbtrace/parity/image.hpp"

namespace nbtrace {

struct CompareCommonOptions {
  std::string outdir;                 ///< default: comparisons/<UTC time>-<hash of args>
  std::optional<image::Roi> roi;
  std::optional<double> threshold;    ///< minimum correlation
  bool resample = false;              ///< nearest-neighbour resize of test to ref's shape
  double png_scale = 99.5;            ///< percentile of both images (ROI) mapped to white
  bool save_diff = false;             ///< diff.bin and diff.png
  std::size_t peaks = 20;
  double peak_percentile = 95;
  double peak_gate = 2.0;
};

struct CompareImagesOptions {
  CompareCommonOptions common;
  std::string ref;
  std::string test;
  std::size_t fpixels = 0;
  std::size_t spixels = 0;
  std::size_t test_fpixels = 0;  ///< with --resample when the test has another shape
  std::size_t test_spixels = 0;
};

/// Runner mode's default --threshold, nb_compare.py's (AT-TOOLS-001).
inline constexpr double kDefaultThreshold = 0.95;

/// Runner mode. With --ref-bin or --test-bin the sides and files are named
/// ref and test; otherwise, as nb_compare.py names them, c and py, the
/// programs found by its search order (programs.hpp).
struct CompareRunOptions {
  CompareCommonOptions common;   ///< threshold absent: kDefaultThreshold
  std::string ref_bin;   ///< --ref-bin, else $NB_C_BIN
  std::string test_bin;  ///< --test-bin, else nbsim beside this tool
  std::string c_bin;     ///< --c-bin: nb_compare.py's name
  std::string py_bin;    ///< --py-bin: a program or a command line
  std::vector<std::string> args;  ///< forwarded to both programs
};

int run_compare_images(const CompareImagesOptions& opt, std::ostream& out, std::ostream& err);
int run_compare_programs(const CompareRunOptions& opt, std::ostream& out, std::ostream& err);

}  // namespace nbtrace
