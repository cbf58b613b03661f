#include <cmath>
#include <limits>

#include "nbtrace/base/error.hpp"
#include "nbtrace/trace/diff.hpp"
#include "test_support.hpp"

using namespace nbtrace;

namespace {
const FieldResult& field(const DiffResult& r, std::string_view label) {
  for (const FieldResult& f : r.fields) {
    if (r.field_label(f) == label) return f;
  }
  FAIL("no field " << label);
  return r.fields.front();
}
}  // namespace

TEST_CASE("compare_values: statuses and the peer's near-zero cases") {
  CHECK(compare_values(1.0, 1.0 + 1e-7, 1e-6).status == Status::pass);
  CHECK(compare_values(1.0, 1.0 + 1e-5, 1e-6).status == Status::minor);
  CHECK(compare_values(1.0, 1.001, 1e-6).status == Status::divergent);
  CHECK(compare_values(1.0, 1.5, 1e-6).status == Status::critical);
  const auto z = compare_values(1e-31, -1e-31, 1e-6);
  CHECK(z.status == Status::zero_match);
  CHECK(z.rel_delta == 0.0);
  const auto zr = compare_values(0.0, 1e-3, 1e-6);
  CHECK(zr.status == Status::zero_ref_divergent);
  CHECK(std::isnan(zr.rel_delta));
  CHECK(compare_values(2.0, 3.0, 1e-6, 1.5).status == Status::pass);  // absolute floor
  // Non-finite values never agree by default; a policy may let identical ones pass.
  const double inf = std::numeric_limits<double>::infinity();
  CHECK(compare_values(std::nan(""), 1.0, 1e-6).status == Status::non_finite);
  CHECK(compare_values(1.0, -inf, 1e-6).status == Status::non_finite);
  CHECK(compare_values(std::nan(""), std::nan(""), 1e-6).status == Status::non_finite);
  CHECK(compare_values(inf, inf, 1e-6).status == Status::non_finite);
  CHECK(compare_values(std::nan(""), std::nan(""), 1e-6, 0, true).status == Status::pass);
  CHECK(compare_values(inf, inf, 1e-6, 0, true).status == Status::pass);
  CHECK(compare_values(inf, -inf, 1e-6, 0, true).status == Status::non_finite);
  CHECK(compare_values(std::nan(""), 1.0, 1e-6, 0, true).status == Status::non_finite);
  CHECK(is_divergence(Status::non_finite));
  CHECK(status_name(Status::non_finite) == "NON_FINITE");
  const auto v = compare_values(-2.0, -2.5, 1e-6);
  CHECK(v.abs_delta == -0.5);
  CHECK(v.rel_delta == doctest::Approx(0.25));  // (test-ref)/ref, signed
}

TEST_CASE("a trace diffed with itself is all PASS") {
  const Trace a = parse_trace(
      "TRACE_C:Rx=[1 0 0; 0 1 -0; 0 0 1]\nTRACE_C: hkl 1 2 3\nTRACE_C: conv CUSTOM\n"
      "TRACE_C_PHI phi_tic=0 F_latt=2\n",
      "a.log");
  const DiffResult r = diff_traces(a, a, {});
  CHECK(r.num_divergent == 0);
  CHECK(r.num_compared == 4);
  CHECK(r.num_missing == 0);
  CHECK(!r.first_divergence);
  CHECK(r.components.size() == 9 + 3 + 1 + 1);
}

TEST_CASE("alignment by name, occurrence and loop coordinates, across tags") {
  const Trace ref = parse_trace(
      "TRACE_C: x 1\nTRACE_C: x 2\nTRACE_C_PHI phi_tic=0 k=1\nTRACE_C_PHI phi_tic=1 k=2\nTRACE_C: only_c 5\n",
      "ref.log");
  const Trace test = parse_trace(
      "TRACE_PY_PHI phi_tic=1 k=2\nTRACE_PY_PHI phi_tic=0 k=1.5\nTRACE_PY: x 1\nTRACE_PY: x 2\nTRACE_PY: only_py 1\n",
      "test.log");
  const DiffResult r = diff_traces(ref, test, {});
  CHECK(field(r, "x").status == Status::pass);
  CHECK(field(r, "x#1").status == Status::pass);
  CHECK(field(r, "PHI.k[phi_tic=0]").status == Status::critical);
  CHECK(field(r, "PHI.k[phi_tic=1]").status == Status::pass);
  CHECK(field(r, "only_c").status == Status::missing);
  CHECK(field(r, "only_py").status == Status::missing);
  CHECK(r.num_missing == 2);
  CHECK(r.num_divergent == 1);
  REQUIRE(r.first_divergence);
  CHECK(r.name(r.fields[*r.first_divergence]) == "PHI.k");
}

