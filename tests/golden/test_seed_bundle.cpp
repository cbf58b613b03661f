// compare_scaling reproduces the peer's metrics.json of the seed bundle.
#include <cmath>
#include <nlohmann/json.hpp>

#include "nbtrace/trace/scaling.hpp"
#include "test_support.hpp"

using namespace nbtrace;
namespace fs = std::filesystem;

namespace {
fs::path seed_dir() { return nbtest::shared_dir() / "seed-bundle/20251008T212459Z/spec_baseline"; }

void check_number(const nlohmann::json& expected, const nlohmann::json& actual, const std::string& what) {
  CAPTURE(what);
  if (expected.is_null()) {
    CHECK(actual.is_null());
    return;
  }
  REQUIRE(actual.is_number());
  const double e = expected.get<double>();
  const double a = actual.get<double>();
  if (e == 0) CHECK(a == 0);
  else CHECK(std::fabs(a - e) / std::fabs(e) <= 1e-12);
}
}  // namespace

TEST_CASE("the seed bundle's metrics.json is reproduced from its two traces") {
  if (!nbtest::require_shared("seed bundle")) return;
  const Trace c = load_trace((seed_dir() / "c_trace_scaling.log").string());
  const Trace py = load_trace((seed_dir() / "trace_py_scaling.log").string());
  const ScalingComparison cmp = compare_scaling(c, py, 1e-6, AliasTable::builtin());
  const std::string produced = scaling_metrics_json(cmp);
  const auto expected = nlohmann::json::parse(nbtest::read_file(seed_dir() / "metrics.json"));
  const auto actual = nlohmann::json::parse(produced);

  CHECK(actual["tolerance_rel"] == expected["tolerance_rel"]);
  CHECK(actual["first_divergence"] == expected["first_divergence"]);
  CHECK(actual["first_divergence"] == "I_before_scaling");
  CHECK(actual["num_divergent"] == expected["num_divergent"]);
  CHECK(actual["num_divergent"] == 2);
  REQUIRE(actual["factors"].size() == expected["factors"].size());
  for (const auto& [name, e] : expected["factors"].items()) {
    CAPTURE(name);
    REQUIRE(actual["factors"].contains(name));
    const auto& a = actual["factors"][name];
    CHECK(a["status"] == e["status"]);
    CHECK(a["description"] == e["description"]);
    for (const char* key : {"c_value", "py_value", "abs_delta", "rel_delta"}) check_number(e[key], a[key], name + "." + key);
  }
  // Beyond 1e-12: the same bytes as the peer's json.dump(indent=2).
  CHECK(produced == nbtest::read_file(seed_dir() / "metrics.json"));
  // The pixel comes from the trace, not from a hard-coded string.
  REQUIRE(cmp.pixel);
  CHECK(cmp.pixel->slow == 685);
  CHECK(cmp.pixel->fast == 1039);
  // I_before_scaling: the 14.6% gap.
  CHECK(cmp.factors[0].rel_delta.value() == doctest::Approx(-0.14643174689167).epsilon(1e-12));
}
