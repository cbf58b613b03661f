// spec-a-core acceptance tests for the per-pixel physics these features
// touch: AT-ABS-001, AT-STR-002, AT-BKG-001, AT-STA-001 (library level, no
// ../shared).
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <string>

#include "nbsim/hkl.hpp"
#include "nbsim/physics/kernel.hpp"
#include "nbsim/physics/detector.hpp"
#include "spec_at.hpp"

using namespace nbsim;

namespace {

double pixel_value(const KernelParams& p, int s, int f) {
  NullRecorder rec;
  return compute_pixel(p, s, f, rec).value;
}

/// A cubic polynomial in each index: tricubic interpolation reproduces it exactly.
double poly_F(double h, double k, double l) {
  return 40 + 2 * h - k + 0.5 * l + 0.1 * h * k * l + 0.05 * h * h * h;
}

std::string poly_hkl(int lo, int hi) {
  std::string text;
  char line[96];
  for (int h = lo; h <= hi; ++h)
    for (int k = lo; k <= hi; ++k)
      for (int l = lo; l <= hi; ++l) {
        std::snprintf(line, sizeof line, "%d %d %d %.17g\n", h, k, l, poly_F(h, k, l));
        text += line;
      }
  return text;
}

}  // namespace

TEST_CASE("AT-ABS-001 detector absorption layering") {
  nbtest::TempDir work;
  // N = 1 and a constant F: every sensor layer adds the same Bragg term
  // F^2, so the pixel shows the capture fractions alone.
  SimConfig c = spec_at::small_config(work, 16);
  c.crystal.Na = c.crystal.Nb = c.crystal.Nc = 1;
  c.crystal.interpolate = 0;
  c.detector.roty = 20 * spec_at::kDeg;  // a tilted sensor: parallax well below 1
  const int T = 4, s = 2, f = 3;
  PreparedSimulation flat;
  prepare_simulation(c, flat, false);
  const double no_absorption = pixel_value(flat.params, s, f);
  REQUIRE(no_absorption > 0);

  c.detector.thick = 100e-6;
  c.detector.thicksteps = T;
  c.detector.mu = 1.0 / 200e-6;
  PreparedSimulation sim;
  prepare_simulation(c, sim, false);
  const KernelParams& p = sim.params;
  REQUIRE(p.thicksteps == T);
  REQUIRE(p.thickstep == doctest::Approx(100e-6 / (T - 1)));  // range and count given
  // Each layer's fraction from that layer's diffracted direction.
  double cap[T];
  double sum = 0;
  for (int t = 0; t < T; ++t) {
    const Vec3 pos = detector_position(p.subpixel_size * f + p.subpixel_size / 2, p.subpixel_size * s + p.subpixel_size / 2,
                                       t * p.thickstep, p.fdet, p.sdet, p.odet, p.pix0, p.curved, p.distance, p.beam);
    Vec3 d;
    unitize(pos, d);
    const double rho = dot(d, p.odet);
    REQUIRE(std::fabs(rho) < 0.95);
    cap[t] = layer_capture_fraction(t, p.thickstep, p.mu, d, p.odet);
    CHECK(cap[t] == doctest::Approx(std::exp(-t * p.thickstep * p.mu / rho) -
                                    std::exp(-(t + 1) * p.thickstep * p.mu / rho)).epsilon(1e-14));
  }
  // With one parallax the layers telescope to 1 - exp(-thickness mu / rho).
  {
    const Vec3 d{0.9, 0.3, std::sqrt(1 - 0.81 - 0.09)};
    const double rho = dot(d, p.odet);
    for (int t = 0; t < T; ++t) sum += layer_capture_fraction(t, p.thickstep, p.mu, d, p.odet);
    CHECK(sum == doctest::Approx(1 - std::exp(-T * p.thickstep * p.mu / rho)).epsilon(1e-14));
  }

  // -oversample_thick unset: the summed terms times the LAST layer's fraction.
  CHECK(pixel_value(p, s, f) / no_absorption == doctest::Approx(T * cap[T - 1]).epsilon(1e-6));
  // Set: the running sum is multiplied by each layer's fraction as it grows.
  c.sampling.oversample_thick = true;
  PreparedSimulation over;
  prepare_simulation(c, over, false);
  double I = 0;
  for (int t = 0; t < T; ++t) I = (I + 1.0) * cap[t];
  CHECK(pixel_value(over.params, s, f) / no_absorption == doctest::Approx(I).epsilon(1e-6));
  CHECK(I != doctest::Approx(T * cap[T - 1]).epsilon(1e-3));  // the two rules really differ here
}

