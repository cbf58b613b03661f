// The quirk set (nbsim/quirks.hpp): the table of documented ids, the two
// modes, and that each quirk alone turns on exactly its own behaviour of
// nanoBragg.c (one probe per quirk the library applies; C-PARITY-002 is the
// command line's, see test_sim_cli.cpp).
#include <doctest/doctest.h>

#include <fmt/format.h>

#include <functional>
#include <string>

#include "nbsim/quirks.hpp"
#include "spec_at.hpp"

using namespace nbsim;

TEST_CASE("the quirk table: every documented id once, with its member; the modes are none and all") {
  const char* ids[] = {"C-PARITY-001", "C-PARITY-002", "C-PARITY-003", "C-PARITY-004", "C-PARITY-005",
                       "C-PARITY-006", "C-PARITY-007", "C-PARITY-008", "C-PARITY-009", "C-TRACE-001"};
  REQUIRE(kQuirkTable.size() == std::size(ids));
  for (std::size_t i = 0; i < kQuirkTable.size(); ++i) {
    const QuirkInfo& info = kQuirkTable[i];
    CHECK(info.id == ids[i]);
    CHECK(!info.description.empty());
    CHECK(find_quirk(ids[i]) == &info);
    // The member is this quirk's alone (no two entries share one).
    Quirks only;
    only.*info.member = true;
    CHECK(only != Quirks::none());
    CHECK(only != Quirks::all());
    for (const QuirkInfo& other : kQuirkTable) CHECK(only.*other.member == (&other == &info));
    CHECK(Quirks::all().*info.member);
    CHECK_FALSE(Quirks::none().*info.member);
  }
  CHECK(find_quirk("C-PARITY-010") == nullptr);
  CHECK(find_quirk("c-parity-001") == nullptr);
  CHECK(quirks_for(Mode::spec) == Quirks::none());
  CHECK(quirks_for(Mode::c_parity) == Quirks::all());
  SimConfig c;
  CHECK(c.quirks == Quirks::none());
  c.set_mode(Mode::c_parity);
  CHECK(c.mode == Mode::c_parity);
  CHECK(c.quirks == Quirks::all());
}

namespace {

std::string g17(Vec3 v) { return fmt::format("{:.17g} {:.17g} {:.17g}", v.x, v.y, v.z); }

std::string image_bytes(const std::vector<float>& image) {
  return std::string(reinterpret_cast<const char*>(image.data()), image.size() * sizeof(float));
}

/// What one quirk changes, observed on a set-up that exercises it.
struct Probe {
  const char* id;
  std::function<std::string(const Quirks&)> observe;
};

}  // namespace

