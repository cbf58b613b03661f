// The CPU launcher: std::thread workers over the rows of the rendered box,
// each pixel compute_pixel() (nbsim/physics/kernel.hpp); statistics and the
// interpolation stop from nbsim/statistics.hpp, as the CUDA backend uses
// them.
#include <algorithm>
#include <atomic>
#include <thread>

#include "nbtrace/base/progress.hpp"
#include "nbsim/physics/kernel.hpp"
#include "nbsim/simulator.hpp"
#include "nbsim/statistics.hpp"

namespace nbsim {

void launch_cpu(const KernelParams& p, const RenderBox& box, float* image, double* row_omega, int threads,
                nbtrace::ProgressMeter* progress, int* outside_eval) {
  if (threads <= 0) threads = static_cast<int>(std::thread::hardware_concurrency());
  if (threads <= 0) threads = 1;
  const long rows = box.rows();
  const long per_row = box.cols();
  if (rows == 0 || per_row == 0) return;
  if (threads > rows) threads = static_cast<int>(rows);

  std::atomic<long> next_row{0};
  auto worker = [&] {
    NullRecorder none;
    for (;;) {
      const long r = next_row.fetch_add(1, std::memory_order_relaxed);
      if (r >= rows) break;
      const int s = box.smin + static_cast<int>(r);
      double omega = 0;
      for (int f = box.fmin; f <= box.fmax; ++f) {
        const PixelResult px = compute_pixel(p, s, f, none);
        image[static_cast<std::size_t>(s) * p.fpixels + f] = px.value;
        if (outside_eval) outside_eval[static_cast<std::size_t>(s) * p.fpixels + f] = px.first_outside_eval;
        omega += px.omega_sum;
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

SimulationResult run_simulation(PreparedSimulation& sim, int threads, nbtrace::ProgressMeter* progress) {
  KernelParams& p = sim.params;
  SimulationResult r;
  r.fpixels = p.fpixels;
  r.spixels = p.spixels;
  const std::size_t n = static_cast<std::size_t>(p.fpixels) * p.spixels;
  r.image.assign(n, 0.0f);
  std::vector<double> row_omega(p.spixels, 0.0);
  const RenderBox box = render_box(p);
  if (!p.interpolate) {
    launch_cpu(p, box, r.image.data(), row_omega.data(), threads, progress);
  } else {
    // Pass 1 interpolates everywhere and notes where the grid runs out; the
    // first such evaluation in pixel order switches interpolation off for
    // the rest of the run, so pass 2 redoes the rows from there.
    std::vector<int> outside(n, -1);
    launch_cpu(p, box, r.image.data(), row_omega.data(), threads, progress, outside.data());
    const InterpolationStop stop = find_interpolation_stop(outside.data(), box);
    if (stop.stops())
      launch_cpu(p, apply_interpolation_stop(p, stop, box), r.image.data(), row_omega.data(), threads);
  }
  r.stats = compute_stats(p, r.image, row_omega, sim.quirks.rmsd_counts_masked);
  return r;
}

}  // namespace nbsim
