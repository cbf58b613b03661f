// Set-up checks against the specification's closed-form expectations:
// detector conventions and pivots, cell construction, sampling rules.
#include <doctest/doctest.h>

#include <cmath>

#include "nbsim/setup.hpp"
#include "nbtrace/base/error.hpp"
#include "test_support.hpp"

using namespace nbsim;

namespace {

constexpr double kRTD = detail::kRadToDeg;

SimConfig cubic(double edge_A = 100) {
  SimConfig c;
  c.crystal.cell = CellParams{edge_A, edge_A, edge_A, 90 / kRTD, 90 / kRTD, 90 / kRTD};
  c.crystal.default_F = 100;
  c.fdump_file = "/nonexistent-folder/Fdump.bin";  // never found, never written
  return c;
}

}  // namespace

TEST_CASE("MOSFLM default detector origin (spec AT-GEO-001)") {
  SimConfig c = cubic();
  c.detector.fpixels = c.detector.spixels = 1024;
  c.detector.Xbeam = c.detector.Ybeam = 0.0512;  // m; Fbeam = Sbeam = 51.2 + 0.05 mm
  PreparedSimulation s;
  prepare_simulation(c, s, false);
  const KernelParams& p = s.params;
  CHECK(p.fpixels == 1024);
  CHECK(s.pivot == Pivot::beam);
  CHECK(p.pix0.x == doctest::Approx(0.1).epsilon(1e-12));
  CHECK(p.pix0.y == doctest::Approx(0.05125).epsilon(1e-12));
  CHECK(p.pix0.z == doctest::Approx(-0.05125).epsilon(1e-12));
  CHECK(p.fdet.z == 1.0);
  CHECK(p.sdet.y == -1.0);
  CHECK(p.odet.x == 1.0);
  CHECK(p.close_distance == doctest::Approx(0.1));
}

TEST_CASE("BEAM pivot keeps the beam spot, SAMPLE pivot keeps the origin's distance") {
  SimConfig c = cubic();
  c.detector.fpixels = c.detector.spixels = 200;
  c.detector.Xbeam = 0.011;
  c.detector.Ybeam = 0.009;
  c.detector.rotx = 3 / kRTD;
  c.detector.roty = -2 / kRTD;
  c.detector.rotz = 4 / kRTD;
  {
    PreparedSimulation s;
    prepare_simulation(c, s, false);
    // MOSFLM: Fbeam = Ybeam + half a pixel, Sbeam = Xbeam + half a pixel.
    CHECK(s.Fbeam == doctest::Approx(0.009 + 0.05e-3).epsilon(1e-9));
    CHECK(s.Sbeam == doctest::Approx(0.011 + 0.05e-3).epsilon(1e-9));
    CHECK(s.params.distance == doctest::Approx(0.1).epsilon(1e-12));
  }
  // The MOSFLM convention always pivots on the beam (as nanoBragg does,
  // whatever -pivot said), so the SAMPLE pivot is checked with XDS.
  c.detector.convention = Convention::xds;
  c.detector.twotheta = 10 / kRTD;
  {
    PreparedSimulation s;
    prepare_simulation(c, s, false);
    CHECK(s.pivot == Pivot::sample);
    // The origin is placed at the near point (detector centre, Fclose =
    // Sclose = 10 mm) at close distance |beam . o_rotated| * distance, then
    // swung about the sample: |pix0| and the close distance are unchanged
    // and the detector axes stay orthonormal.
    const double ratio = rotate_xyz(Vec3{0, 0, 1}, 3 / kRTD, -2 / kRTD, 4 / kRTD).z;
    const double close = 0.1 * ratio;
    CHECK(magnitude(s.params.pix0) == doctest::Approx(std::sqrt(0.01 * 0.01 * 2 + close * close)).epsilon(1e-12));
    CHECK(std::fabs(dot(s.params.fdet, s.params.sdet)) < 1e-15);
    CHECK(magnitude(s.params.odet) == doctest::Approx(1.0));
    CHECK(s.params.close_distance == doctest::Approx(close).epsilon(1e-12));
    CHECK(s.params.distance == doctest::Approx(close / ratio).epsilon(1e-12));
  }
}

