// spec-a-core acceptance tests for beam sources, sampling auto-selection
// and fluence: AT-SRC-001, AT-SRC-002, AT-FLU-001 (library level, no
// ../shared).
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <memory>

#include "nbsim/physics/kernel.hpp"
#include "nbsim/physics/vec3.hpp"
#include "spec_at.hpp"

using namespace nbsim;

namespace {

/// Angle (rad) between a source direction and the upstream beam axis.
double off_axis(const Source& s, Vec3 beam) {
  return std::acos(std::clamp(-dot(s.direction, beam), -1.0, 1.0));
}

std::vector<float> render(const SimConfig& c) {
  PreparedSimulation sim;
  prepare_simulation(c, sim, false);
  return run_simulation(sim, 1).image;
}

}  // namespace

TEST_CASE("AT-SRC-001 sourcefile and weighting") {
  nbtest::TempDir work;
  // Two sources with distinct weights and wavelengths (X Y Z weight lambda,
  // metres); -nopolar so each source's share is just its Bragg sum.
  nbtest::write_file(work / "two.txt", "-10 0 0 1.0 1.0e-10\n-10 0.05 0.02 5.0 1.5e-10\n");
  nbtest::write_file(work / "swapped.txt", "-10 0 0 5.0 1.0e-10\n-10 0.05 0.02 1.0 1.5e-10\n");
  nbtest::write_file(work / "a.txt", "-10 0 0 1.0 1.0e-10\n");
  nbtest::write_file(work / "b.txt", "-10 0.05 0.02 5.0 1.5e-10\n");
  SimConfig c = spec_at::small_config(work);
  c.beam.lambda0 = 1.2e-10;
  c.beam.nopolar = true;
  c.beam.source_file = (work / "two.txt").string();

  PreparedSimulation sim;
  prepare_simulation(c, sim, false);
  REQUIRE(sim.sources.size() == 2u);
  CHECK(sim.params.steps == 2);  // sources * domains * phisteps * oversample^2
  // Spec: -lambda is authoritative for every source; positions become unit directions.
  for (const Source& s : sim.sources) {
    CHECK(s.lambda == 1.2e-10);
    CHECK(magnitude(s.direction) == doctest::Approx(1.0).epsilon(1e-15));
  }
  CHECK(sim.sources[0].direction.x == -1.0);
  const std::vector<float> both = run_simulation(sim, 1).image;

  // Weights are ignored: swapping them changes nothing, bit for bit.
  c.beam.source_file = (work / "swapped.txt").string();
  CHECK(render(c) == both);

  // Equal shares, divided by steps: the two-source image is the mean of
  // the one-source images.
  c.beam.source_file = (work / "a.txt").string();
  const std::vector<float> a = render(c);
  c.beam.source_file = (work / "b.txt").string();
  const std::vector<float> b = render(c);
  REQUIRE(a.size() == both.size());
  double max_v = 0;
  for (float v : both) max_v = std::max(max_v, static_cast<double>(v));
  REQUIRE(max_v > 0);
  for (std::size_t i = 0; i < both.size(); ++i) {
    const double expected = (static_cast<double>(a[i]) + b[i]) / 2;
    REQUIRE(std::fabs(both[i] - expected) <= 2e-7 * std::max(std::fabs(expected), 1e-3 * max_v));
  }
  // The sources really differ (otherwise the mean would prove nothing).
  CHECK(a != b);

  // c-parity: nanoBragg renders each source at its file wavelength (C-PARITY-004).
  c.set_mode(Mode::c_parity);
  c.beam.source_file = (work / "two.txt").string();
  PreparedSimulation parity;
  prepare_simulation(c, parity, false);
  REQUIRE(parity.sources.size() == 2u);
  CHECK(parity.sources[0].lambda == 1.0e-10);
  CHECK(parity.sources[1].lambda == 1.5e-10);

  // Missing columns: position upstream at -source_distance along the beam,
  // wavelength -lambda.
  nbtest::write_file(work / "short.txt", "\n-10 0 0\n");
  c.set_mode(Mode::spec);
  c.beam.source_file = (work / "short.txt").string();
  PreparedSimulation shorter;
  prepare_simulation(c, shorter, false);
  REQUIRE(shorter.sources.size() == 1u);
  CHECK(shorter.sources[0].lambda == 1.2e-10);
  CHECK(shorter.sources[0].direction.x == -1.0);
}

