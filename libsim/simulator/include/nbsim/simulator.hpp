#pragma once
// Running a prepared simulation: the CPU launcher (std::thread workers over
// image rows), the image statistics, and per-pixel traces.
#include <functional>
#include <string>
#include <vector>

#include "nbsim/config.hpp"
#include "nbsim/setup.hpp"

namespace nbsim {

/// Statistics over the region of interest, as the reference reports them.
struct ImageStats {
  double max_I = 0;
  double max_I_x = 0, max_I_y = 0;  ///< m: detector position of the last sub-pixel of the brightest pixel
  double mean = 0, rms = 0, rmsd = 0;
  long pixels = 0;
  double omega_sum = 0;  ///< sum of sub-pixel solid angles (sr), not yet divided by steps
};

struct SimulationResult {
  std::vector<float> image;  ///< fpixels*spixels, fast-major
  int fpixels = 0, spixels = 0;
  ImageStats stats;
};

/// Called now and then from the launching thread with (pixels done, total).
using ProgressFn = std::function<void(long done, long total)>;

/// Runs every pixel of the ROI on `threads` workers (0: hardware threads).
/// The image does not depend on the number of threads: each pixel is a pure
/// function of the parameters and its index.
/// Rows from `first_row` on; `outside_eval` (optional, one per pixel)
/// receives PixelResult::first_outside_eval.
void launch_cpu(const KernelParams& params, float* image, double* row_omega, int threads,
                const ProgressFn& progress = {}, int* outside_eval = nullptr, int first_row = 0);

/// Runs the image. With interpolation it also fixes where interpolation
/// stops (sim.params.interp_stop_*), so later traces see the same state.
SimulationResult run_simulation(PreparedSimulation& sim, int threads, const ProgressFn& progress = {});

/// Over the ROI's unmasked pixels; `rmsd_counts_masked` keeps the
/// reference's rmsd, whose second pass has no mask test (C-PARITY-009).
ImageStats compute_stats(const KernelParams& params, const std::vector<float>& image,
                         const std::vector<double>& row_omega, bool rmsd_counts_masked = false);

/// TRACE_CPP lines for one pixel: TRACE_CONFIG, the per-sub-path fields,
/// TRACE_CPP_PHI per phi step and the final scaling, numbers %.17g.
std::string trace_pixel(const PreparedSimulation& sim, TracePixel pixel);

/// The geometry set-up lines ("TRACE_CPP:name=value").
std::string geometry_trace(const PreparedSimulation& sim);

}  // namespace nbsim