TEST_CASE("XDS origin from ORGX/ORGY pivots on the sample") {
  SimConfig c = cubic();
  c.detector.convention = Convention::xds;
  c.detector.pivot = Pivot::sample;
  c.detector.fpixels = c.detector.spixels = 256;
  c.detector.ORGX = 130.5;
  c.detector.ORGY = 120.5;
  PreparedSimulation s;
  prepare_simulation(c, s, false);
  // pix0 = -Fclose f - Sclose s + d o with Fclose = (ORGX - 0.5) pixels.
  CHECK(s.params.pix0.x == doctest::Approx(-0.013).epsilon(1e-12));
  CHECK(s.params.pix0.y == doctest::Approx(-0.012).epsilon(1e-12));
  CHECK(s.params.pix0.z == doctest::Approx(0.1).epsilon(1e-12));
  CHECK(s.Fclose == doctest::Approx(0.013));
}

TEST_CASE("cell vectors: lengths, angles, reciprocity, misset keeps the metric (spec mode)") {
  SimConfig c = cubic();
  c.crystal.cell = CellParams{70, 80, 90, 75 / kRTD, 85 / kRTD, 95 / kRTD};
  c.crystal.misset = Vec3{10 / kRTD, -20 / kRTD, 30 / kRTD};
  PreparedSimulation s;
  prepare_simulation(c, s, false);
  const KernelParams& p = s.params;
  CHECK(magnitude(p.a0) * 1e10 == doctest::Approx(70));
  CHECK(magnitude(p.b0) * 1e10 == doctest::Approx(80));
  CHECK(magnitude(p.c0) * 1e10 == doctest::Approx(90));
  CHECK(std::acos(dot(p.b0, p.c0) / magnitude(p.b0) / magnitude(p.c0)) * kRTD == doctest::Approx(75));
  CHECK(std::acos(dot(p.a0, p.b0) / magnitude(p.a0) / magnitude(p.b0)) * kRTD == doctest::Approx(95));
  // a . a* = 1 (a in Angstrom, a* in 1/Angstrom), a . b* = 0.
  const Vec3 a = 1e10 * p.a0, b = 1e10 * p.b0;
  CHECK(dot(a, p.a_star) == doctest::Approx(1.0));
  CHECK(std::fabs(dot(a, p.b_star)) < 1e-12);
  CHECK(std::fabs(dot(b, p.c_star)) < 1e-12);
}

TEST_CASE("c-parity builds nanoBragg's slightly skewed triclinic cell (C-PARITY-003)") {
  SimConfig c = cubic();
  c.set_mode(Mode::c_parity);
  c.crystal.cell = CellParams{70, 80, 90, 75 / kRTD, 85 / kRTD, 95 / kRTD};
  PreparedSimulation s;
  prepare_simulation(c, s, false);
  const KernelParams& p = s.params;
  // Lengths as asked, angles as nanoBragg.c makes them (an independent
  // evaluation of its formulas: alpha 75.0391, beta 85.0136, gamma 95.0081).
  CHECK(magnitude(p.c0) * 1e10 == doctest::Approx(90).epsilon(1e-12));
  CHECK(std::acos(dot(p.a0, p.c0) / magnitude(p.a0) / magnitude(p.c0)) * kRTD ==
        doctest::Approx(85.01356280358527).epsilon(1e-9));
  CHECK(std::acos(dot(p.b0, p.c0) / magnitude(p.b0) / magnitude(p.c0)) * kRTD ==
        doctest::Approx(75.03905885568457).epsilon(1e-9));
  CHECK(std::acos(dot(p.a0, p.b0) / magnitude(p.a0) / magnitude(p.b0)) * kRTD ==
        doctest::Approx(95.00808422146216).epsilon(1e-9));
  // Orthogonal cells are the same in both modes.
  SimConfig o = cubic();
  o.set_mode(Mode::c_parity);
  o.crystal.cell = CellParams{50, 60, 70, 90 / kRTD, 90 / kRTD, 90 / kRTD};
  PreparedSimulation so;
  prepare_simulation(o, so, false);
  CHECK(magnitude(so.params.c0) * 1e10 == doctest::Approx(70).epsilon(1e-12));
}

