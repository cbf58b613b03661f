// nbparity matrix on suites in the PyTorch port's schema (its
// tests/parity_cases.yaml), made of golden cases of ../shared at 64-96
// pixels: nbsim c-parity as the reference program, nbsim in either mode
// under test; the verdicts, the exit codes, the per-run metrics files and
// the environment variables the port's harness reads.
#include <nlohmann/json.hpp>
#include <set>

#include "nbtrace/base/shell.hpp"
#include "test_support.hpp"

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

std::string nbsim() { return (nbtest::bin_dir() / "nbsim").string(); }
std::string nbsim_cparity() { return nbtrace::shell_quote(nbsim()) + " -mode c-parity"; }

const std::string kSimpleCubicArgs =
    "-cell 100 100 100 90 90 90 -lambda 6.2 -N 5 -default_F 100 -distance 100 -pixel 0.1 -nonoise -nopgm";

/// simple_cubic_256 at two sizes, sparse_hkl_64 (its HKL file in a folder
/// whose name has a space) and phi_osc_256 at 64 pixels with two
/// oscillations; every key of the port's schema. The thresholds are tight
/// (c-parity against c-parity is bit for bit), so spec mode fails phi_osc.
constexpr const char* kSuiteYaml = R"(cases:
  - id: simple_cubic
    description: simple_cubic_256 at 64 and 96 pixels (C ↔ nbsim)
    base_args: >-
      -cell 100 100 100 90 90 90
      -lambda 6.2
      -N 5
      -default_F 100
      -distance 100
      -pixel 0.1
      -nonoise
      -nopgm
    thresholds:
      corr_min: 0.9999999
      sum_ratio_min: 0.999999
      sum_ratio_max: 1.000001
      max_abs_max: 1e-3  # image units
    runs:
      - name: detpixels-64
        extra_args: >-
          -detpixels 64
      - name: detpixels-96
        extra_args: >-
          -detpixels 96
          -Xbeam 4.8
          -Ybeam 4.8
  - id: sparse_hkl
    description: sparse_hkl_64
    base_args: >-
      -hkl 'golden inputs/sparse.hkl'
      -default_F 10
      -cell 100 100 100 90 90 90
      -lambda 6.2 -N 5 -distance 100 -detpixels 64 -pixel 0.1
      -nonoise -nopgm
    thresholds:
      corr_min: 0.9999999
      sum_ratio_min: 0.999999
      sum_ratio_max: 1.000001
      max_abs_max: 1e-3
    runs:
      - name: as-golden
        extra_args: >-

  - id: phi_osc
    description: phi_osc_256 at 64 pixels, 9 phi steps
    base_args: >-
      -cell 100 100 100 90 90 90 -lambda 6.2 -N 5 -default_F 100 -distance 100
      -detpixels 64 -pixel 0.1 -phi 0 -phisteps 9 -nonoise -nopgm
    thresholds:
      corr_min: 0.9999999
      sum_ratio_min: 0.999999
      sum_ratio_max: 1.000001
      max_abs_max: 1e-3
    runs:
      - name: osc-90
        extra_args: -osc 90
      - name: osc-45
        extra_args: -osc 45
)";

const std::vector<std::string> kRuns{"simple_cubic/detpixels-64", "simple_cubic/detpixels-96", "sparse_hkl/as-golden",
                                     "phi_osc/osc-90", "phi_osc/osc-45"};

/// A folder holding the suite (YAML and the same as JSON) and the HKL file it names.
struct SuiteDir {
  nbtest::TempDir dir;
  SuiteDir() {
    fs::create_directories(dir / "golden inputs");
    fs::copy_file(nbtest::shared_dir() / "golden/sparse_hkl_64/sparse.hkl", dir / "golden inputs/sparse.hkl");
    nbtest::write_file(dir / "suite.yaml", kSuiteYaml);
  }
  fs::path operator/(const std::string& name) const { return dir / name; }
};

/// nbparity with NB_C_BIN and NB_PY_BIN as given (unset when empty), in `cwd`.
nbtest::ProcessResult nbparity_env(const std::string& c_bin, const std::string& py_bin, std::vector<std::string> args,
                                   const fs::path& cwd) {
  std::vector<std::string> argv{"/usr/bin/env", "-u", "NB_C_BIN", "-u", "NB_PY_BIN"};
  if (!c_bin.empty()) argv.push_back("NB_C_BIN=" + c_bin);
  if (!py_bin.empty()) argv.push_back("NB_PY_BIN=" + py_bin);
  argv.push_back((nbtest::bin_dir() / "nbparity").string());
  argv.insert(argv.end(), args.begin(), args.end());
  return nbtest::run_process(argv, cwd);
}

