// nb-compare: every documented exit code provoked, and the outputs.
#include <sys/stat.h>

#include <nlohmann/json.hpp>

#include "test_support.hpp"

namespace fs = std::filesystem;

namespace {
std::string example(const std::string& f) { return (nbtest::source_dir() / "examples/demo_scaling" / f).string(); }

/// A stand-in simulator: copies a float image to the -floatfile path and
/// prints nanoBragg's shape line; exits with `code`.
fs::path fake_simulator(const fs::path& dir, const std::string& name, const std::string& image, int code) {
  const fs::path p = dir / name;
  nbtest::write_file(p, "#!/bin/sh\nout=''\nwhile [ $# -gt 0 ]; do [ \"$1\" = -floatfile ] && out=$2; shift; done\n"
                        "cp '" + image + "' \"$out\"\necho 'detector (512x512 pixels)'\nexit " +
                            std::to_string(code) + "\n");
  ::chmod(p.c_str(), 0755);
  return p;
}
}  // namespace

TEST_CASE("images: 0 on agreement, outputs and summary.json") {
  nbtest::TempDir dir;
  const auto r = nbtest::run_tool("nb-compare", {"images", example("image.bin"), example("image.bin"), "--fpixels", "512",
                                                 "--spixels", "512", "--outdir", (dir / "o").string(), "--threshold",
                                                 "0.9999999", "--save-diff"});
  CHECK(r.exit_code == 0);
  for (const char* f : {"summary.json", "ref.png", "test.png", "diff.png", "diff.bin"}) CHECK(fs::exists(dir / "o" / f));
  const auto j = nlohmann::json::parse(nbtest::read_file(dir / "o/summary.json"));
  CHECK(j["metrics"]["correlation"].get<double>() == doctest::Approx(1.0));
  CHECK(j["metrics"]["max_abs_diff"] == 0.0);
  CHECK(j["metrics"]["peaks"]["matched_fraction"] == 1.0);
  CHECK(j["exit_code"] == 0);
  CHECK(nbtest::read_file(dir / "o/ref.png").substr(1, 3) == "PNG");
}

TEST_CASE("images: exit 3 below the threshold (nanoBragg.c vs the PyTorch port)") {
  nbtest::TempDir dir;
  const auto r = nbtest::run_tool("nb-compare", {"images", example("image.bin"), example("py_image.bin"), "--fpixels",
                                                 "512", "--spixels", "512", "--outdir", (dir / "o").string(),
                                                 "--threshold", "0.99"});
  CHECK(r.exit_code == 3);
  const auto j = nlohmann::json::parse(nbtest::read_file(dir / "o/summary.json"));
  CHECK(j["metrics"]["correlation"].get<double>() < 0.1);
  CHECK(j["metrics"]["sum_ratio"].get<double>() > 1e5);
}

TEST_CASE("images: exit 4 on a shape mismatch, 0 or 3 with --resample") {
  nbtest::TempDir dir;
  // A 256x256 image: a quarter of the 512x512 example.
  std::string small(256 * 256 * 4, '\0');
  nbtest::write_file(dir / "small.bin", small);
  auto r = nbtest::run_tool("nb-compare", {"images", example("image.bin"), (dir / "small.bin").string(), "--fpixels",
                                           "512", "--spixels", "512", "--outdir", (dir / "a").string()});
  CHECK(r.exit_code == 4);
  CHECK(r.out.find("shape mismatch") != std::string::npos);
  r = nbtest::run_tool("nb-compare", {"images", example("image.bin"), (dir / "small.bin").string(), "--fpixels", "512",
                                      "--spixels", "512", "--resample", "--outdir", (dir / "b").string()});
  CHECK(r.exit_code == 0);
  CHECK(nbtest::read_file(dir / "b/summary.json").find("resampled") != std::string::npos);
}

TEST_CASE("images: exit 5 on unreadable input (nothing written), 1 on usage errors") {
  nbtest::TempDir dir;
  auto r = nbtest::run_tool("nb-compare", {"images", "/nonexistent.bin", example("image.bin"), "--fpixels", "512",
                                           "--spixels", "512", "--outdir", (dir / "o").string()});
  CHECK(r.exit_code == 5);
  CHECK_FALSE(fs::exists(dir / "o"));
  r = nbtest::run_tool("nb-compare", {"images", example("image.bin"), example("image.bin"), "--fpixels", "500",
                                      "--spixels", "512", "--outdir", (dir / "o").string()});
  CHECK(r.exit_code == 5);
  CHECK(nbtest::run_tool("nb-compare", {"images", example("image.bin")}).exit_code == 1);
  CHECK(nbtest::run_tool("nb-compare", {"images", example("image.bin"), example("image.bin"), "--fpixels", "512",
                                        "--spixels", "512", "--roi", "0", "600", "0", "10", "--outdir",
                                        (dir / "r").string()})
            .exit_code == 1);
  CHECK(nbtest::run_tool("nb-compare", {"--help"}).exit_code == 0);
}

TEST_CASE("runner: both programs with the same arguments; exit 2 when one fails") {
  nbtest::TempDir dir;
  const fs::path good = fake_simulator(dir.path(), "good.sh", example("image.bin"), 0);
  const fs::path bad = fake_simulator(dir.path(), "bad.sh", example("image.bin"), 1);
  auto r = nbtest::run_tool("nb-compare", {"--ref-bin", good.string(), "--test-bin", good.string(), "--outdir",
                                           (dir / "ok").string(), "--threshold", "0.999", "--", "-default_F", "100",
                                           "-detpixels", "512"});
  CHECK(r.exit_code == 0);
  for (const char* f : {"ref_float.bin", "test_float.bin", "ref_stdout.txt", "test_stderr.txt", "summary.json"}) {
    CHECK(fs::exists(dir / "ok" / f));
  }
  const auto j = nlohmann::json::parse(nbtest::read_file(dir / "ok/summary.json"));
  CHECK(j["args"] == nlohmann::json::array({"-default_F", "100", "-detpixels", "512"}));
  CHECK(j["ref"]["sha256"].get<std::string>().size() == 64);
  CHECK(j["metrics"]["correlation"].get<double>() == doctest::Approx(1.0));
  r = nbtest::run_tool("nb-compare", {"--ref-bin", good.string(), "--test-bin", bad.string(), "--outdir",
                                      (dir / "fail").string(), "--", "-default_F", "100"});
  CHECK(r.exit_code == 2);
  CHECK(nlohmann::json::parse(nbtest::read_file(dir / "fail/summary.json"))["exit_code"] == 2);
  r = nbtest::run_tool("nb-compare", {"--ref-bin", (dir / "missing").string(), "--test-bin", good.string(),
                                      "--outdir", (dir / "m").string(), "--", "-default_F", "100"});
  CHECK(r.exit_code == 2);
  // No reference program at all: a usage error.
  CHECK(nbtest::run_tool("nb-compare", {"--test-bin", good.string(), "--", "-default_F", "100"}).exit_code == 1);
}
