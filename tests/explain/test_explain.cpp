// nbparity explain (docs/explain.md): the seed bundle's gap is C-PARITY-001
// alone; demo_scaling's port has a geometry bug no quirk explains; a
// synthetic port (nbsim with two quirks switched on) is found exactly.
#include <doctest/doctest.h>

#include <sstream>

#include <nlohmann/json.hpp>

#include "nbtrace/explain/explain.hpp"
#include "test_support.hpp"

namespace fs = std::filesystem;

namespace {

std::vector<std::string> case_args(const fs::path& case_json) {
  return nlohmann::json::parse(nbtest::read_file(case_json)).at("args").get<std::vector<std::string>>();
}

std::vector<std::string> explain_args(std::vector<std::string> options, const std::vector<std::string>& args) {
  std::vector<std::string> a{"explain"};
  a.insert(a.end(), options.begin(), options.end());
  a.push_back("--");
  a.insert(a.end(), args.begin(), args.end());
  return a;
}

nlohmann::json read_json(const fs::path& p) { return nlohmann::json::parse(nbtest::read_file(p)); }

/// The small interpolating case of docs/c-parity.md: interpolation stops
/// at pixel (46, 61), so C-PARITY-007 changes that pixel; 3 phi steps from
/// phi 0, so C-PARITY-001 changes every pixel but the first.
const std::vector<std::string> kInterpolating{"-mat", "demo.mat", "-hkl", "demo.hkl", "-N", "2", "-Xbeam", "2", "-Ybeam",
                                              "2", "-detpixels", "64", "-pixel", "0.5", "-oversample", "2", "-phi", "0",
                                              "-osc", "1", "-phisteps", "3"};

void stage_demo_inputs(const fs::path& dir) {
  for (const char* f : {"demo.mat", "demo.hkl"})
    fs::copy_file(nbtest::source_dir() / "examples" / "demo_scaling" / f, dir / f);
}

void nbsim(const fs::path& dir, std::vector<std::string> switches, const std::string& stem) {
  std::vector<std::string> a = switches;
  a.insert(a.end(), kInterpolating.begin(), kInterpolating.end());
  a.insert(a.end(), {"-trace_pixel", "46", "61", "-trace_file", stem + ".log", "-floatfile", stem + ".bin", "-quiet"});
  const auto r = nbtest::run_tool("nbsim", a, dir);
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
}

/// The synthetic port's answer, whichever way C's side was given: the port
/// is spec + C-PARITY-001 + C-PARITY-007, C is spec, and that pair explains
/// the whole gap (the same program: the modelled gap is the real one).
void check_synthetic_pair(const nlohmann::json& j) {
  const nlohmann::json both{"C-PARITY-001", "C-PARITY-007"};
  CHECK(j["port_set"] == both);
  CHECK(j["c_set"] == nlohmann::json::array());
  const nlohmann::json& best = j["explanations"][0];
  CHECK(best["quirks"] == both);
  CHECK(best["share"].get<double>() == 1.0);
  CHECK(best["share_image"].get<double>() == 1.0);
}

}  // namespace

TEST_CASE("seed bundle: C-PARITY-001 alone explains at least 98% of the I_before_scaling gap") {
  if (!nbtest::require_shared("seed-bundle and golden/supervisor_scaling")) return;
  nbtest::TempDir work;
  const fs::path golden = nbtest::shared_dir() / "golden" / "supervisor_scaling";
  const fs::path seed = nbtest::shared_dir() / "seed-bundle" / "20251008T212459Z" / "spec_baseline";
  for (const char* f : {"A.mat", "scaled.hkl"}) fs::copy_file(golden / f, work / f);
  // The seed's PyTorch trace is the port, its C trace nanoBragg.c.
  const auto r = nbtest::run_tool(
      "nbparity",
      explain_args({"--port-trace", (seed / "trace_py_scaling.log").string(), "--c-trace",
                    (seed / "c_trace_scaling.log").string(), "--json", "explain.json", "--md", "explain.md"},
                   case_args(golden / "case.json")),
      work.path());
  INFO(r.out << r.err);
  REQUIRE(r.exit_code == 0);
  const nlohmann::json j = read_json(work / "explain.json");
  CHECK(j["verdict"] == "explained");
  const nlohmann::json& best = j["explanations"][0];
  CHECK(best["quirks"] == nlohmann::json{"C-PARITY-001"});
  CHECK(best["port_quirks"] == nlohmann::json::array());  // the port follows the spec
  CHECK(best["c_quirks"] == nlohmann::json{"C-PARITY-001"});
  CHECK(best["share"].get<double>() >= 0.98);
  CHECK(best["share_I_before_scaling"].get<double>() < 1.0);  // PyTorch and spec nbsim differ by 0.2% at this pixel
  CHECK(j["c_set"] == nlohmann::json{"C-PARITY-001"});
  CHECK(j["port_set"] == nlohmann::json::array());
  CHECK(j["pixels"][0]["slow"] == 685);
  CHECK(j["pixels"][0]["fast"] == 1039);
  CHECK(r.out.find("C-PARITY-001 explains") != std::string::npos);
  CHECK(nbtest::read_file(work / "explain.md").find("| C-PARITY-001 |") != std::string::npos);
  // The JSON reads back into the result type and writes the same text.
  const auto back = j.get<nbtrace::explain::ExplainResult>();
  CHECK(nlohmann::json(back).dump() == j.dump());
}