std::string label(const json& c) { return c["id"].get<std::string>() + "/" + c["run"].get<std::string>(); }

}  // namespace

TEST_CASE("port suite (YAML): nbsim c-parity against itself passes every run; metrics files with the port's keys") {
  if (!nbtest::require_shared("the golden cases' inputs")) return;
  SuiteDir d;
  const auto r = nbparity_env("", "", {"matrix", "suite.yaml", "--ref-bin", nbsim_cparity(), "--test-bin",
                                       "nbsim -mode c-parity", "--out", "out", "--json", "m.json"},
                              d.dir.path());
  CHECK_MESSAGE(r.exit_code == 0, r.out << r.err);
  // One progress line per run: case/run, verdict, seconds.
  for (const std::string& run : kRuns) CHECK(r.err.find("[PASS] " + run + " (") != std::string::npos);
  CHECK(r.out.find("5 passed, 0 failed") != std::string::npos);
  CHECK(r.err.find("nbparity matrix: done") == std::string::npos);  // no meter on a pipe unless asked

  const json m = json::parse(nbtest::read_file(d / "m.json"));
  CHECK(m["schema"] == "port");
  CHECK(m["ref"] == nbsim_cparity());
  CHECK(m["test"] == nbsim() + " -mode c-parity");  // "nbsim" is the one beside nbparity
  CHECK(m["exit_code"] == 0);
  REQUIRE(m["cases"].size() == kRuns.size());
  CHECK(json::parse(nbtest::read_file(d / "out/matrix.json")) == m);
  CHECK(fs::exists(d / "out/matrix.md"));

  const std::set<std::string> port_keys{"correlation", "mse",      "rmse",     "max_abs_diff", "c_sum",
                                        "py_sum",      "sum_ratio", "case_id", "run_name",     "args",
                                        "c_binary",    "pytorch_cli", "timestamp"};
  for (std::size_t i = 0; i < kRuns.size(); ++i) {
    const json& c = m["cases"][i];
    CAPTURE(kRuns[i]);
    CHECK(label(c) == kRuns[i]);
    CHECK(c["verdict"] == "PASS");
    CHECK(c["exit_code"] == 0);
    CHECK(c["failed_checks"].empty());
    const std::string metrics_file = kRuns[i] + "_metrics.json";
    CHECK(c["files"] == json{metrics_file, kRuns[i] + "_diff.png"});  // relative to --out
    const json f = json::parse(nbtest::read_file(d / ("out/" + metrics_file)));
    std::set<std::string> keys;
    for (const auto& [k, v] : f.items()) keys.insert(k);
    CHECK(keys == port_keys);
    CHECK(f == c["metrics"]);
    // Identical programs: the port's metrics of identical images.
    CHECK(f["correlation"] == 1.0);
    CHECK(f["mse"] == 0.0);
    CHECK(f["rmse"] == 0.0);
    CHECK(f["max_abs_diff"] == 0.0);
    CHECK(f["sum_ratio"] == 1.0);
    CHECK(f["c_sum"].get<double>() > 0);
    CHECK(f["py_sum"] == f["c_sum"]);
    CHECK(f["case_id"] == c["id"]);
    CHECK(f["run_name"] == c["run"]);
    CHECK(f["c_binary"] == nbsim_cparity());
    CHECK(f["pytorch_cli"] == nbsim() + " -mode c-parity");
    CHECK(f["timestamp"].get<std::string>().size() == 20);  // 2026-01-01T00:00:00Z
    const std::string png = nbtest::read_file(d / ("out/" + kRuns[i] + "_diff.png"));
    CHECK(png.substr(1, 3) == "PNG");
  }
  // base_args then extra_args, requoted for sh.
  CHECK(m["cases"][0]["metrics"]["args"] == kSimpleCubicArgs + " -detpixels 64");
  CHECK(m["cases"][2]["metrics"]["args"].get<std::string>().rfind("-hkl 'golden inputs/sparse.hkl' -default_F 10", 0) == 0);
  // Different sizes, different sums; the HKL file was read (default_F 10 alone gives another image).
  CHECK(m["cases"][1]["metrics"]["c_sum"] != m["cases"][0]["metrics"]["c_sum"]);
  // --case picks runs: a case id, or ID/RUN.
  const auto one = nbparity_env("", "", {"matrix", "suite.yaml", "--ref-bin", nbsim_cparity(), "--test-bin", nbsim_cparity(), "--case", "phi_osc/osc-45",
                                         "--case", "sparse_hkl", "--json", "one.json"},
                                d.dir.path());
  CHECK(one.exit_code == 0);
  const json o = json::parse(nbtest::read_file(d / "one.json"));
  REQUIRE(o["cases"].size() == 2);
  CHECK(label(o["cases"][0]) == "sparse_hkl/as-golden");
  CHECK(label(o["cases"][1]) == "phi_osc/osc-45");
}

