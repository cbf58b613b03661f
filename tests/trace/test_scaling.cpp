#include <nlohmann/json.hpp>

#include "nbtrace/trace/scaling.hpp"
#include "test_support.hpp"

using namespace nbtrace;

namespace {
const char* kC =
    "TRACE_CONFIG: tracing pixel (spixel=12, fpixel=34)\n"
    "TRACE_C: I_before_scaling 100\n"
    "TRACE_C: r_e_sqr 7.94079248018965e-30\n"
    "TRACE_C: fluence_photons_per_m2 1e+24\n"
    "TRACE_C: steps 10\n"
    "TRACE_C: capture_fraction 0\n"
    "TRACE_C: polar 0.5\n"
    "TRACE_C: omega_pixel 1e-7\n"
    "TRACE_C: cos_2theta 0.25\n"
    "TRACE_C: I_pixel_final 3\n";
const char* kPy =
    "TRACE_PY: I_before_scaling_pre_polar 100.00001\n"  // rel 1e-7: PASS
    "TRACE_PY: r_e_sqr 7.94079248018965e-30\n"
    "TRACE_PY: fluence_photons_per_m2 1e+24\n"
    "TRACE_PY: steps 10\n"
    "TRACE_PY: capture_fraction 0.5\n"                  // C is 0: DIVERGENT (C≈0, Py≠0)
    "TRACE_PY: polar 0.50001\n"                         // rel 2e-5: MINOR
    "TRACE_PY: cos_2theta 0.3\n"                        // CRITICAL
    "TRACE_PY: I_pixel_final 3.003\n";                  // DIVERGENT; omega missing
}  // namespace

TEST_CASE("nine factors in the peer's order with the peer's statuses") {
  const Trace c = parse_trace(kC, "c.log");
  const Trace py = parse_trace(kPy, "py.log");
  const ScalingComparison cmp = compare_scaling(c, py, 1e-6, AliasTable::builtin());
  REQUIRE(cmp.factors.size() == 9);
  CHECK(cmp.factors[0].name == "I_before_scaling");
  CHECK(cmp.factors[0].status == "PASS");
  CHECK(cmp.factors[4].status == "DIVERGENT (C\u22480, Py\u22600)");
  CHECK_FALSE(cmp.factors[4].rel_delta.has_value());
  CHECK(cmp.factors[5].status == "MINOR");
  CHECK(cmp.factors[6].status == "MISSING");
  CHECK(cmp.factors[7].status == "CRITICAL");
  CHECK(cmp.factors[8].status == "DIVERGENT");
  // MINOR counts as divergent; the C≈0 case does not (as the peer counts).
  CHECK(cmp.num_divergent == 4);
  REQUIRE(cmp.first_divergence);
  CHECK(cmp.factors[*cmp.first_divergence].name == "polar");
  REQUIRE(cmp.pixel);
  CHECK(cmp.pixel->slow == 12);
  CHECK(cmp.pixel->fast == 34);
}

TEST_CASE("the tolerance applies to every factor") {
  const Trace c = parse_trace(kC, "c.log");
  const Trace py = parse_trace(kPy, "py.log");
  const ScalingComparison cmp = compare_scaling(c, py, 1e-4, AliasTable::builtin());
  CHECK(cmp.factors[5].status == "PASS");  // 2e-5 ≤ 1e-4
  CHECK(cmp.factors[8].status == "DIVERGENT");
}

TEST_CASE("metrics.json has the peer's keys and order") {
  const Trace c = parse_trace(kC, "c.log");
  const Trace py = parse_trace(kPy, "py.log");
  const ScalingComparison cmp = compare_scaling(c, py, 1e-6, AliasTable::builtin());
  const auto j = nlohmann::ordered_json::parse(scaling_metrics_json(cmp));
  std::vector<std::string> keys;
  for (const auto& [k, v] : j.items()) keys.push_back(k);
  CHECK(keys == std::vector<std::string>{"tolerance_rel", "first_divergence", "num_divergent", "factors"});
  const auto& omega = j["factors"]["omega_pixel"];
  CHECK(omega["status"] == "MISSING");
  CHECK(omega["py_value"].is_null());
  CHECK(j["factors"]["capture_fraction"]["rel_delta"].is_null());
  CHECK(j["factors"]["I_pixel_final"]["abs_delta"].get<double>() == doctest::Approx(0.003));
}

TEST_CASE("the peer's display format") {
  CHECK(peer_format_value(943654.80923755) == "943654.809");
  CHECK(peer_format_value(2.88139542684698e-07) == "2.881395e-07");
  CHECK(peer_format_value(1e24) == "1.000000e+24");
  CHECK(peer_format_value(10.0) == "10");
  CHECK(peer_format_value(std::nullopt) == "NOT_EXTRACTED");
}