TEST_CASE("demo_scaling: no quirk set explains the port's gap; the first divergence is pix0_vector_meters") {
  nbtest::TempDir work;
  const fs::path demo = nbtest::source_dir() / "examples" / "demo_scaling";
  const auto r = nbtest::run_tool(
      "nbparity",
      explain_args({"--cwd", demo.string(), "--port-trace", (demo / "py_trace_s27_f488.log").string(), "--c-trace",
                    (demo / "c_trace_s27_f488.log").string(), "--bundle", "bundle"},
                   case_args(demo / "case.json")),
      work.path());
  INFO(r.out << r.err);
  REQUIRE(r.exit_code == 3);
  const nlohmann::json j = read_json(work / "bundle" / "explain.json");
  CHECK(j["verdict"] == "unexplained");
  CHECK(j["explanations"][0]["share"].get<double>() < j["threshold"].get<double>());
  CHECK(j["first_divergence"]["field"] == "pix0_vector_meters");
  CHECK(j["first_divergence"]["status"] == "CRITICAL");
  CHECK(r.out.find("no quirk set explains the gap") != std::string::npos);
  CHECK(r.out.find("pix0_vector_meters") != std::string::npos);
  // The bundle is sealed and verifies.
  CHECK(fs::exists(work / "bundle" / "sha256.txt"));
  CHECK(nbtest::read_file(work / "bundle" / "sha256.txt").find("explain.md") != std::string::npos);
  // Its page: sealed with it, self-contained, the first divergence marked.
  const std::string page = nbtest::read_file(work / "bundle" / "report.html");
  CHECK(nbtest::read_file(work / "bundle" / "sha256.txt").find("  report.html\n") != std::string::npos);
  CHECK(page.find("Content-Security-Policy") != std::string::npos);
  CHECK(page.find("<tr class=\"first\" id=\"first-divergence-0\"><td><code>pix0_vector_meters</code>") !=
        std::string::npos);
  CHECK(page.find("<svg width=") != std::string::npos);  // the bar chart of shares
  const auto verify = nbtest::run_tool("nbbundle", {"verify", "bundle"}, work.path());
  INFO(verify.out << verify.err);
  CHECK(verify.exit_code == 0);
  CHECK(read_json(work / "bundle" / "env.json")["tool"] == "nbparity");
}

TEST_CASE("a synthetic port (spec + C-PARITY-001 + C-PARITY-007) is explained by exactly those two") {
  nbtest::TempDir work;
  stage_demo_inputs(work.path());
  nbsim(work.path(), {"-mode", "spec", "-quirk", "C-PARITY-001", "-quirk", "C-PARITY-007"}, "port");
  // The reference side here follows the specification, so the whole gap is
  // the port's two quirks.
  nbsim(work.path(), {"-mode", "spec"}, "ref");
  const auto r = nbtest::run_tool("nbparity",
                                  explain_args({"--port-trace", "port.log", "--port-image", "port.bin", "--c-trace",
                                                "ref.log", "--c-image", "ref.bin", "--json", "explain.json"},
                                               kInterpolating),
                                  work.path());
  INFO(r.out << r.err);
  REQUIRE(r.exit_code == 0);
  const nlohmann::json j = read_json(work / "explain.json");
  check_synthetic_pair(j);
  // One of the two alone does not explain it all.
  for (std::size_t i = 1; i < j["explanations"].size(); ++i) CHECK(j["explanations"][i]["share"].get<double>() < 1.0);
}