TEST_CASE("AT-SRC-002 auto-selection of count/range/step") {
  nbtest::TempDir work;
  const Vec3 beam{1, 0, 0};  // MOSFLM
  auto prepare = [&](auto&& set) {
    SimConfig c = spec_at::small_config(work);
    c.beam.round_div = false;  // keep the whole grid
    set(c);
    auto sim = std::make_unique<PreparedSimulation>();
    prepare_simulation(c, *sim, false);
    return sim;
  };
  auto angles = [&](const PreparedSimulation& sim) {
    std::vector<double> v;
    for (const Source& s : sim.sources) v.push_back(off_axis(s, beam));
    return v;
  };

  SUBCASE("nothing given: one source on the axis") {
    auto sim = prepare([](SimConfig&) {});
    REQUIRE(sim->sources.size() == 1u);
    CHECK(sim->sources[0].direction.x == -1.0);
    CHECK(sim->sources[0].lambda == 1e-10);
  }
  SUBCASE("divergence, only step: range = step, 2 steps") {
    auto sim = prepare([](SimConfig& c) { c.beam.hdivstep = 0.01; });
    const auto a = angles(*sim);
    REQUIRE(a.size() == 2u);
    CHECK(a[0] == doctest::Approx(0.005).epsilon(1e-9));  // -range/2 and +range/2
    CHECK(a[1] == doctest::Approx(0.005).epsilon(1e-9));
    CHECK(sim->sources[0].direction.z == doctest::Approx(-sim->sources[1].direction.z).epsilon(1e-12));
  }
  SUBCASE("divergence, only range: step = range, 2 steps") {
    auto sim = prepare([](SimConfig& c) { c.beam.vdivrange = 0.02; });
    const auto a = angles(*sim);
    REQUIRE(a.size() == 2u);
    CHECK(a[0] == doctest::Approx(0.01).epsilon(1e-9));
    CHECK(a[1] == doctest::Approx(0.01).epsilon(1e-9));
  }
  SUBCASE("divergence, only count: range 1.0 rad") {
    // The spec's detailed rule (and nanoBragg): step = range/count, so the
    // grid starts at -range/2: -0.5, -1/6, +1/6 rad. (Section 12's summary
    // says range/(count-1); the detailed rule is the one implemented.)
    auto sim = prepare([](SimConfig& c) { c.beam.hdivsteps = 3; });
    const auto a = angles(*sim);
    REQUIRE(a.size() == 3u);
    CHECK(a[0] == doctest::Approx(0.5).epsilon(1e-9));
    CHECK(a[1] == doctest::Approx(1.0 / 6).epsilon(1e-9));
    CHECK(a[2] == doctest::Approx(1.0 / 6).epsilon(1e-9));
  }
  SUBCASE("divergence, range and step: count = ceil(range/step)") {
    auto sim = prepare([](SimConfig& c) {
      c.beam.hdivrange = 0.02;
      c.beam.hdivstep = 0.006;
    });
    CHECK(sim->sources.size() == 4u);  // ceil(3.33)
    CHECK(sim->params.steps == 4);
  }
  SUBCASE("dispersion, count and range: step = range/(count-1)") {
    auto sim = prepare([](SimConfig& c) {
      c.beam.dispsteps = 3;
      c.beam.dispersion = 0.1;
    });
    REQUIRE(sim->sources.size() == 3u);
    const double expected[3] = {0.95, 1.0, 1.05};
    for (int i = 0; i < 3; ++i) CHECK(sim->sources[i].lambda == doctest::Approx(expected[i] * 1e-10).epsilon(1e-12));
    // The dispersion's default is 0 (a given range, in the spec as in
    // nanoBragg; the spec's count-only defaults name angles and thickness):
    // a count alone leaves one wavelength.
    sim = prepare([](SimConfig& c) { c.beam.dispsteps = 4; });
    CHECK(sim->sources.size() == 1u);
  }
  SUBCASE("dispersion, only range: 2 wavelengths lambda0 (1 -+ range/2)") {
    // (No flag sets the dispersion step alone: -dispstep is not a flag of
    // the spec's CLI nor of nanoBragg.)
    auto sim = prepare([](SimConfig& c) { c.beam.dispersion = 0.1; });
    REQUIRE(sim->sources.size() == 2u);
    CHECK(sim->sources[0].lambda == doctest::Approx(0.95e-10).epsilon(1e-12));
    CHECK(sim->sources[1].lambda == doctest::Approx(1.05e-10).epsilon(1e-12));
  }
  SUBCASE("thickness, only count: range 0.5e-6 m") {
    auto sim = prepare([](SimConfig& c) { c.detector.thicksteps = 4; });
    CHECK(sim->params.thicksteps == 4);
    CHECK(sim->params.thick == 0.5e-6);
    CHECK(sim->params.thickstep == doctest::Approx(0.125e-6).epsilon(1e-12));
    CHECK(sim->params.mu == doctest::Approx(2e6).epsilon(1e-12));  // no -detector_abs: 1/thickness
  }
  SUBCASE("thickness, only step / only range: 2 layers") {
    auto sim = prepare([](SimConfig& c) { c.detector.thickstep = 3e-6; });
    CHECK(sim->params.thicksteps == 2);
    CHECK(sim->params.thick == 3e-6);
    CHECK(sim->params.thickstep == 3e-6);
    sim = prepare([](SimConfig& c) { c.detector.thick = 100e-6; });
    CHECK(sim->params.thicksteps == 2);
    CHECK(sim->params.thickstep == 100e-6);
  }
  SUBCASE("c-parity thickness follows nanoBragg (C-PARITY-008)") {
    auto sim = prepare([](SimConfig& c) {
      c.set_mode(Mode::c_parity);
      c.detector.thicksteps = 4;
    });
    CHECK(sim->params.thicksteps == 1);  // no -detector_thick: no sensor layers
    CHECK(sim->params.thick == 0.0);
    sim = prepare([](SimConfig& c) {
      c.set_mode(Mode::c_parity);
      c.detector.thick = 100e-6;
    });
    CHECK(sim->params.thicksteps == 2);
    CHECK(sim->params.thickstep == 50e-6);
  }
}

