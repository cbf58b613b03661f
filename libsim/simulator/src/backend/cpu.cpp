// The CPU launcher: std::thread workers take the rows of the rendered box
// one at a time (an atomic counter, so cores stay busy whatever a row costs:
// masked or cut pixels are cheap), each row through the lane renderer
// (lanes.hpp: kLanes pixels at once in vector code) or, for interpolated
// runs and the scalar reference, compute_pixel() per pixel
// (nbsim/physics/kernel.hpp). Statistics and the interpolation stop from
// nbsim/statistics.hpp, as the CUDA backend uses them.
#include <algorithm>
#include <atomic>
#include <optional>
#include <thread>

#include "nbtrace/base/progress.hpp"
#include "nbsim/physics/kernel.hpp"
#include "nbsim/simulator.hpp"
#include "nbsim/statistics.hpp"
#include "lanes.hpp"

namespace nbsim {

bool checked_sines_available() { return lanes::checked_sines_usable(); }

void launch_cpu(const KernelParams& p, const RenderBox& box, float* image, double* row_omega, int threads,
                nbtrace::ProgressMeter* progress, int* outside_eval, CpuNumerics numerics) {
  if (threads <= 0) threads = static_cast<int>(std::thread::hardware_concurrency());
  if (threads <= 0) threads = 1;
  const long rows = box.rows();
  const long per_row = box.cols();
  if (rows == 0 || per_row == 0) return;
  if (threads > rows) threads = static_cast<int>(rows);

  const bool f32 = numerics.dtype == DType::float32;
  const bool use_lanes = numerics.lanes && lanes::lanes_apply(p) && !outside_eval;
  const lanes::SinKind sin_kind = numerics.vector_math                                      ? lanes::SinKind::vector
                                  : numerics.checked_sines && lanes::checked_sines_usable() ? lanes::SinKind::checked_libm
                                                                                            : lanes::SinKind::scalar_libm;
  // Per-run invariants of the phi x mosaic loop, in the run's number type.
  std::optional<lanes::StepCells<double>> cells64;
  std::optional<lanes::StepCells<float>> cells32;
  if (use_lanes) {
    if (f32) cells32.emplace(p);
    else cells64.emplace(p);
  }

  std::atomic<long> next_row{0};
  auto worker = [&] {
    NullRecorder none;
    for (;;) {
      const long r = next_row.fetch_add(1, std::memory_order_relaxed);
      if (r >= rows) break;
      const int s = box.smin + static_cast<int>(r);
      float* row = image + static_cast<std::size_t>(s) * p.fpixels;
      double omega = 0;
      if (use_lanes && f32) {
        lanes::render_row_f32(p, *cells32, s, box.fmin, box.fmax, row, omega);
      } else if (use_lanes) {
        lanes::render_row_f64(p, *cells64, sin_kind, s, box.fmin, box.fmax, row, omega);
      } else {
        for (int f = box.fmin; f <= box.fmax; ++f) {
          const PixelResult px = f32 ? compute_pixel<float>(p, s, f, none) : compute_pixel<double>(p, s, f, none);
          row[f] = px.value;
          if (outside_eval) outside_eval[static_cast<std::size_t>(s) * p.fpixels + f] = px.first_outside_eval;
          omega += px.omega_sum;
        }
      }
      row_omega[s] = omega;
      if (progress) progress->advance(1);
    }
  };
  std::vector<std::thread> pool;
  pool.reserve(threads - 1);
  for (int t = 1; t < threads; ++t) pool.emplace_back(worker);
  worker();
  for (auto& t : pool) t.join();
}

ImageStats compute_stats(const KernelParams& p, const std::vector<float>& image,
                         const std::vector<double>& row_omega, bool rmsd_counts_masked) {
  const RenderBox box = render_box(p);
  // One running sum in pixel order (the reference's), then the rows' solid angles.
  Moments m = box_moments(image.data(), nullptr, p.mask, box);
  for (double w : row_omega) m.omega += w;
  ImageStats st;
  finalize(m, p, st);
  finalize(box_deviation(image.data(), p.mask, rmsd_counts_masked, box, st.mean), st);
  return st;
}

SimulationResult run_simulation(PreparedSimulation& sim, int threads, nbtrace::ProgressMeter* progress,
                                CpuNumerics numerics) {
  KernelParams& p = sim.params;
  SimulationResult r;
  r.fpixels = p.fpixels;
  r.spixels = p.spixels;
  const std::size_t n = static_cast<std::size_t>(p.fpixels) * p.spixels;
  r.image.assign(n, 0.0f);
  std::vector<double> row_omega(p.spixels, 0.0);
  const RenderBox box = render_box(p);
  if (!p.interpolate) {
    launch_cpu(p, box, r.image.data(), row_omega.data(), threads, progress, nullptr, numerics);
  } else {
    // Pass 1 interpolates everywhere and notes where the grid runs out; the
    // first such evaluation in pixel order switches interpolation off for
    // the rest of the run, so pass 2 redoes the rows from there.
    std::vector<int> outside(n, -1);
    launch_cpu(p, box, r.image.data(), row_omega.data(), threads, progress, outside.data(), numerics);
    const InterpolationStop stop = find_interpolation_stop(outside.data(), box);
    if (stop.stops())
      launch_cpu(p, apply_interpolation_stop(p, stop, box), r.image.data(), row_omega.data(), threads, nullptr, nullptr,
                 numerics);
  }
  r.stats = compute_stats(p, r.image, row_omega, sim.quirks.rmsd_counts_masked);
  return r;
}

}  // namespace nbsim