TEST_CASE("--ref-bin runs the reference itself, per traced pixel, and reaches the stored outputs' answer") {
  nbtest::TempDir work;
  stage_demo_inputs(work.path());
  nbsim(work.path(), {"-mode", "spec", "-quirk", "C-PARITY-001", "-quirk", "C-PARITY-007"}, "port");
  // The reference as a program: nbsim in spec mode (any nanoBragg-compatible
  // command line; "nbsim" is the one beside nbparity), run by explain with
  // -trace_pixel for the port's traced pixel, its trace read from stdout.
  const auto r = nbtest::run_tool("nbparity",
                                  explain_args({"--port-trace", "port.log", "--port-image", "port.bin", "--ref-bin",
                                                "nbsim -mode spec", "--json", "explain.json"},
                                               kInterpolating),
                                  work.path());
  INFO(r.out << r.err);
  REQUIRE(r.exit_code == 0);
  check_synthetic_pair(read_json(work / "explain.json"));
  // A reference that fails is named with its exit code: exit 2.
  const auto failing = nbtest::run_tool(
      "nbparity",
      explain_args({"--port-trace", "port.log", "--ref-bin", "nbsim -bogus_flag", "--json", "failed.json"}, kInterpolating),
      work.path());
  CHECK(failing.exit_code == 2);
  CHECK(failing.err.find("nbsim -bogus_flag exited 1") != std::string::npos);
  CHECK(!fs::exists(work / "failed.json"));
}

TEST_CASE("bad input: exit 5 for a missing trace, 1 for a usage slip, 2 when nbsim fails") {
  nbtest::TempDir work;
  stage_demo_inputs(work.path());
  nbsim(work.path(), {"-mode", "spec"}, "ref");
  auto run = [&](std::vector<std::string> options, std::vector<std::string> args) {
    return nbtest::run_tool("nbparity", explain_args(std::move(options), args), work.path());
  };
  auto missing = run({"--port-trace", "no_such.log", "--c-trace", "ref.log"}, kInterpolating);
  CHECK(missing.exit_code == 5);
  CHECK(missing.err.find("no_such.log") != std::string::npos);
  auto no_c = run({"--port-trace", "ref.log"}, kInterpolating);
  CHECK(no_c.exit_code == 1);
  CHECK(no_c.err.find("--ref-bin") != std::string::npos);
  auto no_args = run({"--port-trace", "ref.log", "--c-trace", "ref.log"}, {});
  CHECK(no_args.exit_code == 1);
  std::vector<std::string> broken = kInterpolating;
  broken.insert(broken.end(), {"-pixel", "0"});
  auto failed = run({"--port-trace", "ref.log", "--c-trace", "ref.log"}, broken);
  CHECK(failed.exit_code == 2);
  CHECK(failed.err.find("nbsim exited 1") != std::string::npos);
}

TEST_CASE("C's image from nanoBragg.c at 3 threads: the thread count is found and C-PARITY-001 explains it all") {
  nbtest::TempDir work;
  const fs::path data = nbtest::source_dir() / "tests/golden/c_threads/phi_osc_256";
  std::vector<std::string> args;
  {
    std::istringstream in(nbtest::read_file(data / "args.txt"));
    for (std::string w; in >> w;) args.push_back(w);
  }
  // The port: nbsim spec (no quirk). C: nanoBragg.c run with OMP_NUM_THREADS=3.
  std::vector<std::string> port_run{"-mode", "spec"};
  port_run.insert(port_run.end(), args.begin(), args.end());
  port_run.insert(port_run.end(), {"-floatfile", "port.bin", "-quiet"});
  REQUIRE(nbtest::run_tool("nbsim", port_run, work.path()).exit_code == 0);
  const auto explain = [&](const fs::path& c_image, const std::string& json) {
    return nbtest::run_tool("nbparity",
                            explain_args({"--port-image", "port.bin", "--c-image", c_image.string(), "--json", json}, args),
                            work.path());
  };
  auto r = explain(data / "c_T3.bin", "t3.json");
  INFO(r.out << r.err);
  REQUIRE(r.exit_code == 0);
  nlohmann::json j = read_json(work / "t3.json");
  CHECK(j["c_threads"] == 3);
  CHECK(j["c_set"] == nlohmann::json::array({"C-PARITY-001"}));
  CHECK(j["explanations"][0]["quirks"] == nlohmann::json::array({"C-PARITY-001"}));
  CHECK(j["explanations"][0]["share"].get<double>() == doctest::Approx(1.0).epsilon(1e-12));
  CHECK(r.out.find("with -c_threads 3") != std::string::npos);
  // nanoBragg.c at 2 threads: 2.
  r = explain(data / "c_T2.bin", "t2.json");
  REQUIRE(r.exit_code == 0);
  CHECK(read_json(work / "t2.json")["c_threads"] == 2);
}