TEST_CASE("each quirk alone changes exactly its own behaviour") {
  nbtest::TempDir work;
  std::string narrow;  // structure factors on h, k, l in -3..3
  for (int h = -3; h <= 3; ++h)
    for (int k = -3; k <= 3; ++k)
      for (int l = -3; l <= 3; ++l) narrow += fmt::format("{} {} {} {}\n", h, k, l, 40 + 2 * h - k + l);
  nbtest::write_file(work / "narrow.hkl", narrow);
  nbtest::write_file(work / "sources.txt", "-10 0 0 1 1.0e-10\n-10 0.001 0 1 1.5e-10\n");

  auto prepared = [&](const Quirks& q, const std::function<void(SimConfig&)>& edit, PreparedSimulation& sim,
                      int pixels = 16) {
    SimConfig c = spec_at::small_config(work, pixels);
    c.quirks = q;
    edit(c);
    prepare_simulation(c, sim, false);
  };
  auto image = [&](const Quirks& q, const std::function<void(SimConfig&)>& edit, int pixels = 16) {
    PreparedSimulation sim;
    prepared(q, edit, sim, pixels);
    return image_bytes(run_simulation(sim, 1).image);
  };

  const std::vector<Probe> probes{
      {"C-PARITY-001",
       [&](const Quirks& q) {
         return image(q, [](SimConfig& c) {
           c.crystal.phi0 = 0;
           c.crystal.osc = 1 * spec_at::kDeg;
           c.crystal.phisteps = 3;
         });
       }},
      {"C-PARITY-003",
       [&](const Quirks& q) {
         PreparedSimulation sim;
         prepared(q, [](SimConfig& c) {
           c.crystal.cell = CellParams{70, 80, 90, 75 * spec_at::kDeg, 85 * spec_at::kDeg, 95 * spec_at::kDeg};
         }, sim);
         return g17(sim.params.a0) + " " + g17(sim.params.b0) + " " + g17(sim.params.c0);
       }},
      {"C-PARITY-004",
       [&](const Quirks& q) {
         PreparedSimulation sim;
         prepared(q, [&](SimConfig& c) { c.beam.source_file = (work / "sources.txt").string(); }, sim);
         std::string lambdas;
         for (const Source& s : sim.sources) lambdas += fmt::format("{:.17g} ", s.lambda);
         return lambdas;
       }},
      {"C-PARITY-005",
       [&](const Quirks& q) {
         PreparedSimulation sim;
         prepared(q, [](SimConfig& c) {
           c.detector.explicit_pivot = Pivot::sample;  // as -pivot sample sets them
           c.detector.pivot = Pivot::sample;
         }, sim);
         return std::string(sim.pivot == Pivot::sample ? "sample " : "beam ") + g17(sim.params.pix0);
       }},
      {"C-PARITY-006",
       [&](const Quirks& q) {
         PreparedSimulation sim;
         prepared(q, [](SimConfig& c) {
           c.crystal.random_misset = true;
           c.crystal.misset_seed = -7;
         }, sim);
         // The angles drawn (the cell also takes C-PARITY-003's rounding).
         for (const std::string& line : sim.log)
           if (line.rfind("random orientation misset angles:", 0) == 0) return line;
         return std::string("no misset line");
       }},
      {"C-PARITY-007",
       [&](const Quirks& q) {
         // N = 2 interpolates; the narrow grid runs out (see AT-STR-002).
         return image(q, [&](SimConfig& c) {
           c.crystal.Na = c.crystal.Nb = c.crystal.Nc = 2;
           c.crystal.default_F = 7;
           c.crystal.hkl_file = (work / "narrow.hkl").string();
         }, 32);
       }},
      {"C-PARITY-008",
       [&](const Quirks& q) {
         PreparedSimulation sim;
         prepared(q, [](SimConfig& c) { c.detector.thicksteps = 3; }, sim);
         const KernelParams& p = sim.params;
         return fmt::format("{} {:.17g} {:.17g} {:.17g}", p.thicksteps, p.thick, p.thickstep, p.mu);
       }},
      {"C-PARITY-009",
       [&](const Quirks& q) {
         PreparedSimulation sim;
         prepared(q, [](SimConfig& c) {
           c.detector.mask.assign(16 * 16, 1);
           for (int i = 0; i < 16 * 6; ++i) c.detector.mask[static_cast<std::size_t>(i)] = 0;
           c.detector.mask_fpixels = c.detector.mask_spixels = 16;
         }, sim);
         const ImageStats st = run_simulation(sim, 1).stats;
         return fmt::format("{:.17g} {:.17g} {:.17g}", st.mean, st.rms, st.rmsd);
       }},
      {"C-TRACE-001",
       [&](const Quirks& q) {
         PreparedSimulation sim;
         prepared(q, [](SimConfig& c) { c.detector.convention = Convention::adxv; }, sim);
         return geometry_trace(sim);
       }},
  };

  for (const Probe& probe : probes) {
    const std::string id = probe.id;
    CAPTURE(id);
    REQUIRE(find_quirk(probe.id) != nullptr);
    const std::string spec = probe.observe(Quirks::none());
    const std::string parity = probe.observe(Quirks::all());
    REQUIRE(spec != parity);  // the probe sees its quirk
    for (const QuirkInfo& info : kQuirkTable) {
      CAPTURE(info.id);
      const bool own = info.id == probe.id;
      Quirks only = Quirks::none();
      only.*info.member = true;
      CHECK(probe.observe(only) == (own ? parity : spec));
      Quirks all_but = Quirks::all();
      all_but.*info.member = false;
      CHECK(probe.observe(all_but) == (own ? spec : parity));
    }
  }
}