TEST_CASE("first divergence follows the reference's line order and lists upstream fields") {
  const Trace ref = parse_trace("TRACE_C: a 1\nTRACE_C: b 2\nTRACE_C: c 3\nTRACE_C: d 4\nTRACE_C: e 5\n", "ref.log");
  const Trace test = parse_trace("TRACE_PY: e 6\nTRACE_PY: d 9\nTRACE_PY: c 3\nTRACE_PY: b 2\nTRACE_PY: a 1\n", "t.log");
  const DiffResult r = diff_traces(ref, test, {});
  REQUIRE(r.first_divergence);
  CHECK(r.name(r.fields[*r.first_divergence]) == "d");
  REQUIRE(r.upstream.size() == 3);
  CHECK(r.name(r.fields[r.upstream[0]]) == "a");
  CHECK(r.name(r.fields[r.upstream[2]]) == "c");
  CHECK(r.num_divergent == 2);
}

TEST_CASE("every component of vectors and matrices; shape and text mismatches") {
  const Trace ref = parse_trace("TRACE_C:M=[1 2; 3 4]\nTRACE_C: v 1 2 3\nTRACE_C: t CUSTOM\n", "ref.log");
  const Trace test = parse_trace("TRACE_PY:M=[1 2; 3 4.5]\nTRACE_PY: v 1 2\nTRACE_PY: t MOSFLM\n", "t.log");
  const DiffResult r = diff_traces(ref, test, {});
  const FieldResult& m = field(r, "M");
  CHECK(m.num_components == 4);
  CHECK(r.components[m.first_component + 3].status == Status::critical);
  CHECK(r.components[m.first_component + 0].status == Status::pass);
  CHECK(field(r, "v").status == Status::shape_mismatch);
  CHECK(field(r, "t").status == Status::text_mismatch);
}

TEST_CASE("built-in and user aliases map test names onto the reference's") {
  const Trace ref = parse_trace("TRACE_C: I_before_scaling 100\nTRACE_C: F_cell 5\n", "ref.log");
  const Trace test = parse_trace(
      "TRACE_PY: I_before_scaling_pre_polar 100\nTRACE_PY: F_cell_nearest 5\nTRACE_PY: F_cell_interpolated 4\n",
      "t.log");
  DiffResult r = diff_traces(ref, test, {});
  CHECK(field(r, "I_before_scaling").status == Status::pass);
  CHECK(field(r, "F_cell").status == Status::pass);
  CHECK(r.num_missing == 1);  // F_cell_interpolated

  DiffOptions opt;
  opt.aliases.add_spec("F_cell_interpolated=F_cell");  // replaces the built-in F_cell_nearest
  r = diff_traces(ref, test, opt);
  CHECK(field(r, "F_cell").status == Status::critical);
  CHECK(field(r, "F_cell_nearest").status == Status::missing);
}

TEST_CASE("per-field tolerance overrides and the absolute floor") {
  const Trace ref = parse_trace("TRACE_C: omega 1.0\nTRACE_C: polar 1.0\nTRACE_C: tiny 1e-20\n", "ref.log");
  const Trace test = parse_trace("TRACE_PY: omega 1.00001\nTRACE_PY: polar 1.00001\nTRACE_PY: tiny 2e-20\n", "t.log");
  DiffOptions opt;
  opt.policy.overrides.push_back({"omega*", FieldTolerance{1e-4, std::nullopt}});
  opt.policy.overrides.push_back({"tiny", FieldTolerance{std::nullopt, 1e-18}});
  const DiffResult r = diff_traces(ref, test, opt);
  CHECK(field(r, "omega").status == Status::pass);
  CHECK(field(r, "polar").status == Status::minor);
  CHECK(field(r, "tiny").status == Status::pass);
}

