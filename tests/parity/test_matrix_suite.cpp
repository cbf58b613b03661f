// Suite files of nbparity matrix in the PyTorch port's schema (its
// tests/parity_cases.yaml): what the loader makes of every key, the errors
// it gives, the port's metrics as JSON and the matrix's exit code.
#include <cmath>
#include <cstdlib>
#include <limits>
#include <nlohmann/json.hpp>

#include "nbtrace/base/error.hpp"
#include "nbtrace/parity/matrix.hpp"
#include "test_support.hpp"

namespace fs = std::filesystem;
using namespace nbtrace;
using nlohmann::json;

namespace {

/// The port's layout: folded (>-) argument strings, a run with nothing after
/// its extra_args, a comment after a number, a run with thresholds of its own.
constexpr const char* kPortSuite = R"(cases:
  - id: cubic-beam-centre
    description: the beam centre moves with the detector size (simple cubic cell)
    base_args: >-
      -default_F 100
      -cell 100 100 100 90 90 90
      -lambda 6.2
    thresholds:
      corr_min: 0.9999  # the port's usual bound
      sum_ratio_min: 0.9
      sum_ratio_max: 1.1
      max_abs_max: 500
    runs:
      - name: detpixels-64
        extra_args: >-
          -detpixels 64
          -Xbeam 3.2
      - name: comprehensive
        extra_args: >-

      - name: own-thresholds
        extra_args: "-hkl 'my inputs/x.hkl'"
        thresholds:
          corr_min: 0.5
  - id: AT-PARALLEL-002
    base_args: -N 5
    runs:
      - name: sum-low-only
        thresholds:
          sum_ratio_min: 0.98
)";

