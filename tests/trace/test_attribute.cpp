#include <cmath>
#include <nlohmann/json.hpp>

#include "nbtrace/trace/attribute.hpp"
#include "test_support.hpp"

using namespace nbtrace;

namespace {
// Two steps on each side; the test's step 0 lattice factor differs.
const char* kRef =
    "TRACE_C: hkl_frac 0.1 0.2 0.3\nTRACE_C: F_latt_a 2\nTRACE_C: F_latt_b 3\nTRACE_C: F_latt_c 1\n"
    "TRACE_C: F_latt 6\nTRACE_C: F_cell 10\n"
    "TRACE_C_PHI phi_tic=0 phi_deg=0 k_frac=0.2 F_latt=6\n"
    "TRACE_C_PHI phi_tic=1 phi_deg=0.1 k_frac=0.3 F_latt=4\n"
    "TRACE_C: I_before_scaling 5200\nTRACE_C: polar 0.5\nTRACE_C: omega_pixel 1e-7\nTRACE_C: steps 2\n"
    "TRACE_C: I_pixel_final 1.3\n";
const char* kTest =
    "TRACE_CPP: hkl_frac 0.1 0.2 0.3\nTRACE_CPP: F_latt_a 2\nTRACE_CPP: F_latt_b 1.5\nTRACE_CPP: F_latt_c 1\n"
    "TRACE_CPP: F_latt 3\nTRACE_CPP: F_cell 10\n"
    "TRACE_CPP_PHI phi_tic=0 phi_deg=0 k_frac=0.25 F_latt=3\n"
    "TRACE_CPP_PHI phi_tic=1 phi_deg=0.1 k_frac=0.3 F_latt=4\n"
    "TRACE_CPP: I_before_scaling 2500\nTRACE_CPP: polar 0.5\nTRACE_CPP: omega_pixel 1e-7\nTRACE_CPP: steps 2\n"
    "TRACE_CPP: I_pixel_final 0.625\n";
}  // namespace

TEST_CASE("per-step terms on both sides attribute the whole gap to the step that changed") {
  const Trace ref = parse_trace(kRef, "ref.log");
  const Trace test = parse_trace(kTest, "test.log");
  const Attribution a = attribute_gap(ref, test, {});
  CHECK(a.gap == -2700);
  CHECK(a.gap_rel == doctest::Approx(-2700.0 / 5200));
  REQUIRE(a.steps.size() == 2);
  CHECK(*a.steps[0].ref_term == 3600);  // 10² · 6²
  CHECK(*a.steps[0].test_term == 900);
  CHECK(*a.steps[0].share == doctest::Approx(1.0));
  CHECK(*a.steps[1].share == doctest::Approx(0.0));
  CHECK(a.ref_terms_over_total == doctest::Approx(1.0));
  CHECK(a.attributed_share == doctest::Approx(1.0));
  // ln(test/ref) of the first step: F_latt_b halves → 2·ln(0.5).
  bool saw_b = false;
  for (const FactorTerm& f : a.first_step_factors) {
    if (f.factor == "F_latt_b") {
      saw_b = true;
      CHECK(f.log_ratio == doctest::Approx(2 * std::log(0.5)));
    }
  }
  CHECK(saw_b);
  REQUIRE(!a.hypotheses.empty());
  // No carry-over signature (too few steps): the generic step hypothesis leads.
  CHECK(a.hypotheses.front().id == "step-lattice-factor");
  const auto j = nlohmann::json::parse(attribution_json(a));
  CHECK(j["steps"][0]["loop"]["phi_tic"] == 0);
  CHECK(j["steps"][0]["share"].get<double>() == doctest::Approx(1.0));
  CHECK(j["hypotheses"][0].contains("evidence"));
  CHECK(attribution_svg(a).find("<svg") == 0);
}

TEST_CASE("a trace without I_before_scaling is an input error") {
  const Trace ref = parse_trace("TRACE_C: polar 1\n", "ref.log");
  CHECK_THROWS(attribute_gap(ref, ref, {}));
}