TEST_CASE("AT-STR-002 tricubic interpolation and fallback") {
  nbtest::TempDir work;
  nbtest::write_file(work / "wide.hkl", poly_hkl(-6, 6));
  nbtest::write_file(work / "narrow.hkl", poly_hkl(-3, 3));

  // Inside complete 4x4x4 neighbourhoods F is interpolated tricubically
  // (exact for a polynomial cubic in each index).
  const HklGrid wide = load_hkl_text(work / "wide.hkl", 0);
  const HklView view = wide.view(7);
  double F = 0;
  REQUIRE(view.tricubic_at<double>(1.3, -0.4, 2.7, F));
  CHECK(F == doctest::Approx(poly_F(1.3, -0.4, 2.7)).epsilon(1e-12));
  REQUIRE(view.tricubic_at<double>(-3.9, 3.99, 0.01, F));
  CHECK(F == doctest::Approx(poly_F(-3.9, 3.99, 0.01)).epsilon(1e-12));
  // The reference's bounds test on the fractional index: h - 2 >= h_min
  // and h - h_min + 3 <= h_range (grid -6..6: h in [-4, 4]).
  CHECK(view.tricubic_at<double>(4.0, 0, 0, F));
  CHECK_FALSE(view.tricubic_at<double>(4.01, 0, 0, F));
  CHECK(view.tricubic_at<double>(0, -4.0, 0, F));
  CHECK_FALSE(view.tricubic_at<double>(0, -4.01, 0, F));

  // A whole run: N = 2 switches interpolation on by itself.
  SimConfig c = spec_at::small_config(work);
  c.crystal.Na = c.crystal.Nb = c.crystal.Nc = 2;
  c.crystal.default_F = 7;  // distinct from every grid value (poly_F is 20..60 here)
  const int centre = 16;

  c.crystal.hkl_file = (work / "wide.hkl").string();
  PreparedSimulation all_in;
  prepare_simulation(c, all_in, false);
  REQUIRE(all_in.params.interpolate);
  run_simulation(all_in, 1);
  CHECK(all_in.params.interp_stop_pixel == kNeverStops);
  std::string trace = trace_pixel(all_in, {centre, centre});
  auto hkl = spec_at::trace_field(trace, "hkl_frac");
  REQUIRE(hkl.size() == 3u);
  const double interpolated = poly_F(hkl[0], hkl[1], hkl[2]);
  CHECK(spec_at::trace_number(trace, "F_cell") == doctest::Approx(interpolated).epsilon(1e-12));

  // The narrow grid runs out at the first pixel (k, l ~ 3.2 there):
  // interpolation stops for good, that evaluation takes default_F.
  c.crystal.hkl_file = (work / "narrow.hkl").string();
  PreparedSimulation stops;
  prepare_simulation(c, stops, false);
  run_simulation(stops, 1);
  REQUIRE(stops.params.interp_stop_pixel != kNeverStops);
  const long at = stops.params.interp_stop_pixel;
  const TracePixel stop_pixel{static_cast<int>(at / stops.params.fpixels), static_cast<int>(at % stops.params.fpixels)};
  CHECK(stops.params.interp_stop_eval == 0);  // one source, domain, phi step, sub-pixel: the first evaluation
  trace = trace_pixel(stops, stop_pixel);
  const auto rounded = spec_at::trace_field(trace, "hkl_rounded");
  REQUIRE(rounded.size() == 3u);
  // Its nearest grid point exists, so default_F is really the fallback here.
  for (double i : rounded) REQUIRE(std::fabs(i) <= 3);
  CHECK(spec_at::trace_number(trace, "F_cell") == 7.0);
  // Later pixels use nearest neighbours even with a complete neighbourhood.
  trace = trace_pixel(stops, {centre, centre});
  const auto centre_hkl = spec_at::trace_field(trace, "hkl_rounded");
  REQUIRE(centre_hkl.size() == 3u);
  const double nearest = poly_F(centre_hkl[0], centre_hkl[1], centre_hkl[2]);
  CHECK(spec_at::trace_number(trace, "F_cell") == nearest);
  CHECK(nearest != doctest::Approx(interpolated).epsilon(1e-6));
  // One warning, from nbsim::run (see test_spec_at_io.cpp for the tool).

  // c-parity: nanoBragg's nearest-neighbour branch overwrites default_F in
  // that same evaluation (C-PARITY-007).
  c.set_mode(Mode::c_parity);
  PreparedSimulation parity;
  prepare_simulation(c, parity, false);
  run_simulation(parity, 1);
  REQUIRE(parity.params.interp_stop_pixel == at);
  trace = trace_pixel(parity, stop_pixel);
  CHECK(spec_at::trace_number(trace, "F_cell") == poly_F(rounded[0], rounded[1], rounded[2]));
}