std::string load_error(const fs::path& file) {
  try {
    load_matrix_suite(file.string());
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST_CASE("the port's suite: each case x run is one check with base_args + extra_args and mapped thresholds") {
  nbtest::TempDir dir;
  nbtest::write_file(dir / "parity_cases.yaml", kPortSuite);
  const MatrixSuite s = load_matrix_suite((dir / "parity_cases.yaml").string());
  CHECK(s.schema == SuiteSchema::port);
  REQUIRE(s.cases.size() == 4);
  const MatrixCase& a = s.cases[0];
  CHECK(a.label() == "cubic-beam-centre/detpixels-64");
  CHECK(a.description == "the beam centre moves with the detector size (simple cubic cell)");
  CHECK(a.args == std::vector<std::string>{"-default_F", "100", "-cell", "100", "100", "100", "90", "90", "90", "-lambda",
                                           "6.2", "-detpixels", "64", "-Xbeam", "3.2"});
  CHECK(a.thresholds.image.correlation_min == 0.9999);
  REQUIRE(a.thresholds.image.sum_ratio);
  CHECK(a.thresholds.image.sum_ratio->first == 0.9);
  CHECK(a.thresholds.image.sum_ratio->second == 1.1);
  CHECK(a.thresholds.image.max_abs_diff == 500);
  CHECK_FALSE(a.thresholds.image.max_abs_diff_rel);
  // An empty extra_args adds nothing.
  CHECK(s.cases[1].run == "comprehensive");
  CHECK(s.cases[1].args.size() == 11);
  // Quotes are taken as sh takes them; a run's thresholds replace its case's.
  CHECK(s.cases[2].args.back() == "my inputs/x.hkl");
  CHECK(s.cases[2].thresholds.image.correlation_min == 0.5);
  CHECK_FALSE(s.cases[2].thresholds.image.max_abs_diff);
  CHECK_FALSE(s.cases[2].thresholds.image.sum_ratio);
  // A bound given alone is checked alone; no extra_args at all is no arguments.
  const MatrixCase& d = s.cases[3];
  CHECK(d.args == std::vector<std::string>{"-N", "5"});
  REQUIRE(d.thresholds.image.sum_ratio);
  CHECK(d.thresholds.image.sum_ratio->first == 0.98);
  CHECK(d.thresholds.image.sum_ratio->second == std::numeric_limits<double>::infinity());
  CHECK(d.description.empty());

  // The same suite as JSON reads the same.
  json j = {{"cases",
             {{{"id", "cubic-beam-centre"},
               {"description", "d"},
               {"base_args", "-default_F 100 -cell 100 100 100 90 90 90 -lambda 6.2"},
               {"thresholds", {{"corr_min", 0.9999}, {"sum_ratio_min", 0.9}, {"sum_ratio_max", 1.1}, {"max_abs_max", 500}}},
               {"runs", {{{"name", "detpixels-64"}, {"extra_args", "-detpixels 64 -Xbeam 3.2"}}}}}}}};
  nbtest::write_file(dir / "parity_cases.json", j.dump());
  const MatrixSuite sj = load_matrix_suite((dir / "parity_cases.json").string());
  CHECK(sj.schema == SuiteSchema::port);
  REQUIRE(sj.cases.size() == 1);
  CHECK(sj.cases[0].args == a.args);
  CHECK(sj.cases[0].thresholds.image.correlation_min == 0.9999);
  CHECK(sj.cases[0].thresholds.image.max_abs_diff == 500);
}

TEST_CASE("the port's suite: unknown keys and malformed values are errors naming the key, the file and where") {
  nbtest::TempDir dir;
  const auto error_of = [&](const std::string& name, const std::string& text) {
    nbtest::write_file(dir / name, text);
    return load_error(dir / name);
  };
  const std::string file = (dir / "a.yaml").string();
  std::string e = error_of("a.yaml", "cases:\n  - id: X\n    base_args: -N 1\n    runs:\n      - name: r1\n        extra_arg: -N 2\n");
  CHECK(e == file + ": case X, run r1: unknown key 'extra_arg' (known: name, extra_args, thresholds)");
  e = error_of("a.yaml", "cases:\n  - id: X\n    base_arg: -N 1\n    runs:\n      - name: r1\n");
  CHECK(e == file + ": case X: unknown key 'base_arg' (known: id, description, base_args, thresholds, runs)");
  e = error_of("a.yaml", "cases:\n  - id: X\n    thresholds:\n      corr_max: 1\n    runs:\n      - name: r1\n");
  CHECK(e == file + ": case X: thresholds: unknown key 'corr_max' (known: corr_min, sum_ratio_min, sum_ratio_max, max_abs_max)");
  e = error_of("a.yaml", "version: 2\ncases:\n  - id: X\n    runs:\n      - name: r1\n");
  CHECK(e == file + ": top level: unknown key 'version' (known: cases)");
  e = error_of("a.yaml", "cases:\n  - id: X\n    runs:\n      - name: r1\n        thresholds:\n          corr_min: high\n");
  CHECK(e == file + ": case X, run r1: thresholds: corr_min must be a number");
  e = error_of("a.yaml", "cases:\n  - id: X\n    base_args: -cell 'abc\n    runs:\n      - name: r1\n");
  CHECK(e == file + ": case X: base_args: a single quote is not closed");
  e = error_of("a.yaml", "cases:\n  - id: X\n    base_args: -N 1\n    runs: []\n");
  CHECK(e == file + ": case X: needs a list of runs");
  e = error_of("a.yaml", "cases:\n  - id: ../X\n    runs:\n      - name: r1\n");
  CHECK(e.find("id '../X' must be letters, digits") != std::string::npos);
  e = error_of("a.yaml", "cases:\n  - id: X\n    runs:\n      - name: r1\n      - name: r1\n");
  CHECK(e == file + ": case X, run r1: name appears twice");
  e = error_of("a.yaml", "cases:\n  - id: X\n    thresholds: {sum_ratio_min: 1.2, sum_ratio_max: 1.1}\n    runs:\n      - name: r1\n");
  CHECK(e == file + ": case X: thresholds: sum_ratio_min > sum_ratio_max");
  // The project's schema now names unknown top-level keys too.
  e = error_of("b.json", R"({"golden_root": ".", "cases": [{"id": "x"}], "default": {}})");
  CHECK(e == (dir / "b.json").string() + ": top level: unknown key 'default' (known: golden_root, defaults, cases)");
  // A port key in a file of the project's schema is the project's unknown key.
  e = error_of("c.json", R"({"defaults": {}, "cases": [{"id": "x", "runs": []}]})");
  CHECK(e == (dir / "c.json").string() + ": case x: unknown key 'runs'");
}

TEST_CASE("the port's schema needs a reference: --ref-bin, else NB_C_BIN; the programs are command lines") {
  MatrixOptions opt;
  opt.cases_file = "suite.yaml";
  // This test is not beside nbsim: find the build's nbsim on PATH.
  const std::string path = std::getenv("PATH") ? std::getenv("PATH") : "";
  ::setenv("PATH", (nbtest::bin_dir().string() + ":" + path).c_str(), 1);
  ::unsetenv("NB_C_BIN");
  ::unsetenv("NB_PY_BIN");
  CHECK_THROWS_AS(matrix_programs(opt, SuiteSchema::port), UsageError);
  // The project's schema without a reference is golden mode, whatever the environment says.
  // A bare name is looked up on PATH, as sh would (and checked before anything runs).
  ::setenv("NB_C_BIN", "sh", 1);
  CHECK(matrix_programs(opt, SuiteSchema::project).ref.empty());
  MatrixPrograms p = matrix_programs(opt, SuiteSchema::port);
  REQUIRE(p.ref.size() == 1);
  CHECK(std::filesystem::path(p.ref[0]).is_absolute());
  CHECK(std::filesystem::path(p.ref[0]).filename() == "sh");
  CHECK(p.test_is_nbsim);  // the default program under test
  ::setenv("NB_PY_BIN", "sh -c 'exit 0'", 1);
  p = matrix_programs(opt, SuiteSchema::port);
  REQUIRE(p.test.size() == 3);
  CHECK(p.test[1] == "-c");
  CHECK(p.test[2] == "exit 0");
  CHECK_FALSE(p.test_is_nbsim);
  // Options win over the environment.
  opt.ref_bin = "'/bin/true' -x 'a b'";
  opt.test_bin = "nbsim -mode spec";
  p = matrix_programs(opt, SuiteSchema::port);
  CHECK(p.ref == std::vector<std::string>{"/bin/true", "-x", "a b"});
  CHECK(p.test.size() == 3);
  CHECK(p.test[1] == "-mode");
  CHECK(p.test_is_nbsim);
  opt.ref_bin = "/no/such/nanoBragg";
  CHECK_THROWS_WITH_AS(matrix_programs(opt, SuiteSchema::port), "--ref-bin: /no/such/nanoBragg: no such program", UsageError);
  ::unsetenv("NB_C_BIN");
  ::unsetenv("NB_PY_BIN");
}

TEST_CASE("the port's metrics as JSON: its keys in its order, non-finite numbers as null") {
  SuiteRunMetrics m;
  m.correlation = 0.99999999999999989;
  m.mse = 1.0 / 3.0;
  m.rmse = std::sqrt(1.0 / 3.0);
  m.max_abs_diff = 2.5e-7;
  m.c_sum = 123456.78901234567;
  m.py_sum = std::nan("");
  m.case_id = "cubic-beam-centre";
  m.run_name = "detpixels-64";
  m.args = "-detpixels 64";
  m.c_binary = "nanoBragg";
  m.pytorch_cli = "python -m nanobrag_torch";
  m.timestamp = "2026-01-01T00:00:00Z";
  const nlohmann::ordered_json o = m;
  std::vector<std::string> keys;
  for (const auto& [k, v] : o.items()) keys.push_back(k);
  CHECK(keys == std::vector<std::string>{"correlation", "mse", "rmse", "max_abs_diff", "c_sum", "py_sum", "sum_ratio",
                                         "case_id", "run_name", "args", "c_binary", "pytorch_cli", "timestamp"});
  CHECK(o["py_sum"].is_null());
  CHECK(o["sum_ratio"].is_null());
  // Through text and back, every finite number to the last bit.
  const SuiteRunMetrics b = json::parse(o.dump()).get<SuiteRunMetrics>();
  CHECK(*b.correlation == *m.correlation);
  CHECK(b.mse == m.mse);
  CHECK(b.rmse == m.rmse);
  CHECK(b.c_sum == m.c_sum);
  CHECK(std::isnan(b.py_sum));
  CHECK_FALSE(b.sum_ratio);
  CHECK(b.pytorch_cli == m.pytorch_cli);
  CHECK(json(b) == json(m));
}

TEST_CASE("the matrix's exit code: the earliest stop any check made") {
  const auto result = [](bool pass, int code) {
    CaseResult r;
    r.pass = pass;
    r.exit_code = code;
    return r;
  };
  CHECK(matrix_exit_code({result(true, 0), result(true, 0)}) == exit_code::ok);
  CHECK(matrix_exit_code({result(true, 0), result(false, 3)}) == exit_code::divergence);
  CHECK(matrix_exit_code({result(false, 3), result(false, 4)}) == exit_code::check_failed);
  CHECK(matrix_exit_code({result(false, 4), result(false, 2), result(false, 3)}) == exit_code::program_failed);
  CHECK(matrix_exit_code({result(false, 2), result(false, 5)}) == exit_code::input);
  CHECK(matrix_exit_code({result(false, 5), result(false, 1)}) == exit_code::failure);
  CHECK(matrix_exit_code({}) == exit_code::ok);
}