TEST_CASE("port suite (JSON): NB_C_BIN and NB_PY_BIN name the programs; spec mode diverges on the phi carry-over (exit 3)") {
  if (!nbtest::require_shared("the golden cases' inputs")) return;
  SuiteDir d;
  // The same suite as JSON.
  const auto yaml_as_json = nbparity_env(nbsim_cparity(), nbsim_cparity(), {"matrix", "suite.yaml", "--json", "y.json", "--progress"}, d.dir.path());
  REQUIRE(yaml_as_json.exit_code == 0);
  // --progress on a pipe: the per-check lines and the meter's closing line.
  CHECK(yaml_as_json.err.find("[PASS] ") != std::string::npos);
  CHECK(yaml_as_json.err.find("nbparity matrix: done 5/5 checks in ") != std::string::npos);
  json suite = {{"cases", json::array()}};
  const json y = json::parse(nbtest::read_file(d / "y.json"));
  for (const std::string id : {"simple_cubic", "sparse_hkl", "phi_osc"}) {
    json c = {{"id", id}, {"description", "from the YAML"}, {"base_args", ""}, {"runs", json::array()}};
    c["thresholds"] = {{"corr_min", 0.9999999}, {"sum_ratio_min", 0.999999}, {"sum_ratio_max", 1.000001}, {"max_abs_max", 1e-3}};
    for (const auto& run : y["cases"]) {
      if (run["id"] == id) c["runs"].push_back({{"name", run["run"]}, {"extra_args", run["metrics"]["args"]}});
    }
    suite["cases"].push_back(c);
  }
  nbtest::write_file(d / "suite.json", suite.dump(2));

  // NB_PY_BIN: a command line; spec mode differs from c-parity only where phi steps carry over.
  const std::string spec = nbtrace::shell_quote(nbsim()) + " -mode spec";
  const auto r = nbparity_env(nbsim_cparity(), spec, {"matrix", "suite.json", "--out", "out", "--quiet"}, d.dir.path());
  CHECK_MESSAGE(r.exit_code == 3, r.out << r.err);
  // --quiet: a line for each failing check only.
  CHECK(r.err.find("[PASS] ") == std::string::npos);
  CHECK(r.err.find("[") != std::string::npos);
  const json m = json::parse(nbtest::read_file(d / "out/matrix.json"));
  CHECK(m["ref"] == nbsim_cparity());
  CHECK(m["test"] == spec);
  REQUIRE(m["cases"].size() == kRuns.size());
  for (std::size_t i = 0; i < kRuns.size(); ++i) {
    const json& c = m["cases"][i];
    CAPTURE(kRuns[i]);
    CHECK(label(c) == kRuns[i]);
    CHECK(c["metrics"]["c_binary"] == nbsim_cparity());
    CHECK(c["metrics"]["pytorch_cli"] == spec);
    CHECK(c["metrics"] == json::parse(nbtest::read_file(d / ("out/" + kRuns[i] + "_metrics.json"))));
    if (c["id"] == "phi_osc") {
      CHECK(c["verdict"] == "DIVERGENT");
      CHECK(c["exit_code"] == 3);
      CHECK(c["failed_checks"] == json{"correlation", "sum_ratio", "max_abs_diff"});
      CHECK(c["metrics"]["correlation"].get<double>() < 0.9999999);
      CHECK(c["metrics"]["correlation"].get<double>() > 0.999);
      CHECK(c["metrics"]["max_abs_diff"].get<double>() > 1e-3);
      CHECK(r.err.find("[DIVERGENT] " + kRuns[i] + " (") != std::string::npos);
    } else {
      CHECK(c["verdict"] == "PASS");  // one phi step: nothing to carry over
      CHECK(c["metrics"]["correlation"] == 1.0);
    }
  }
  // --ref-bin and --test-bin win over the environment.
  const auto o = nbparity_env("/bin/false", "/bin/false",
                              {"matrix", "suite.json", "--ref-bin", nbsim_cparity(), "--test-bin", "nbsim -mode c-parity",
                               "--case", "phi_osc", "--json", "o.json"},
                              d.dir.path());
  CHECK_MESSAGE(o.exit_code == 0, o.err);
}