TEST_CASE("a waived field reports WAIVED, never PASS, and keeps its underlying status") {
  const Trace ref = parse_trace("TRACE_C_PHI phi_tic=0 k=1\nTRACE_C_PHI phi_tic=1 k=2\nTRACE_C: ok 1\n", "r.log");
  const Trace test = parse_trace("TRACE_PY_PHI phi_tic=0 k=3\nTRACE_PY_PHI phi_tic=1 k=2\nTRACE_PY: ok 1\n", "t.log");
  DiffOptions opt;
  opt.policy.waivers.push_back({"C-PARITY-001", {"PHI.k"}, {{"phi_tic", 0}}, "phi carry-over"});
  opt.policy.waivers.push_back({"UNUSED-1", {"ok"}, {}, "nothing to waive"});
  const DiffResult r = diff_traces(ref, test, opt);
  const FieldResult& k0 = field(r, "PHI.k[phi_tic=0]");
  CHECK(k0.status == Status::waived);
  CHECK(r.components[k0.first_component].underlying == Status::critical);
  CHECK(field(r, "PHI.k[phi_tic=1]").status == Status::pass);  // loop constraint not met
  CHECK(field(r, "ok").status == Status::waived);              // waived, even though it agrees
  CHECK(r.num_divergent == 0);
  CHECK(r.num_waived == 2);
  REQUIRE(r.unused_waivers.size() == 1);
  CHECK(r.unused_waivers[0] == "UNUSED-1");
}

TEST_CASE("--fields globs restrict the comparison") {
  const Trace ref = parse_trace("TRACE_C: a 1\nTRACE_C: b 2\n", "r.log");
  const Trace test = parse_trace("TRACE_PY: a 1\nTRACE_PY: b 3\n", "t.log");
  DiffOptions opt;
  opt.field_globs = {"a*"};
  const DiffResult r = diff_traces(ref, test, opt);
  CHECK(r.fields.size() == 1);
  CHECK(r.num_divergent == 0);
}

TEST_CASE("verdicts: nothing in common, too few fields, non-finite values") {
  const Trace ref = parse_trace("TRACE_C: alpha 1\nTRACE_C: beta 2\nTRACE_C: gamma nan\n", "c.log");
  SUBCASE("no field in common is NOT_COMPARED, not PASS") {
    const Trace other = parse_trace("TRACE_PY: delta 1\n", "py.log");
    const DiffResult r = diff_traces(ref, other, {});
    CHECK(r.num_compared == 0);
    CHECK(r.num_divergent == 0);
    CHECK(r.verdict() == DiffVerdict::not_compared);
    CHECK(verdict_name(r.verdict()) == "NOT_COMPARED");
  }
  SUBCASE("fewer compared fields than the policy's minimum") {
    const Trace two = parse_trace("TRACE_PY: alpha 1\nTRACE_PY: beta 2\n", "py.log");
    DiffOptions o;
    o.policy.min_compared = 3;
    const DiffResult r = diff_traces(ref, two, o);
    CHECK(r.num_compared == 2);
    CHECK(r.num_divergent == 0);
    CHECK(r.verdict() == DiffVerdict::not_compared);
    o.policy.min_compared = 2;
    CHECK(diff_traces(ref, two, o).verdict() == DiffVerdict::pass);
  }
  SUBCASE("NaN on both sides diverges unless the policy lets identical non-finite values pass") {
    const Trace same = parse_trace("TRACE_PY: alpha 1\nTRACE_PY: beta 2\nTRACE_PY: gamma nan\n", "py.log");
    const DiffResult strict = diff_traces(ref, same, {});
    CHECK(strict.verdict() == DiffVerdict::divergent);
    CHECK(strict.num_non_finite == 1);
    CHECK(field(strict, "gamma").status == Status::non_finite);
    DiffOptions lenient;
    lenient.policy.non_finite_equal = true;
    const DiffResult r = diff_traces(ref, same, lenient);
    CHECK(r.verdict() == DiffVerdict::pass);
    CHECK(r.num_non_finite == 0);
  }
  CHECK(diff_verdict_from_name("DIVERGENT") == DiffVerdict::divergent);
  CHECK_THROWS_AS(diff_verdict_from_name("MAYBE"), InputError);
}