TEST_CASE("AT-FLU-001 fluence calculation and sample clipping") {
  nbtest::TempDir work;
  SimConfig c = spec_at::small_config(work);
  c.beam.fluence = 1e20;  // overridden: flux, exposure and beam size are all given
  c.beam.flux = 1e12;
  c.beam.exposure = 2;
  c.crystal.sample_x = 3e-7;
  c.crystal.sample_y = 5e-7;
  c.crystal.sample_z = 4e-7;
  c.beam.beamsize = 2e-7;  // smaller than sample_y and sample_z
  PreparedSimulation sim;
  prepare_simulation(c, sim, false);
  const double fluence = 1e12 * 2 / (2e-7 * 2e-7);
  CHECK(sim.fluence == doctest::Approx(fluence).epsilon(1e-15));
  CHECK(sim.params.fluence == sim.fluence);
  CHECK(sim.flux == doctest::Approx(1e12).epsilon(1e-12));  // flux = fluence/exposure*beamsize^2
  // Clipped: N from the clipped sizes (100 A cell: 2e-7 m = 20 cells), x untouched.
  CHECK(sim.params.Na == 30);
  CHECK(sim.params.Nb == 20);
  CHECK(sim.params.Nc == 20);
  auto has = [&](const std::string& text) {
    return std::find(sim.log.begin(), sim.log.end(), text) != sim.log.end();
  };
  CHECK(has("WARNING: clipping sample (5e-07 m high) with beam (2e-07 m)"));
  CHECK(has("WARNING: clipping sample (4e-07 m wide) with beam (2e-07 m)"));

  // The fluence scales the image linearly.
  c.crystal.sample_x = c.crystal.sample_y = c.crystal.sample_z = 0;
  c.crystal.Na = c.crystal.Nb = c.crystal.Nc = 5;
  const std::vector<float> bright = render(c);
  c.beam.flux = 0;  // no flux: the given fluence stays
  PreparedSimulation given;
  prepare_simulation(c, given, false);
  CHECK(given.fluence == 1e20);
  CHECK(given.flux == doctest::Approx(1e20 / 2 * 2e-7 * 2e-7).epsilon(1e-12));  // made consistent
  CHECK(std::none_of(given.log.begin(), given.log.end(),
                     [](const std::string& l) { return l.find("clipping") != std::string::npos; }));
  const std::vector<float> dim = run_simulation(given, 1).image;
  const auto peak = std::max_element(bright.begin(), bright.end()) - bright.begin();
  REQUIRE(dim[peak] > 0);
  CHECK(bright[peak] / dim[peak] == doctest::Approx(fluence / 1e20).epsilon(1e-6));

  // exposure 0: the flux formula does not apply, the fluence stays.
  c.beam.flux = 1e12;
  c.beam.exposure = 0;
  PreparedSimulation no_exposure;
  prepare_simulation(c, no_exposure, false);
  CHECK(no_exposure.fluence == 1e20);
}
