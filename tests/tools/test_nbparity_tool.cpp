// nbparity run / matrix with real nbsim runs; attribution of nbsim spec mode
// against nanoBragg.c's golden trace.
#include <nlohmann/json.hpp>

#include "nbtrace/trace/attribute.hpp"
#include "test_support.hpp"

namespace fs = std::filesystem;
using nlohmann::json;

namespace {
fs::path example_dir() { return nbtest::source_dir() / "examples/demo_scaling"; }

/// The demo case's simulator arguments (image_command without the program).
std::vector<std::string> demo_args() {
  auto args = json::parse(nbtest::read_file(example_dir() / "case.json"))["image_command"].get<std::vector<std::string>>();
  args.erase(args.begin());
  return args;
}

std::string nbsim() { return (nbtest::bin_dir() / "nbsim").string(); }
}  // namespace

TEST_CASE("run: nbsim spec mode against nbsim c-parity shows the phi carry-over, in a sealed bundle") {
  nbtest::TempDir dir;
  std::vector<std::string> args{"run", "--ref-bin", nbsim(), "--mode", "c-parity", "--pixels", "27,488",
                                "--auto-pixels", "1", "--bundle", (dir / "20260101T000000Z").string(), "--"};
  const auto sim = demo_args();
  args.insert(args.end(), sim.begin(), sim.end());
  const auto r = nbtest::run_tool("nbparity", args, example_dir());
  CHECK(r.exit_code == 3);
  const fs::path b = dir / "20260101T000000Z";
  const json m = json::parse(nbtest::read_file(b / "metrics.json"));
  CHECK(m["verdict"] == "DIVERGENT");
  CHECK(m["image"]["correlation"].get<double>() > 0.99);
  CHECK(m["image"]["correlation"].get<double>() < 1.0);
  REQUIRE(m["pixels"].size() == 2);
  CHECK(m["pixels"][0]["slow"] == 27);
  CHECK(m["pixels"][0]["status"] == "DIVERGENT");
  CHECK(fs::exists(b / "traces/ref_s27_f488.log"));
  CHECK(fs::exists(b / "diffs/s27_f488.md"));
  // The per-pixel diff: the phi-0 lattice factor diverges, later steps agree.
  const json d = json::parse(nbtest::read_file(b / "diffs/s27_f488.json"));
  bool phi0 = false, phi5 = false;
  for (const auto& e : d["fields"]) {
    if (e["name"] != "PHI.F_latt") continue;
    if (e["loop"]["phi_tic"] == 0.0) phi0 = e["status"] != "PASS";
    if (e["loop"]["phi_tic"] == 5.0) phi5 = e["status"] == "PASS";
  }
  CHECK(phi0);
  CHECK(phi5);
  // Sealed, relocatable and clean.
  const auto audit = nbtest::run_tool("nbbundle", {"audit", b.string()});
  CHECK_MESSAGE(audit.exit_code == 0, audit.out);
  CHECK(nbtest::read_file(b / "commands.txt").find("nbparity run --ref-bin") != std::string::npos);
}

TEST_CASE("run: the same mode on both sides is parity (exit 0); a failing program is exit 2") {
  nbtest::TempDir dir;
  std::vector<std::string> args{"run", "--ref-bin", nbsim(), "--mode", "spec", "--pixels", "27,488",
                                "--correlation-min", "0.9999999", "--bundle", (dir / "20260101T000001Z").string(), "--"};
  const auto sim = demo_args();
  args.insert(args.end(), sim.begin(), sim.end());
  auto r = nbtest::run_tool("nbparity", args, example_dir());
  CHECK(r.exit_code == 0);
  CHECK(json::parse(nbtest::read_file(dir / "20260101T000001Z/metrics.json"))["verdict"] == "PASS");

  std::vector<std::string> bad{"run", "--ref-bin", "/bin/false", "--bundle", (dir / "20260101T000002Z").string(), "--"};
  bad.insert(bad.end(), sim.begin(), sim.end());
  r = nbtest::run_tool("nbparity", bad, example_dir());
  CHECK(r.exit_code == 2);
  CHECK(json::parse(nbtest::read_file(dir / "20260101T000002Z/metrics.json"))["verdict"] == "RUNNER_FAILED");
  CHECK(nbtest::run_tool("nbparity", {"run", "--", "-default_F", "1"}).exit_code == 1);  // no --ref-bin
}

