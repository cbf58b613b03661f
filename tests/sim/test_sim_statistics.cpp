// The statistics, rendered box and interpolation stop both launchers share
// (nbsim/statistics.hpp), run on the CPU: as the CPU launcher runs them (one
// running sum, compute_stats) and in the CUDA backend's shape (grid-stride
// threads, block trees, a final tree), against statistics computed here from
// the image and the mask. Spec mode leaves masked pixels out of rmsd, which
// the CUDA backend used not to (it counted every pixel of the box);
// c-parity counts them (C-PARITY-009).
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "nbsim/physics/kernel.hpp"
#include "nbsim/statistics.hpp"
#include "spec_at.hpp"

using namespace nbsim;

namespace {

/// The CUDA backend's reduction shape on the CPU: thread t of `blocks` x
/// `threads` takes box pixels t, t + blocks*threads, ...; each block
/// combines its threads in a halving tree, one more block of `threads`
/// combines the block results the same way.
template <class T, class Share>
T gpu_shaped(int blocks, int threads, Share share) {
  auto tree = [threads](std::vector<T>& sh) {
    for (int w = threads / 2; w > 0; w >>= 1)
      for (int t = 0; t < w; ++t) combine(sh[t], sh[t + w]);
    return sh[0];
  };
  std::vector<T> partial(blocks);
  for (int b = 0; b < blocks; ++b) {
    std::vector<T> sh(threads);
    for (int t = 0; t < threads; ++t) sh[t] = share(static_cast<long long>(b) * threads + t, static_cast<long long>(blocks) * threads);
    partial[b] = tree(sh);
  }
  std::vector<T> sh(threads);
  for (int t = 0; t < threads; ++t)
    for (int i = t; i < blocks; i += threads) combine(sh[t], partial[i]);
  return tree(sh);
}

/// Statistics computed here from the image and the mask alone: mean and
/// rms over the unmasked ROI pixels, rmsd around that mean over the
/// unmasked ones or (masked_in_rmsd) over every ROI pixel.
struct Expected {
  long pixels = 0;
  float max_I = 0;
  int max_s = -1, max_f = -1;
  double mean = 0, rms = 0, rmsd = 0;
};

Expected expected(const std::vector<float>& image, const std::vector<std::uint16_t>& mask, int fpixels, int smin,
                  int smax, int fmin, int fmax, bool masked_in_rmsd) {
  Expected e;
  double sum = 0, sumsqr = 0;
  for (int s = smin; s <= smax; ++s)
    for (int f = fmin; f <= fmax; ++f) {
      const std::size_t i = static_cast<std::size_t>(s) * fpixels + f;
      if (mask[i] == 0) continue;
      if (image[i] > e.max_I) {
        e.max_I = image[i];
        e.max_s = s;
        e.max_f = f;
      }
      sum += image[i];
      const float sq = image[i] * image[i];  // the reference squares its floats
      sumsqr += sq;
      ++e.pixels;
    }
  e.mean = sum / static_cast<double>(e.pixels);
  e.rms = std::sqrt(sumsqr / static_cast<double>(e.pixels - 1));
  double dev = 0;
  long n = 0;
  for (int s = smin; s <= smax; ++s)
    for (int f = fmin; f <= fmax; ++f) {
      const std::size_t i = static_cast<std::size_t>(s) * fpixels + f;
      if (mask[i] == 0 && !masked_in_rmsd) continue;
      dev += (image[i] - e.mean) * (image[i] - e.mean);
      ++n;
    }
  e.rmsd = std::sqrt(dev / static_cast<double>(n - 1));
  return e;
}

}  // namespace