TEST_CASE("AT-BKG-001 water background term") {
  nbtest::TempDir work;
  // Zero structure factors everywhere: F = 0 on the grid, default_F = 0 off it.
  nbtest::write_file(work / "zero.hkl", "0 0 0 0\n");
  SimConfig c = spec_at::small_config(work, 8);
  c.crystal.hkl_file = (work / "zero.hkl").string();
  c.crystal.default_F = 0;
  c.crystal.water_size = 50e-6;
  PreparedSimulation sim;
  prepare_simulation(c, sim, false);
  const double r_e_sqr = 7.94079248018965e-30, avogadro = 6.02214179e23;
  const double I_bg = 2.57 * 2.57 * r_e_sqr * c.beam.fluence * std::pow(50e-6, 3) * 1e6 * avogadro / 18;
  CHECK(sim.params.I_bg == doctest::Approx(I_bg).epsilon(1e-14));
  const SimulationResult r = run_simulation(sim, 1);
  const std::string trace = trace_pixel(sim, {3, 5});
  // The accumulator starts at I_bg and nothing Bragg is added.
  CHECK(spec_at::trace_number(trace, "I_before_scaling") == sim.params.I_bg);
  CHECK(spec_at::trace_number(trace, "steps") == 1);
  const double expected = r_e_sqr * c.beam.fluence * I_bg * spec_at::trace_number(trace, "polar") *
                          spec_at::trace_number(trace, "omega_pixel");
  CHECK(r.image[3 * 8 + 5] == doctest::Approx(expected).epsilon(1e-6));
  // Without water the same run is blank.
  c.crystal.water_size = 0;
  PreparedSimulation dry;
  prepare_simulation(c, dry, false);
  const SimulationResult d = run_simulation(dry, 1);
  CHECK(std::all_of(d.image.begin(), d.image.end(), [](float v) { return v == 0.0f; }));
}

TEST_CASE("AT-STA-001 float-image statistics") {
  nbtest::TempDir work;
  SimConfig c = spec_at::small_config(work, 24);
  c.sampling.oversample = 2;
  c.detector.roi = {3, 17, 5, 20};  // fmin fmax smin smax
  PreparedSimulation sim;
  prepare_simulation(c, sim, false);
  const SimulationResult r = run_simulation(sim, 1);
  // The definitions of spec-a-core "Statistics", by hand over the ROI.
  double max_I = -1, sum = 0, sumsq = 0;
  int max_s = -1, max_f = -1;
  long n = 0;
  for (int s = 5; s <= 20; ++s)
    for (int f = 3; f <= 17; ++f) {
      const double v = r.image[s * 24 + f];
      if (v > max_I) {
        max_I = v;
        max_s = s;
        max_f = f;
      }
      sum += v;
      sumsq += v * v;
      ++n;
    }
  const double mean = sum / n;
  double dev = 0;
  for (int s = 5; s <= 20; ++s)
    for (int f = 3; f <= 17; ++f) dev += (r.image[s * 24 + f] - mean) * (r.image[s * 24 + f] - mean);
  REQUIRE(max_I > 0);
  CHECK(r.stats.pixels == 16 * 15);
  CHECK(r.stats.max_I == max_I);
  CHECK(r.stats.mean == doctest::Approx(mean).epsilon(1e-12));
  CHECK(r.stats.rms == doctest::Approx(std::sqrt(sumsq / (n - 1))).epsilon(1e-6));
  CHECK(r.stats.rmsd == doctest::Approx(std::sqrt(dev / (n - 1))).epsilon(1e-9));
  // max_I's position: the last sub-pixel (of 2x2) of the brightest pixel.
  const double sub = 0.1e-3 / 2;
  CHECK(r.stats.max_I_x == doctest::Approx(sub * (2 * max_f + 1) + sub / 2).epsilon(1e-12));
  CHECK(r.stats.max_I_y == doctest::Approx(sub * (2 * max_s + 1) + sub / 2).epsilon(1e-12));
  // Outside the ROI nothing is rendered.
  for (int s = 0; s < 24; ++s)
    for (int f = 0; f < 24; ++f)
      if (s < 5 || s > 20 || f < 3 || f > 17) REQUIRE(r.image[s * 24 + f] == 0.0f);
}
