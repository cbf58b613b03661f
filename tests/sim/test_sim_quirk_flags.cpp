// nbsim -quirk ID / -no_quirk ID: one documented quirk on or off over the
// mode's set (docs/c-parity.md "Switching one quirk"), reported by
// -stats_json. The image checks run supervisor_scaling (the phi carry-over,
// C-PARITY-001) on a 16 x 11 pixel box of its ROI.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstring>

#include "nbsim/quirks.hpp"
#include "sim_cases.hpp"

namespace {

const std::vector<std::string> kSmall{"-cell", "50", "60", "70", "90", "95", "100", "-N", "3", "-lambda", "1.0",
                                      "-distance", "80", "-detpixels", "24", "-pixel", "0.4", "-oversample", "1",
                                      "-default_F", "10", "-nonoise", "-nopgm", "-floatfile", "img.bin"};

std::vector<std::string> small(std::vector<std::string> extra) {
  std::vector<std::string> args = kSmall;
  args.insert(args.end(), extra.begin(), extra.end());
  return args;
}

/// The -stats_json "quirks" list of a small run with `extra`.
std::vector<std::string> resolved_quirks(const nbtest::TempDir& work, std::vector<std::string> extra) {
  extra.insert(extra.end(), {"-stats_json", "stats.json"});
  const auto r = nbtest::run_tool("nbsim", small(extra), work.path());
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  return nlohmann::json::parse(nbtest::read_file(work / "stats.json")).at("quirks").get<std::vector<std::string>>();
}

std::vector<std::string> all_ids_but(const std::string& left_out) {
  std::vector<std::string> ids;
  for (const auto& info : nbsim::kQuirkTable)
    if (info.id != left_out) ids.emplace_back(info.id);
  return ids;
}

}  // namespace

TEST_CASE("-quirk and -no_quirk edit the mode's set in order, wherever -mode stands; -stats_json reports it") {
  nbtest::TempDir work;
  using V = std::vector<std::string>;
  CHECK(resolved_quirks(work, {}) == V{});
  CHECK(resolved_quirks(work, {"-mode", "c-parity"}) == all_ids_but(""));
  CHECK(resolved_quirks(work, {"-quirk", "C-PARITY-001"}) == V{"C-PARITY-001"});
  // Any case; repeatable; table order in the report.
  CHECK(resolved_quirks(work, {"-quirk", "c-parity-007", "-quirk", "C-PARITY-001"}) == V{"C-PARITY-001", "C-PARITY-007"});
  CHECK(resolved_quirks(work, {"-quirk", "c-trace-001"}) == V{"C-TRACE-001"});
  // Over the mode's set, even when -mode comes after the switch.
  CHECK(resolved_quirks(work, {"-no_quirk", "C-PARITY-001", "-mode", "c-parity"}) == all_ids_but("C-PARITY-001"));
  CHECK(resolved_quirks(work, {"-mode", "c-parity", "-no_quirk", "C-TRACE-001"}) == all_ids_but("C-TRACE-001"));
  // In command-line order: the last switch of an id wins.
  CHECK(resolved_quirks(work, {"-quirk", "C-PARITY-003", "-no_quirk", "C-PARITY-003"}) == V{});
  CHECK(resolved_quirks(work, {"-no_quirk", "C-PARITY-003", "-quirk", "C-PARITY-003"}) == V{"C-PARITY-003"});
  // The mode's name stays what the user chose.
  resolved_quirks(work, {"-quirk", "C-PARITY-001"});
  CHECK(nlohmann::json::parse(nbtest::read_file(work / "stats.json")).at("mode") == "spec");
}

TEST_CASE("an unknown quirk id is a usage error naming the known ids") {
  nbtest::TempDir work;
  for (const std::vector<std::string> extra : {std::vector<std::string>{"-quirk", "C-PARITY-010"},
                                               std::vector<std::string>{"-no_quirk", "phi_carry"}}) {
    const auto r = nbtest::run_tool("nbsim", small(extra), work.path());
    CHECK(r.exit_code == 1);
    CHECK(r.err.rfind("nbsim: error: -" + extra[0].substr(1) + ": unknown quirk id '" + extra[1] + "'", 0) == 0);
    CHECK(r.err.find(nbsim::known_quirk_ids()) != std::string::npos);
    CHECK_FALSE(std::filesystem::exists(work / "img.bin"));
  }
  const auto missing = nbtest::run_tool("nbsim", small({"-quirk"}), work.path());
  CHECK(missing.exit_code == 1);
  CHECK(missing.err.find("quirk") != std::string::npos);
}

TEST_CASE("supervisor_scaling: spec + C-PARITY-001 is c-parity bit for bit; c-parity - C-PARITY-001 differs where spec does") {
  if (!nbtest::require_shared("golden/supervisor_scaling")) return;
  nbtest::TempDir work;
  simtest::stage_inputs("supervisor_scaling", work.path());
  // The case's own ROI is 1000..1100 x 650..700; a box inside it is enough.
  auto image = [&](std::vector<std::string> switches, const std::string& name) {
    std::vector<std::string> args = switches;
    const auto image_args = simtest::arguments(simtest::case_json("supervisor_scaling").at("image_command"));
    args.insert(args.end(), image_args.begin(), image_args.end());
    args.insert(args.end(), {"-roi", "1030", "1045", "680", "690", "-floatfile", name, "-nthreads", "2"});
    const auto r = nbtest::run_tool("nbsim", args, work.path());
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    return simtest::read_floats(work / name);
  };
  const auto parity = image({"-mode", "c-parity"}, "parity.bin");
  const auto spec = image({"-mode", "spec"}, "spec.bin");
  const auto spec_001 = image({"-mode", "spec", "-quirk", "C-PARITY-001"}, "spec_001.bin");
  const auto parity_no_001 = image({"-mode", "c-parity", "-no_quirk", "c-parity-001"}, "parity_no_001.bin");
  REQUIRE(parity.size() == spec.size());
  REQUIRE(spec_001.size() == parity.size());
  REQUIRE(parity_no_001.size() == parity.size());
  // Bit for bit: the same bytes.
  CHECK(std::memcmp(spec_001.data(), parity.data(), parity.size() * sizeof(float)) == 0);
  // Where a pixel differs, beyond spec mode's last-bit noise (its lattice
  // sines may come from a vector routine): the carry-over's pixels.
  auto differs = [](float a, float b) { return std::fabs(a - b) > 1e-6f * std::max(std::fabs(a), std::fabs(b)); };
  std::size_t spec_differs = 0, same_set = 0, switch_off_is_spec = 0;
  for (std::size_t i = 0; i < parity.size(); ++i) {
    const bool by_spec = differs(spec[i], parity[i]);
    const bool by_switch = differs(parity_no_001[i], parity[i]);
    spec_differs += by_spec;
    same_set += by_spec == by_switch;
    // Without C-PARITY-001 the rest of c-parity's set changes nothing here.
    switch_off_is_spec += !differs(parity_no_001[i], spec[i]);
  }
  // The box has 16 x 11 pixels; every one but the first starts from the
  // carried orientation (the image file is the whole detector, zero outside).
  CHECK(spec_differs == 16 * 11 - 1);
  CHECK(same_set == parity.size());
  CHECK(switch_off_is_spec == parity.size());
}