TEST_CASE("run: the trace tolerance is --trace-tolerance, else the policy's tolerance_rel, else 1e-9") {
  nbtest::TempDir dir;
  nbtest::write_file(dir / "policy.json", R"({"tolerance_rel": 0.001})");
  const std::vector<std::string> sim{"-cell", "100", "100", "100", "90", "90", "90", "-default_F", "100", "-N", "3",
                                     "-lambda", "1", "-distance", "50", "-detpixels", "16", "-pixel", "0.1"};
  const auto tolerance = [&](const std::string& name, const std::vector<std::string>& options) {
    std::vector<std::string> args{"run", "--ref-bin", nbsim(), "--mode", "spec", "--pixels", "8,8", "--bundle",
                                  (dir / name).string()};
    args.insert(args.end(), options.begin(), options.end());
    args.push_back("--");
    args.insert(args.end(), sim.begin(), sim.end());
    const auto r = nbtest::run_tool("nbparity", args, dir.path());
    CHECK_MESSAGE(r.exit_code == 0, r.out << r.err);
    return json::parse(nbtest::read_file(dir / name / "metrics.json"))["trace_tolerance"].get<double>();
  };
  CHECK(tolerance("20260101T000003Z", {}) == 1e-9);
  CHECK(tolerance("20260101T000004Z", {"--tolerances", (dir / "policy.json").string()}) == 0.001);
  CHECK(tolerance("20260101T000005Z", {"--tolerances", (dir / "policy.json").string(), "--trace-tolerance", "1e-7"}) ==
        1e-7);
}

TEST_CASE("matrix: every golden case passes in c-parity mode against its stored outputs") {
  if (!nbtest::require_shared("golden cases")) return;
  nbtest::TempDir dir;
  const auto r = nbtest::run_tool("nbparity", {"matrix", (nbtest::source_dir() / "tests/parity_cases.json").string(),
                                               "--jobs", "2", "--json", (dir / "m.json").string()});
  CHECK_MESSAGE(r.exit_code == 0, r.out);
  const json m = json::parse(nbtest::read_file(dir / "m.json"));
  CHECK(m["passed"] == 17);
  CHECK(m["failed"] == 0);
  for (const auto& c : m["cases"]) {
    CAPTURE(c["id"].get<std::string>());
    CHECK(c["traces"] == 2);
    CHECK(c["correlation"].get<double>() >= 0.9999999);
  }
}

TEST_CASE("matrix: spec mode on a carry-over case fails its traces (exit 3)") {
  if (!nbtest::require_shared("golden cases")) return;
  nbtest::TempDir dir;
  nbtest::write_file(dir / "cases.json", R"({
    "golden_root": ")" + (nbtest::shared_dir() / "golden").string() + R"(",
    "defaults": {"trace_tolerance": 1e-9},
    "cases": [{"id": "phi_osc_256", "mode": "spec"}, {"id": "simple_cubic_256", "mode": "spec"}]
  })");
  const auto r = nbtest::run_tool("nbparity", {"matrix", (dir / "cases.json").string(), "--json", (dir / "m.json").string()});
  CHECK(r.exit_code == 3);
  const json m = json::parse(nbtest::read_file(dir / "m.json"));
  CHECK(m["failed"] == 1);
  CHECK(m["cases"][0]["pass"] == false);
  CHECK(m["cases"][0]["traces_divergent"].get<int>() >= 1);
  CHECK(m["cases"][1]["pass"] == true);  // one phi step: no carry-over
  // The same cases as YAML.
  nbtest::write_file(dir / "cases.yaml", "golden_root: \"" + (nbtest::shared_dir() / "golden").string() +
                                             "\"\ndefaults:\n  trace_tolerance: 1e-9\ncases:\n"
                                             "  - id: phi_osc_256\n    mode: spec\n  - id: simple_cubic_256\n");
  const auto y = nbtest::run_tool("nbparity", {"matrix", (dir / "cases.yaml").string(), "--json", (dir / "y.json").string()});
  CHECK(y.exit_code == 3);
  const json ym = json::parse(nbtest::read_file(dir / "y.json"));
  CHECK(ym["cases"][0]["pass"] == false);
  CHECK(ym["cases"][1]["pass"] == true);  // c-parity, the default mode
  nbtest::write_file(dir / "bad.json", R"({"cases": [{"id": "x", "bogus": 1}]})");
  CHECK(nbtest::run_tool("nbparity", {"matrix", (dir / "bad.json").string()}).exit_code == 5);
}

