#include "nbtrace/base/error.hpp"
#include "nbtrace/trace/policy.hpp"
#include "test_support.hpp"

using namespace nbtrace;

TEST_CASE("policy file: tolerances, overrides, waivers, aliases") {
  const PolicyFile p = parse_policy(R"({
    "tolerance_rel": 1e-9,
    "abs_floor": 1e-25,
    "fields": {"omega*": {"rel": 1e-5}, "PHI.*": 1e-8},
    "waivers": [{"id": "C-PARITY-001", "fields": ["rot_*_angstroms", "hkl_frac"],
                 "loop": {"phi_tic": 0}, "reason": "phi carry-over"}],
    "aliases": {"I_pre": "I_before_scaling"}
  })", "policy.json");
  CHECK(*p.tolerance_rel == 1e-9);
  CHECK(*p.abs_floor == 1e-25);
  REQUIRE(p.overrides.size() == 2);
  CHECK(*p.overrides[1].second.rel == 1e-8);
  REQUIRE(p.waivers.size() == 1);
  CHECK(p.waivers[0].fields.size() == 2);
  CHECK(p.waivers[0].loop[0].first == "phi_tic");
  CHECK(p.aliases[0].second == "I_before_scaling");
}

TEST_CASE("policy file errors name the file and the problem") {
  CHECK_THROWS_WITH_AS(parse_policy("{", "p.json"), doctest::Contains("p.json: not valid JSON"), InputError);
  CHECK_THROWS_WITH_AS(parse_policy(R"({"tolerance": 1})", "p.json"), doctest::Contains("unknown key 'tolerance'"),
                       InputError);
  CHECK_THROWS_WITH_AS(parse_policy(R"({"tolerance_rel": -1})", "p.json"), doctest::Contains("non-negative"),
                       InputError);
  CHECK_THROWS_WITH_AS(parse_policy(R"({"waivers": [{"fields": "x"}]})", "p.json"), doctest::Contains("'id'"),
                       InputError);
  CHECK_THROWS_AS(load_policy_file("/nonexistent/policy.json"), InputError);
}

TEST_CASE("tolerance_for: last matching override wins, per key") {
  TolerancePolicy p;
  p.rel = 1e-6;
  p.overrides = {{"*", FieldTolerance{1e-3, 0.5}}, {"omega", FieldTolerance{1e-9, std::nullopt}}};
  CHECK(p.tolerance_for("omega") == std::pair<double, double>{1e-9, 0.5});
  CHECK(p.tolerance_for("polar") == std::pair<double, double>{1e-3, 0.5});
}

TEST_CASE("glob_match and alias specs") {
  CHECK(glob_match("rot_*_angstroms", "rot_a_angstroms"));
  CHECK_FALSE(glob_match("rot_*_angstroms", "rot_a_star_A_inv"));
  CHECK(glob_match("PHI.*", "PHI.F_latt"));
  AliasTable t;
  t.add_spec("a=b");
  CHECK(t.resolve("a") == "b");
  CHECK(t.resolve("c") == "c");
  CHECK_THROWS_AS(t.add_spec("nonsense"), UsageError);
  CHECK_THROWS_AS(t.add_spec("=b"), UsageError);
}

TEST_CASE("policy file: min_compared_fields and non_finite reach the diff options") {
  const PolicyFile p = parse_policy(R"({"min_compared_fields": 3, "non_finite": "equal_passes"})", "p.json");
  CHECK(*p.min_compared_fields == 3);
  CHECK(*p.non_finite_equal);
  const PolicyFile strict = parse_policy(R"({"non_finite": "divergent"})", "p.json");
  CHECK_FALSE(*strict.non_finite_equal);
  CHECK_FALSE(strict.min_compared_fields.has_value());
  CHECK_THROWS_WITH_AS(parse_policy(R"({"non_finite": "ignore"})", "p.json"), doctest::Contains("non_finite"),
                       InputError);
  CHECK_THROWS_AS(parse_policy(R"({"min_compared_fields": -1})", "p.json"), InputError);
  CHECK_THROWS_AS(parse_policy(R"({"min_compared_fields": 0})", "p.json"), InputError);
}
