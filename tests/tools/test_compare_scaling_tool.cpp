// compare_scaling_traces as users run it: outputs, exit codes, errors.
#include <nlohmann/json.hpp>

#include "test_support.hpp"

namespace fs = std::filesystem;

namespace {
fs::path seed() { return nbtest::shared_dir() / "seed-bundle/20251008T212459Z/spec_baseline"; }
fs::path example(const std::string& f) { return nbtest::source_dir() / "examples/demo_scaling" / f; }
}  // namespace

TEST_CASE("seed bundle: the three outputs, the peer's metrics.json, relative metadata") {
  if (!nbtest::require_shared("seed bundle")) return;
  nbtest::TempDir dir;
  const auto r = nbtest::run_tool("compare_scaling_traces",
                                  {"--c", (seed() / "c_trace_scaling.log").string(), "--py",
                                   (seed() / "trace_py_scaling.log").string(), "--out", (dir / "out/summary.md").string()});
  CHECK(r.exit_code == 0);
  CHECK(r.out.find("First divergence: I_before_scaling") != std::string::npos);
  CHECK(nbtest::read_file(dir / "out/metrics.json") == nbtest::read_file(seed() / "metrics.json"));
  const auto meta = nlohmann::json::parse(nbtest::read_file(dir / "out/run_metadata.json"));
  for (const char* key : {"c_trace", "py_trace"}) {
    const std::string p = meta[key];
    CHECK(p.front() != '/');
    CHECK(fs::exists(dir / "out" / p));  // relative to the output folder
  }
  CHECK(meta["pixel"] == nlohmann::json::array({685, 1039}));
  CHECK(meta["pixel_source"] == "trace");
  CHECK(meta["tolerance_rel"] == 1e-6);
  CHECK(!meta["tool_version"].get<std::string>().empty());
  CHECK(!meta["git_sha"].get<std::string>().empty());
  const std::string summary = nbtest::read_file(dir / "out/summary.md");
  CHECK(summary.find("pixel (685, 1039)") != std::string::npos);
  CHECK(summary.find("| I_before_scaling | 943654.809 | 805473.787 | -138181.022 | -1.464317e-01 | CRITICAL |") !=
        std::string::npos);
}

TEST_CASE("--tolerance is honoured everywhere; --fail-on-divergence sets exit 3") {
  nbtest::TempDir dir;
  const std::vector<std::string> base{"--c", example("c_trace_s27_f488.log").string(), "--py",
                                      example("py_trace_s27_f488.log").string()};
  auto args = base;
  args.insert(args.end(), {"--out", (dir / "a/summary.md").string(), "--fail-on-divergence"});
  CHECK(nbtest::run_tool("compare_scaling_traces", args).exit_code == 3);
  auto plain = base;
  plain.insert(plain.end(), {"--out", (dir / "b/summary.md").string()});
  CHECK(nbtest::run_tool("compare_scaling_traces", plain).exit_code == 0);  // the peer's default

  // The demo's worst factor is off by ~1.3e5 relative: a huge tolerance passes everything.
  auto loose = base;
  loose.insert(loose.end(), {"--out", (dir / "c/summary.md").string(), "--fail-on-divergence", "--tolerance", "1e6"});
  CHECK(nbtest::run_tool("compare_scaling_traces", loose).exit_code == 0);
  const auto m = nlohmann::json::parse(nbtest::read_file(dir / "c/metrics.json"));
  CHECK(m["tolerance_rel"] == 1e6);
  CHECK(m["num_divergent"] == 0);
  CHECK(nbtest::read_file(dir / "c/summary.md").find("\u22641.00e+06 relative") != std::string::npos);
  CHECK(nbtest::read_file(dir / "c/summary.md").find("No divergence detected") != std::string::npos);
}

TEST_CASE("--pixel and --cpp") {
  nbtest::TempDir dir;
  const std::string cpp_trace = (dir / "cpp.log").string();
  // A C++ trace: the C trace with its tag changed.
  std::string text = nbtest::read_file(example("c_trace_s27_f488.log"));
  for (std::size_t p = 0; (p = text.find("TRACE_C", p)) != std::string::npos; p += 9) text.replace(p, 7, "TRACE_CPP");
  nbtest::write_file(cpp_trace, text);
  const auto r = nbtest::run_tool("compare_scaling_traces",
                                  {"--c", example("c_trace_s27_f488.log").string(), "--cpp", cpp_trace, "--out",
                                   (dir / "o/summary.md").string(), "--pixel", "1", "2", "--fail-on-divergence"});
  CHECK(r.exit_code == 0);
  CHECK(r.err.find("differs from the traced pixel (27, 488)") != std::string::npos);
  const std::string summary = nbtest::read_file(dir / "o/summary.md");
  CHECK(summary.find("C vs C++") != std::string::npos);
  CHECK(summary.find("pixel (1, 2)") != std::string::npos);
}

TEST_CASE("missing input: exit 5, one line, nothing written; usage errors exit 1") {
  nbtest::TempDir dir;
  const auto r = nbtest::run_tool("compare_scaling_traces", {"--c", "/nonexistent/c.log", "--py",
                                                             example("py_trace_s27_f488.log").string(), "--out",
                                                             (dir / "out/summary.md").string()});
  CHECK(r.exit_code == 5);
  CHECK(r.err.find("/nonexistent/c.log") != std::string::npos);
  CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
  CHECK_FALSE(fs::exists(dir / "out"));

  nbtest::write_file(dir / "noise.log", "nothing to see\n");
  const auto none = nbtest::run_tool("compare_scaling_traces", {"--c", (dir / "noise.log").string(), "--py",
                                                                example("py_trace_s27_f488.log").string(), "--out",
                                                                (dir / "out/summary.md").string()});
  CHECK(none.exit_code == 5);
  CHECK(none.err.find("no TRACE_<tag> lines") != std::string::npos);
  CHECK_FALSE(fs::exists(dir / "out"));

  CHECK(nbtest::run_tool("compare_scaling_traces", {"--c", "x"}).exit_code == 1);
  CHECK(nbtest::run_tool("compare_scaling_traces", {"--bogus"}).exit_code == 1);
  const auto help = nbtest::run_tool("compare_scaling_traces", {"--help"});
  CHECK(help.exit_code == 0);
  CHECK(help.out.find("--fail-on-divergence") != std::string::npos);
}