TEST_CASE("port suite: impossible thresholds are a divergence (exit 3); no reference, unknown keys, failing programs") {
  if (!nbtest::require_shared("the golden cases' inputs")) return;
  SuiteDir d;
  // A run's thresholds replace its case's: one run cannot pass.
  nbtest::write_file(d / "strict.yaml", "cases:\n  - id: simple_cubic\n    base_args: " + kSimpleCubicArgs +
                                            " -detpixels 64\n    thresholds:\n      corr_min: 0.9999\n"
                                            "    runs:\n      - name: possible\n      - name: impossible\n"
                                            "        thresholds:\n          corr_min: 1.5\n          sum_ratio_min: 2\n"
                                            "          max_abs_max: -1\n");
  auto r = nbparity_env(nbsim_cparity(), "", {"matrix", "strict.yaml", "--json", "s.json"}, d.dir.path());
  CHECK_MESSAGE(r.exit_code == 3, r.err);
  json m = json::parse(nbtest::read_file(d / "s.json"));
  CHECK(m["cases"][0]["verdict"] == "PASS");
  CHECK(m["cases"][1]["verdict"] == "DIVERGENT");
  CHECK(m["cases"][1]["failed_checks"] == json{"correlation", "sum_ratio", "max_abs_diff"});
  CHECK(m["cases"][1]["metrics"]["correlation"] == 1.0);
  CHECK(r.err.find("[DIVERGENT] simple_cubic/impossible (") != std::string::npos);

  // Images compared against no threshold prove nothing: NOT_COMPARED, and
  // exit 4 outranks the divergence of another run.
  nbtest::write_file(d / "bare.yaml", "cases:\n  - id: simple_cubic\n    base_args: " + kSimpleCubicArgs +
                                          " -detpixels 64\n    runs:\n      - name: bare\n      - name: impossible\n"
                                          "        thresholds: {corr_min: 1.5}\n");
  r = nbparity_env(nbsim_cparity(), "", {"matrix", "bare.yaml", "--json", "b.json"}, d.dir.path());
  CHECK(r.exit_code == 4);
  m = json::parse(nbtest::read_file(d / "b.json"));
  CHECK(m["cases"][0]["verdict"] == "NOT_COMPARED");
  CHECK(m["cases"][0]["failed_checks"] == json{"no_thresholds"});
  CHECK(m["cases"][1]["verdict"] == "DIVERGENT");

  // A program under test that fails: RUNNER_FAILED, exit 2.
  r = nbparity_env(nbsim_cparity(), "/bin/false", {"matrix", "strict.yaml", "--json", "f.json"}, d.dir.path());
  CHECK(r.exit_code == 2);
  m = json::parse(nbtest::read_file(d / "f.json"));
  CHECK(m["cases"][0]["verdict"] == "RUNNER_FAILED");
  CHECK(m["cases"][0]["exit_code"] == 2);
  CHECK(m["cases"][0]["metrics"].is_null());
  CHECK(m["cases"][0]["error"].get<std::string>().rfind("test false exited 1", 0) == 0);

  // No reference: a usage error naming both ways to give one.
  r = nbparity_env("", "", {"matrix", "suite.yaml"}, d.dir.path());
  CHECK(r.exit_code == 1);
  CHECK(r.err == "nbparity: error: suite.yaml runs a reference program on every case (the port's schema): give "
                 "--ref-bin CMD or set NB_C_BIN\n");
  r = nbparity_env("", "", {"matrix", "suite.yaml", "--ref-bin", "./no/such/nanoBragg"}, d.dir.path());
  CHECK(r.exit_code == 1);
  CHECK(r.err == "nbparity: error: --ref-bin: ./no/such/nanoBragg: no such program\n");

  // An unknown key: input error (exit 5) naming the key, the file and where; nothing run.
  std::string bad = kSuiteYaml;
  bad.replace(bad.find("extra_args: -osc 45"), 10, "extra_arg");
  nbtest::write_file(d / "bad.yaml", bad);
  r = nbparity_env(nbsim_cparity(), "", {"matrix", "bad.yaml", "--out", "bad-out"}, d.dir.path());
  CHECK(r.exit_code == 5);
  CHECK(r.err == "nbparity: error: bad.yaml: case phi_osc, run osc-45: unknown key 'extra_arg' (known: name, extra_args, "
                 "thresholds)\n");
  CHECK_FALSE(fs::exists(d / "bad-out"));
}