TEST_CASE("the rendered box clips the ROI to the detector; walks cover it in pixel order") {
  KernelParams p;
  p.fpixels = 24;
  p.spixels = 20;
  p.roi_fmin = 4;
  p.roi_fmax = 40;  // past the edge: clipped to 23
  p.roi_smin = 2;
  p.roi_smax = 15;
  const RenderBox box = render_box(p);
  CHECK(box.smin == 2);
  CHECK(box.smax == 15);
  CHECK(box.fmin == 4);
  CHECK(box.fmax == 23);
  CHECK(box.count() == 14 * 20);
  CHECK(box.contains(15, 23));
  CHECK_FALSE(box.contains(16, 23));
  CHECK_FALSE(box.contains(2, 3));
  CHECK(box.from_row(9).smin == 9);
  CHECK(box.from_row(0).smin == 2);
  for (long long stride : {1LL, 3LL, 19LL, 20LL, 21LL, 47LL, 400LL}) {
    CAPTURE(stride);
    std::vector<int> seen(static_cast<std::size_t>(p.fpixels) * p.spixels, 0);
    for (long long first = 0; first < stride; ++first) {
      long long last = -1;
      for (BoxWalk w(box, first, stride); !w.done(); w.next()) {
        REQUIRE(box.contains(w.slow(), w.fast()));
        REQUIRE(w.index() == static_cast<long long>(w.slow()) * p.fpixels + w.fast());
        REQUIRE(w.index() > last);
        last = w.index();
        ++seen[static_cast<std::size_t>(w.index())];
      }
    }
    for (int s = 0; s < p.spixels; ++s)
      for (int f = 0; f < p.fpixels; ++f) CHECK(seen[static_cast<std::size_t>(s) * p.fpixels + f] == (box.contains(s, f) ? 1 : 0));
  }
}

TEST_CASE("shared statistics: rmsd over unmasked pixels in spec mode, all ROI pixels with C-PARITY-009, in both shapes") {
  nbtest::TempDir work;
  SimConfig c = spec_at::small_config(work, 24);
  c.detector.spixels = 20;
  c.detector.roi = {4, 40, 2, 15};
  // Mask out rows 10..15 of the ROI and a few scattered pixels (0 = masked).
  const int fpixels = 24, spixels = 20;
  std::vector<std::uint16_t> mask(static_cast<std::size_t>(fpixels) * spixels, 1);
  for (int s = 10; s < 16; ++s)
    for (int f = 0; f < fpixels; ++f) mask[static_cast<std::size_t>(s) * fpixels + f] = 0;
  for (int i : {2 * 24 + 4, 3 * 24 + 17, 7 * 24 + 9}) mask[static_cast<std::size_t>(i)] = 0;
  c.detector.mask = mask;
  c.detector.mask_fpixels = fpixels;
  c.detector.mask_spixels = spixels;

  for (const Mode mode : {Mode::spec, Mode::c_parity}) {
    const bool parity = mode == Mode::c_parity;
    CAPTURE(parity);
    c.set_mode(mode);
    PreparedSimulation sim;
    prepare_simulation(c, sim, false);
    REQUIRE(sim.quirks.rmsd_counts_masked == parity);
    const SimulationResult r = run_simulation(sim, 1);
    const KernelParams& p = sim.params;
    const RenderBox box = render_box(p);
    REQUIRE(box.fmax == 23);

    // The CPU run against the image and the mask.
    const Expected e = expected(r.image, mask, fpixels, 2, 15, 4, 23, parity);
    REQUIRE(e.pixels == 8 * 20 - 3);
    REQUIRE(e.max_I > 0);
    CHECK(r.stats.pixels == e.pixels);
    CHECK(r.stats.max_I == e.max_I);
    CHECK(r.stats.max_I_x == p.subpixel_size * (e.max_f * p.oversample + p.oversample - 1) + p.subpixel_size / 2.0);
    CHECK(r.stats.max_I_y == p.subpixel_size * (e.max_s * p.oversample + p.oversample - 1) + p.subpixel_size / 2.0);
    CHECK(r.stats.mean == doctest::Approx(e.mean).epsilon(1e-12));
    CHECK(r.stats.rms == doctest::Approx(e.rms).epsilon(1e-12));
    CHECK(r.stats.rmsd == doctest::Approx(e.rmsd).epsilon(1e-12));
    // Counting the masked pixels or not changes rmsd here.
    const Expected other = expected(r.image, mask, fpixels, 2, 15, 4, 23, !parity);
    CHECK(std::fabs(other.rmsd - e.rmsd) > 1e-3 * e.rmsd);

    // compute_stats is the shared code as one running sum in pixel order.
    std::vector<double> row_omega(p.spixels, 0.0), omega(r.image.size(), 0.0);
    for (BoxWalk w(box, 0, 1); !w.done(); w.next()) {
      NullRecorder none;
      const double o = compute_pixel(p, w.slow(), w.fast(), none).omega_sum;
      omega[static_cast<std::size_t>(w.index())] = o;
      row_omega[w.slow()] += o;
    }
    const ImageStats cpu = compute_stats(p, r.image, row_omega, sim.quirks.rmsd_counts_masked);
    CHECK(cpu.rmsd == r.stats.rmsd);
    CHECK(cpu.omega_sum == r.stats.omega_sum);
    CHECK(cpu.omega_sum > 0);

    // The CUDA backend's shape: the same pixels counted, the same brightest
    // pixel, sums equal up to the order of the additions.
    for (const auto& [blocks, threads] : {std::pair{5, 8}, std::pair{1, 256}, std::pair{3, 2}}) {
      CAPTURE(blocks);
      CAPTURE(threads);
      const Moments m = gpu_shaped<Moments>(blocks, threads, [&](long long first, long long stride) {
        return box_moments(r.image.data(), omega.data(), p.mask, box, first, stride);
      });
      ImageStats gpu;
      finalize(m, p, gpu);
      const Deviation d = gpu_shaped<Deviation>(blocks, threads, [&](long long first, long long stride) {
        return box_deviation(r.image.data(), p.mask, sim.quirks.rmsd_counts_masked, box, gpu.mean, first, stride);
      });
      finalize(d, gpu);
      CHECK(d.count == (parity ? box.count() : e.pixels));
      CHECK(gpu.pixels == cpu.pixels);
      CHECK(gpu.max_I == cpu.max_I);
      CHECK(gpu.max_I_x == cpu.max_I_x);
      CHECK(gpu.max_I_y == cpu.max_I_y);
      CHECK(gpu.mean == doctest::Approx(cpu.mean).epsilon(1e-12));
      CHECK(gpu.rms == doctest::Approx(cpu.rms).epsilon(1e-12));
      CHECK(gpu.rmsd == doctest::Approx(cpu.rmsd).epsilon(1e-12));
      CHECK(gpu.rmsd == doctest::Approx(e.rmsd).epsilon(1e-12));
      CHECK(gpu.omega_sum == doctest::Approx(cpu.omega_sum).epsilon(1e-12));
    }
  }
}

