#pragma once
// Parity runs end to end: two implementations with the same arguments, their
// images compared, the worst (or chosen) pixels traced on both sides, every
// trace diffed, all kept as one sealed evidence bundle.
#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

#include "nbtrace/image_compare.hpp"
#include "nbtrace/trace.hpp"

namespace nbtrace {

struct ParityRunOptions {
  std::string ref_bin;            ///< reference program (e.g. nanoBragg.c)
  std::string test_bin = "nbsim"; ///< program under test ("nbsim": the one beside this tool)
  std::string mode;               ///< adds -mode MODE to nbsim's arguments (spec, c-parity); empty: none
  std::vector<TracedPixel> pixels;  ///< pixels to trace (slow, fast)
  std::size_t auto_pixels = 0;    ///< also trace the K pixels with the largest |Δ|
  std::string bundle_dir;         ///< default: parity/<UTC id>
  double trace_tolerance = 1e-9;  ///< relative tolerance of the trace diffs
  std::string tolerances_file;    ///< policy (overrides, waivers) for the trace diffs
  std::optional<double> correlation_min;  ///< image verdict threshold
  std::optional<image::Roi> roi;
  std::vector<std::string> args;  ///< simulator arguments, forwarded to both
  std::vector<std::string> argv;  ///< this command line, recorded in commands.txt
};

/// Returns 0 when the image meets the threshold and every trace agrees, 3 on
/// a divergence, 2 when a program fails.
int run_parity(const ParityRunOptions& opt, std::ostream& out, std::ostream& err);

/// The pixels with the largest |test − ref|, distinct, largest first.
std::vector<TracedPixel> worst_pixels(const image::Image& ref, const image::Image& test, std::size_t k);

}  // namespace nbtrace
