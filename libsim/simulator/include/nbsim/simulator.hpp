#pragma once
// Running a prepared simulation: the CPU launcher (std::thread workers over
// image rows), the image statistics (nbsim/statistics.hpp, shared with the
// CUDA backend), and per-pixel traces.
#include <functional>
#include <string>
#include <vector>

#include "nbsim/config.hpp"
#include "nbsim/setup.hpp"
#include "nbsim/statistics.hpp"

namespace nbtrace {
class ProgressMeter;
}

namespace nbsim {

struct SimulationResult {
  std::vector<float> image;  ///< fpixels*spixels, fast-major
  int fpixels = 0, spixels = 0;
  ImageStats stats;
};

/// How the CPU computes: the number type, and whether the lattice sines may
/// come from a vector routine (glibc libmvec: every pixel within 1e-12
/// relative of the scalar result; spec mode) or must be glibc's scalar sin
/// (bit-identical to compute_pixel<double> and nanoBragg.c). `lanes` false
/// runs compute_pixel pixel by pixel (the scalar reference, for tests).
struct CpuNumerics {
  DType dtype = DType::float64;
  bool vector_math = false;
  bool lanes = true;
  /// Without vector_math: the sines from a checked vector routine where it
  /// proves its value is the C library's, scalar sin elsewhere (the same
  /// bits, faster); false: scalar sin for every sine (-scalar_sin).
  bool checked_sines = true;
};

/// Whether float64 runs with CpuNumerics::checked_sines take the checked
/// vector sines in this process (the CPU has FMA and the routine agrees
/// with this C library's sin on a fixed sample), rather than scalar sin
/// for all of them. Either way the bits are the same.
bool checked_sines_available();

/// Runs every pixel of `box` (render_box(params) or part of it) on
/// `threads` workers (0: hardware threads). The image does not depend on
/// the number of threads: each pixel is a pure function of the parameters
/// and its index. `row_omega[s]` receives row s's solid angle;
/// `outside_eval` (optional, one per image pixel) receives
/// PixelResult::first_outside_eval. `progress` (optional) is advanced by
/// one per finished row, from the workers.
void launch_cpu(const KernelParams& params, const RenderBox& box, float* image, double* row_omega, int threads,
                nbtrace::ProgressMeter* progress = nullptr, int* outside_eval = nullptr, CpuNumerics numerics = {});

/// Runs the image. With interpolation it also fixes where interpolation
/// stops (sim.params.interp_stop_*), so later traces see the same state.
/// `progress` counts the rows of render_box(sim.params) (the first pass;
/// the rows redone after an interpolation stop are not counted).
SimulationResult run_simulation(PreparedSimulation& sim, int threads, nbtrace::ProgressMeter* progress = nullptr,
                                CpuNumerics numerics = {});

/// Over the ROI's unmasked pixels, a running sum in pixel order;
/// `rmsd_counts_masked` keeps the reference's rmsd, whose second pass has no
/// mask test (C-PARITY-009).
ImageStats compute_stats(const KernelParams& params, const std::vector<float>& image,
                         const std::vector<double>& row_omega, bool rmsd_counts_masked = false);

/// TRACE_CPP lines for one pixel: TRACE_CONFIG, the per-sub-path fields,
/// TRACE_CPP_PHI per phi step and the final scaling, numbers %.17g.
std::string trace_pixel(const PreparedSimulation& sim, TracePixel pixel);

/// The geometry set-up lines ("TRACE_CPP:name=value").
std::string geometry_trace(const PreparedSimulation& sim);

}  // namespace nbsim
