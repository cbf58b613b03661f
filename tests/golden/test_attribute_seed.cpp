// Attribution on the seed bundle: C (with per-phi lines) vs PyTorch (without).
#include <nlohmann/json.hpp>

#include "nbtrace/trace/attribute.hpp"
#include "test_support.hpp"

using namespace nbtrace;

TEST_CASE("seed bundle: >= 98% of the 14.6% gap goes to phi step 0; phi-carryover leads") {
  if (!nbtest::require_shared("seed bundle")) return;
  const auto dir = nbtest::shared_dir() / "seed-bundle/20251008T212459Z/spec_baseline";
  const Trace c = load_trace((dir / "c_trace_scaling.log").string());
  const Trace py = load_trace((dir / "trace_py_scaling.log").string());
  const Attribution a = attribute_gap(c, py, {});
  CHECK(a.gap_rel == doctest::Approx(-0.14643174689167).epsilon(1e-10));
  CHECK(a.step_channel == "PHI");
  REQUIRE(a.steps.size() == 10);
  CHECK(a.ref_terms_over_total == doctest::Approx(1.0).epsilon(1e-9));
  const AttributionStep& s0 = a.steps.front();
  REQUIRE(s0.loop.size() == 1);
  CHECK(s0.loop[0].first == "phi_tic");
  CHECK(s0.loop[0].second == 0);
  REQUIRE(s0.share);
  CHECK(*s0.share >= 0.98);
  CHECK(*s0.share <= 1.0);
  CHECK(s0.test_source == "main lines (first step)");
  // The rest is reported as not attributable, not silently folded in.
  for (std::size_t i = 1; i < a.steps.size(); ++i) CHECK_FALSE(a.steps[i].share.has_value());
  CHECK(1.0 - a.attributed_share == doctest::Approx(1.0 - *s0.share));
  REQUIRE(!a.hypotheses.empty());
  CHECK(a.hypotheses.front().id == "phi-carryover");
  CHECK(a.narrative.find("cannot be attributed from the data given") != std::string::npos);
  // The lattice recomputation infers the crystal size and reproduces C's factors.
  bool checked = false;
  for (const LatticeCheck& l : a.lattice) {
    if (l.side != "reference" || l.axis != 'a') continue;
    checked = true;
    CHECK(l.cells == 36);
    CHECK(l.sincg_h == doctest::Approx(l.traced).epsilon(1e-9));
  }
  CHECK(checked);
}

TEST_CASE("nbtrace attribute writes markdown, SVG and JSON") {
  if (!nbtest::require_shared("seed bundle")) return;
  const auto dir = nbtest::shared_dir() / "seed-bundle/20251008T212459Z/spec_baseline";
  nbtest::TempDir out;
  const auto r = nbtest::run_tool("nbtrace", {"attribute", (dir / "c_trace_scaling.log").string(),
                                              (dir / "trace_py_scaling.log").string(), "--md",
                                              (out / "attr.md").string(), "--json", (out / "attr.json").string()});
  CHECK(r.exit_code == 0);
  CHECK(r.out.find("1. phi-carryover") != std::string::npos);
  const std::string md = nbtest::read_file(out / "attr.md");
  CHECK(md.find("![per-step terms](attr.svg)") != std::string::npos);
  CHECK(nbtest::read_file(out / "attr.svg").find("<svg") == 0);
  const auto j = nlohmann::json::parse(nbtest::read_file(out / "attr.json"));
  CHECK(j["gap_rel"].get<double>() == doctest::Approx(-0.1464317).epsilon(1e-6));
  CHECK(j["steps"][0]["loop"]["phi_tic"] == 0);
  CHECK(j["steps"][0]["share"].get<double>() >= 0.98);
  CHECK(j["hypotheses"][0]["id"] == "phi-carryover");
}