TEST_CASE("shared interpolation stop: the first evaluation off the grid in pixel order, whatever the grouping") {
  KernelParams p;
  p.fpixels = 10;
  p.spixels = 8;
  p.roi_fmin = 2;
  p.roi_fmax = 7;
  p.roi_smin = 1;
  p.roi_smax = 6;
  const RenderBox box = render_box(p);
  std::vector<int> outside(80, -1);
  outside[0 * 10 + 5] = 0;  // outside the box: not rendered, ignored
  outside[4 * 10 + 6] = 3;
  outside[3 * 10 + 7] = 2;  // the first in pixel order
  outside[5 * 10 + 2] = 0;
  const InterpolationStop stop = find_interpolation_stop(outside.data(), box);
  REQUIRE(stop.stops());
  CHECK(stop.pixel == 37);
  CHECK(stop.eval == 2);
  CHECK_FALSE(find_interpolation_stop(std::vector<int>(80, -1).data(), box).stops());
  // Candidates combined in any grouping (the GPU's atomic minimum) agree.
  InterpolationStop forward, backward;
  for (BoxWalk w(box, 0, 1); !w.done(); w.next()) combine(forward, stop_candidate(w.index(), outside[w.index()]));
  for (long long i = 79; i >= 0; --i)
    if (box.contains(static_cast<int>(i / 10), static_cast<int>(i % 10))) combine(backward, stop_candidate(i, outside[i]));
  CHECK(forward.pixel == stop.pixel);
  CHECK(forward.eval == stop.eval);
  CHECK(backward.pixel == stop.pixel);
  CHECK(backward.eval == stop.eval);
  // Applied: the parameters carry it, the second pass redoes rows 3..6.
  const RenderBox rest = apply_interpolation_stop(p, stop, box);
  CHECK(p.interp_stop_pixel == 37);
  CHECK(p.interp_stop_eval == 2);
  CHECK(rest.smin == 3);
  CHECK(rest.smax == 6);
  CHECK(rest.fmin == 2);
  CHECK(rest.fmax == 7);
}