TEST_CASE("attribute: nbsim spec mode vs nanoBragg.c on supervisor_scaling puts >= 99.9% of the gap at phi step 0") {
  if (!nbtest::require_shared("supervisor_scaling golden case")) return;
  nbtest::TempDir dir;
  const fs::path g = nbtest::shared_dir() / "golden/supervisor_scaling";
  auto cmd = json::parse(nbtest::read_file(g / "case.json"))["traces"][0]["command"].get<std::vector<std::string>>();
  cmd[0] = nbsim();
  for (std::size_t i = 0; i + 1 < cmd.size(); ++i) {
    if (cmd[i] == "-mat" || cmd[i] == "-hkl") cmd[i + 1] = (g / cmd[i + 1]).string();
    if (cmd[i] == "-floatfile") cmd[i + 1] = (dir / "trace_image.bin").string();
  }
  cmd.insert(cmd.end(), {"-mode", "spec", "-trace_file", (dir / "spec_trace.log").string()});
  const auto run = nbtest::run_process(cmd, dir.path());
  REQUIRE_MESSAGE(run.exit_code == 0, run.err);
  const nbtrace::Trace c = nbtrace::load_trace((g / "c_trace_s685_f1039.log").string());
  const nbtrace::Trace spec = nbtrace::load_trace((dir / "spec_trace.log").string());
  const nbtrace::Attribution a = nbtrace::attribute_gap(c, spec, {});
  CHECK(a.gap_rel == doctest::Approx(-0.146).epsilon(0.01));
  REQUIRE(a.steps.size() == 10);
  REQUIRE(a.steps[0].share);
  CHECK(*a.steps[0].share >= 0.999);
  CHECK(a.attributed_share == doctest::Approx(1.0).epsilon(1e-6));
  REQUIRE(!a.hypotheses.empty());
  CHECK(a.hypotheses.front().id == "phi-carryover");
}

TEST_CASE("demo: c-parity equals nanoBragg.c, spec differs by the carry-over only, bundle audits clean") {
  nbtest::TempDir dir;
  const auto r = nbtest::run_tool("nbparity", {"demo", "--out", (dir / "out").string()});
  CHECK_MESSAGE(r.exit_code == 0, r.out << r.err);
  CHECK(r.out.find("expectations hold") != std::string::npos);
  CHECK(r.out.find("audit clean") != std::string::npos);
  fs::path bundle;
  for (const auto& e : fs::directory_iterator(dir / "out/parity")) bundle = e.path();
  const json m = json::parse(nbtest::read_file(bundle / "metrics.json"));
  CHECK(m["expectations_hold"] == true);
  int spec_rows = 0;
  for (const auto& t : m["traces"]) {
    if (t["test"] == "nbsim c-parity") CHECK(t["divergent"] == 0);
    if (t["test"] == "nbsim spec") {
      ++spec_rows;
      CHECK(t["first_divergence"] == "rot_a_angstroms");
      CHECK(t["only_phi_carryover"] == true);
    }
  }
  CHECK(spec_rows == 2);
  for (const auto& a : m["attribution"]) {
    if (a["test"] == "nbsim spec") {
      CHECK(a["attributed_share"].get<double>() == doctest::Approx(1.0).epsilon(1e-6));
      CHECK(a["leading_hypothesis"] == "phi-carryover");
    }
  }
  CHECK(nbtest::run_tool("nbbundle", {"audit", bundle.string()}).exit_code == 0);
}