TEST_CASE("sampling rules: phi steps, oversample, fluence, steps") {
  SimConfig c = cubic();
  c.crystal.osc = 1 / kRTD;
  c.crystal.phistep = 0.25 / kRTD;
  c.sampling.oversample = 3;
  c.beam.flux = 1e12;
  c.beam.exposure = 2;
  c.beam.beamsize = 1e-4;
  PreparedSimulation s;
  prepare_simulation(c, s, false);
  CHECK(s.params.phisteps == 4);
  CHECK(s.params.steps == 1 * 1 * 4 * 9);
  CHECK(s.params.fluence == doctest::Approx(1e12 * 2 / 1e-4 / 1e-4));
  // -phisteps 0 is refused (nanoBragg.c renders one step: validate.hpp);
  // osc alone gives two steps of osc/2.
  SimConfig d = cubic();
  d.crystal.phisteps = 0;
  PreparedSimulation s0;
  CHECK_THROWS_WITH_AS(prepare_simulation(d, s0, false), "-phisteps must be at least 1, got 0", nbtrace::UsageError);
  d.crystal.phisteps = 1;
  PreparedSimulation s1;
  prepare_simulation(d, s1, false);
  CHECK(s1.params.phisteps == 1);
  SimConfig e = cubic();
  e.crystal.osc = 2 / kRTD;
  PreparedSimulation s2;
  prepare_simulation(e, s2, false);
  CHECK(s2.params.phisteps == 2);
  CHECK(s2.params.phistep * kRTD == doctest::Approx(1.0));
  // Automatic oversampling: 3 sub-pixels per spot width lambda*d/(N a).
  SimConfig g = cubic();
  g.crystal.Na = g.crystal.Nb = g.crystal.Nc = 50;
  g.beam.lambda0 = 1.3e-10;
  PreparedSimulation sg;
  prepare_simulation(g, sg, false);
  CHECK(sg.params.oversample == 12);  // ceil(3 * 50 * 100 A / (1.3 A * 100 mm / 0.1 mm)) = ceil(11.54)
  CHECK(sg.auto_oversample == sg.params.oversample);
}

TEST_CASE("impossible set-ups are usage errors") {
  SimConfig c = cubic();
  c.crystal.cell = CellParams{50, 50, 50, 90 / kRTD, 90 / kRTD, 180 / kRTD};
  PreparedSimulation s;
  CHECK_THROWS_AS(prepare_simulation(c, s, false), nbtrace::UsageError);
  SimConfig d = cubic();
  d.detector.pixel_size = -1;
  PreparedSimulation s2;
  CHECK_THROWS_AS(prepare_simulation(d, s2, false), nbtrace::UsageError);
}

TEST_CASE("explicit -pivot: spec mode honours it, c-parity lets the convention win (C-PARITY-005)") {
  SimConfig c = cubic();
  c.detector.fpixels = c.detector.spixels = 100;
  c.detector.pivot = Pivot::sample;
  c.detector.explicit_pivot = Pivot::sample;
  c.detector.twotheta = 20 / kRTD;
  PreparedSimulation spec;
  prepare_simulation(c, spec, false);
  CHECK(spec.pivot == Pivot::sample);
  c.set_mode(Mode::c_parity);
  PreparedSimulation parity;
  prepare_simulation(c, parity, false);
  CHECK(parity.pivot == Pivot::beam);
  // The two pivots swing the detector differently: the origins differ by
  // centimetres (a 20-degree swing at 100 mm).
  CHECK(magnitude(spec.params.pix0 - parity.params.pix0) > 0.01);
  // Without -pivot both modes agree (the convention's BEAM pivot).
  SimConfig plain = cubic();
  plain.detector.fpixels = plain.detector.spixels = 100;
  plain.detector.twotheta = 20 / kRTD;
  PreparedSimulation plain_spec;
  prepare_simulation(plain, plain_spec, false);
  CHECK(plain_spec.pivot == Pivot::beam);
  CHECK(magnitude(plain_spec.params.pix0 - parity.params.pix0) == 0.0);
}
