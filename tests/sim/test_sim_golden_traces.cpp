// Acceptance: the TRACE_CPP lines of nbsim agree with nanoBragg.c's TRACE_C
// lines field by field (c-parity), and spec mode shows exactly the phi
// carry-over on supervisor_scaling.
#include <doctest/doctest.h>

#include <set>

#include "nbtrace/trace/diff.hpp"
#include "nbtrace/trace/trace.hpp"
#include "sim_cases.hpp"

namespace {

struct TracedRun {
  nbtrace::Trace ref;
  nbtrace::Trace test;
};

/// Runs the case's trace command (mode prepended) and parses both logs.
TracedRun run_trace(const std::string& name, const nlohmann::json& trace, const std::string& mode) {
  nbtest::TempDir work;
  simtest::stage_inputs(name, work.path());
  std::vector<std::string> args{"-mode", mode};
  const auto cmd = simtest::arguments(trace.at("command"));
  args.insert(args.end(), cmd.begin(), cmd.end());
  const auto run = nbtest::run_tool("nbsim", args, work.path());
  INFO(run.err);
  REQUIRE(run.exit_code == 0);
  const std::string ref_path = (simtest::case_dir(name) / trace.at("file").get<std::string>()).string();
  return {nbtrace::load_trace(ref_path, {"C"}), nbtrace::parse_trace(run.out, name + " nbsim", {"CPP"})};
}

std::vector<std::string> record_names(const nbtrace::Trace& t) {
  std::vector<std::string> names;
  for (const auto& r : t.records()) names.emplace_back(t.name(r));
  return names;
}

nbtrace::DiffOptions options_1e9() {
  nbtrace::DiffOptions o;
  o.policy.rel = 1e-9;
  return o;
}

}  // namespace

TEST_CASE("c-parity traces agree with TRACE_C in every common field") {
  if (!nbtest::require_shared("golden traces")) return;
  for (const std::string& name : simtest::all_checked_cases()) {
    const auto json = simtest::case_json(name);
    for (const auto& trace : json.at("traces")) {
      CAPTURE(name);
      CAPTURE(trace.at("file").get<std::string>());
      const TracedRun t = run_trace(name, trace, "c-parity");
      REQUIRE(t.test.pixels().size() == 1);
      CHECK(t.test.pixels()[0].slow == trace.at("spixel").get<int>());
      CHECK(t.test.pixels()[0].fast == trace.at("fpixel").get<int>());
      // Same fields in the same order (names qualified by channel, e.g. PHI.k_frac).
      CHECK(record_names(t.test) == record_names(t.ref));
      const nbtrace::DiffResult d = nbtrace::diff_traces(t.ref, t.test, options_1e9());
      if (d.first_divergence) FAIL_CHECK("first divergence: " << d.field_label(d.fields[*d.first_divergence]));
      CHECK(d.num_divergent == 0);
      CHECK(d.num_missing == 0);
      CHECK(d.num_compared >= 60);
    }
  }
}

TEST_CASE("spec mode on supervisor_scaling differs only by the phi carry-over") {
  if (!nbtest::require_shared("golden traces")) return;
  const auto json = simtest::case_json("supervisor_scaling");
  // What the orientation at phi step 0 feeds: Miller indices, lattice
  // factors, the intensity and the per-phi line of step 0.
  const std::set<std::string> dependent{
      "rot_a_angstroms", "rot_b_angstroms", "rot_c_angstroms", "hkl_frac",        "hkl_rounded",
      "F_latt_a",        "F_latt_b",        "F_latt_c",        "F_latt",          "F_cell",
      "PHI.k_frac",      "PHI.F_latt_b",    "PHI.F_latt",      "I_before_scaling", "I_pixel_final",
      "floatimage_accumulated"};
  for (const auto& trace : json.at("traces")) {
    CAPTURE(trace.at("file").get<std::string>());
    const TracedRun t = run_trace("supervisor_scaling", trace, "spec");
    const nbtrace::DiffResult d = nbtrace::diff_traces(t.ref, t.test, options_1e9());
    REQUIRE(d.first_divergence.has_value());
    const auto& first = d.fields[*d.first_divergence];
    CHECK(d.name(first) == "rot_a_angstroms");
    // Everything before it (the whole geometry and the scattering vector) passes.
    for (std::size_t i = 0; i < *d.first_divergence; ++i) {
      CAPTURE(d.field_label(d.fields[i]));
      CHECK_FALSE(nbtrace::is_divergence(d.fields[i].status));
    }
    for (const auto& f : d.fields) {
      if (!nbtrace::is_divergence(f.status)) continue;
      const std::string label = d.field_label(f);
      CAPTURE(label);
      CHECK(dependent.count(std::string(d.name(f))) == 1);
      // Per-phi lines diverge only at step 0, where phi = 0.
      for (const auto& [coord, value] : d.loop_coords(f))
        if (coord == "phi_tic") CHECK(value == 0.0);
    }
    CHECK(d.num_missing == 0);
  }
}
