// nb-compare: every documented exit code provoked, and the outputs.
#include <sys/stat.h>

#include <algorithm>
#include <cstring>
#include <limits>
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
/// A float32 image of n values, all `base` but for the given (index, value) pixels.
void write_floats(const fs::path& file, std::size_t n, float base, const std::vector<std::pair<std::size_t, float>>& px = {}) {
  std::vector<float> v(n, base);
  for (const auto& [i, value] : px) v[i] = value;
  nbtest::write_file(file, std::string(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(float)));
}

constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();

/// nb-compare images A B on WxH images into OUT, with extra options.
nbtest::ProcessResult compare_images(const fs::path& a, const fs::path& b, std::size_t w, std::size_t h,
                                     const fs::path& out, std::vector<std::string> extra = {}) {
  std::vector<std::string> args{"images", a.string(), b.string(), "--fpixels", std::to_string(w), "--spixels",
                                std::to_string(h), "--outdir", out.string()};
  args.insert(args.end(), extra.begin(), extra.end());
  return nbtest::run_tool("nb-compare", args);
}

/// The names in a folder, sorted (hidden ones too: staging debris shows).
std::vector<std::string> listing(const fs::path& dir) {
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(dir)) names.push_back(e.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
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

TEST_CASE("images: NaN pixels fail with exit 4, the count and the first position, whatever the thresholds") {
  nbtest::TempDir dir;
  write_floats(dir / "nan.bin", 1024 * 1024, kNaN);
  write_floats(dir / "zero.bin", 1024 * 1024, 0.0f);
  auto r = compare_images(dir / "nan.bin", dir / "zero.bin", 1024, 1024, dir / "o", {"--save-diff"});
  CHECK(r.exit_code == 4);
  CHECK(r.out.find("reference image has 1048576 non-finite pixels (first at slow 0, fast 0: nan)\n") !=
        std::string::npos);
  CHECK(r.out.find("nothing was compared") != std::string::npos);
  // The whole set is written: the previews show where the NaNs are.
  CHECK(listing(dir / "o") == std::vector<std::string>{"diff.bin", "diff.png", "ref.png", "summary.json", "test.png"});
  const auto j = nlohmann::json::parse(nbtest::read_file(dir / "o/summary.json"));
  CHECK(j["exit_code"] == 4);
  CHECK(j["verdict"] == "INVALID_IMAGE");
  CHECK(j["failed_checks"] == nlohmann::json::array({"non_finite_ref", "nothing_compared"}));
  CHECK(j["metrics"]["non_finite_ref"] ==
        nlohmann::json{{"count", 1048576}, {"first", {{"slow", 0}, {"fast", 0}, {"value", "nan"}}}});
  CHECK(j["metrics"]["non_finite_test"]["count"] == 0);
  CHECK(j["metrics"]["compared_pixels"] == 0);
  CHECK(j["messages"][0] == "reference image has 1048576 non-finite pixels (first at slow 0, fast 0: nan)");

  // One NaN and one -inf in the test image of the 512x512 example: the rest
  // still agrees exactly, and the metrics say over how many pixels.
  const std::string example_bytes = nbtest::read_file(example("image.bin"));
  std::vector<float> v(512 * 512);
  std::memcpy(v.data(), example_bytes.data(), example_bytes.size());
  v[3 * 512 + 7] = -std::numeric_limits<float>::infinity();
  v[300 * 512 + 2] = kNaN;
  nbtest::write_file(dir / "two.bin", std::string(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(float)));
  r = compare_images(example("image.bin"), dir / "two.bin", 512, 512, dir / "t", {"--threshold", "0.99"});
  CHECK(r.exit_code == 4);
  CHECK(r.out.find("over 262142 of 262144 pixels") != std::string::npos);
  CHECK(r.out.find("test image has 2 non-finite pixels (first at slow 3, fast 7: -inf)") != std::string::npos);
  const auto t = nlohmann::json::parse(nbtest::read_file(dir / "t/summary.json"));
  CHECK(t["metrics"]["correlation"].get<double>() == doctest::Approx(1.0));
  CHECK(t["failed_checks"] == nlohmann::json::array({"non_finite_test"}));
  // A ROI without them compares clean.
  r = compare_images(example("image.bin"), dir / "two.bin", 512, 512, dir / "roi", {"--roi", "100", "511", "0", "200"});
  CHECK(r.exit_code == 0);
}

TEST_CASE("images: empty, folder, missing and odd-sized inputs are refused with exit 5 and one line; nothing written") {
  nbtest::TempDir dir;
  nbtest::write_file(dir / "empty.bin", "");
  nbtest::write_file(dir / "seven.bin", "1234567");
  const std::string img = example("image.bin");
  struct Case {
    std::vector<std::string> args;
    std::string message;
  };
  const std::string e = (dir / "empty.bin").string();
  const std::vector<Case> cases{
      {{img, e, "--resample"}, e + ": is empty (0 bytes): no pixels to compare"},
      {{img, e, "--resample", "--save-diff", "--roi", "0", "1", "0", "1"}, e + ": is empty (0 bytes): no pixels to compare"},
      {{e, img}, e + ": is empty (0 bytes): no pixels to compare"},
      {{e, e}, e + ": is empty (0 bytes): no pixels to compare"},
      {{img, dir.path().string()}, dir.path().string() + ": is a folder, not a float image"},
      {{dir.path().string(), img}, dir.path().string() + ": is a folder, not a float image"},
      {{img, (dir / "none.bin").string()}, (dir / "none.bin").string() + ": cannot read float image: No such file or directory"},
      {{img, (dir / "seven.bin").string()}, (dir / "seven.bin").string() + ": 7 bytes is not a whole number of float32 values"},
      // Control characters in a name are escaped in the message.
      {{img, (dir / "a\x1b[2J\nb.bin").string()},
       (dir / "a\\x1b[2J\\nb.bin").string() + ": cannot read float image: No such file or directory"},
  };
  for (const Case& c : cases) {
    std::vector<std::string> args{"images", c.args[0], c.args[1], "--fpixels", "512", "--spixels", "512", "--outdir",
                                  (dir / "o").string()};
    args.insert(args.end(), c.args.begin() + 2, c.args.end());
    const auto r = nbtest::run_tool("nb-compare", args);
    CAPTURE(c.message);
    CHECK(r.exit_code == 5);
    CHECK(r.err == "nb-compare: error: " + c.message + "\n");
    CHECK_FALSE(fs::exists(dir / "o"));
  }
  // The default folder is not made either.
  const auto r = nbtest::run_tool("nb-compare", {"images", img, e, "--fpixels", "512", "--spixels", "512"}, dir.path());
  CHECK(r.exit_code == 5);
  CHECK_FALSE(fs::exists(dir / "comparisons"));
}

TEST_CASE("images: every option on one-pixel and odd-sized images, NaN option values refused") {
  nbtest::TempDir dir;
  write_floats(dir / "one.bin", 1, 2.0f);
  write_floats(dir / "odd.bin", 15, 1.0f, {{7, 4.0f}});  // 3x5, a peak at (slow 2, fast 1)
  write_floats(dir / "sq.bin", 49, 1.0f, {{24, 9.0f}});  // 7x7, a peak in the middle
  int n = 0;
  const auto run = [&](const std::string& a, const std::string& b, std::size_t w, std::size_t h,
                       std::vector<std::string> extra) {
    return compare_images(dir / a, dir / b, w, h, dir / ("o" + std::to_string(++n)), std::move(extra));
  };
  for (const std::vector<std::string>& opts :
       {std::vector<std::string>{}, {"--save-diff", "--png-scale", "0"}, {"--save-diff", "--png-scale", "100"},
        {"--roi", "0", "0", "0", "0"}, {"--peaks", "0"}, {"--peaks", "1000", "--peak-percentile", "0"},
        {"--peak-gate", "0"}}) {
    CAPTURE(opts.size());
    CHECK(run("one.bin", "one.bin", 1, 1, opts).exit_code == 0);
    CHECK(run("odd.bin", "odd.bin", 3, 5, opts).exit_code == 0);
  }
  // One pixel has no correlation: any threshold fails it.
  auto r = run("one.bin", "one.bin", 1, 1, {"--threshold", "-1"});
  CHECK(r.exit_code == 3);
  CHECK(r.out.find("correlation undefined (an image is constant), threshold -1") != std::string::npos);
  CHECK(run("odd.bin", "odd.bin", 3, 5, {"--threshold", "1"}).exit_code == 0);
  // One pixel against 7x7 and back, resampled.
  r = run("sq.bin", "one.bin", 7, 7, {"--resample", "--save-diff"});
  CHECK(r.exit_code == 0);
  CHECK(nbtest::read_file(dir / ("o" + std::to_string(n)) / "summary.json").find("from 1x1 to 7x7") != std::string::npos);
  r = run("one.bin", "sq.bin", 1, 1, {"--resample", "--roi", "0", "0", "0", "0"});
  CHECK(r.exit_code == 0);
  // An odd-sized test image is named by --test-fpixels/--test-spixels.
  r = compare_images(dir / "sq.bin", dir / "odd.bin", 7, 7, dir / "odd", {"--test-fpixels", "3", "--test-spixels", "5"});
  CHECK(r.exit_code == 4);
  CHECK(r.out.find("shape mismatch: reference 7x7, test 3x5") != std::string::npos);
  CHECK(listing(dir / "odd") == std::vector<std::string>{"summary.json"});
  r = compare_images(dir / "sq.bin", dir / "odd.bin", 7, 7, dir / "odd_r",
                     {"--test-fpixels", "3", "--test-spixels", "5", "--resample", "--save-diff", "--roi", "1", "5", "2", "6"});
  CHECK(r.exit_code == 0);
  const auto j = nlohmann::json::parse(nbtest::read_file(dir / "odd_r/summary.json"));
  CHECK(j["metrics"]["pixels"] == 25);
  // A NaN or out-of-range option value is a usage error, and nothing is written.
  for (const std::vector<std::string>& bad : {std::vector<std::string>{"--threshold", "nan"}, {"--png-scale", "nan"},
                                              {"--peak-percentile", "nan"}, {"--peak-gate", "-1"}, {"--peak-gate", "inf"},
                                              {"--png-scale", "101"}}) {
    CAPTURE(bad[0] + " " + bad[1]);
    r = compare_images(dir / "sq.bin", dir / "sq.bin", 7, 7, dir / "bad", bad);
    CHECK(r.exit_code == 1);
    CHECK(r.err.find(bad[0] + ": '" + bad[1] + "' is not") != std::string::npos);
    CHECK_FALSE(fs::exists(dir / "bad"));
  }
  // An empty ROI compares nothing: refused, as is one that leaves the image.
  r = compare_images(dir / "sq.bin", dir / "sq.bin", 7, 7, dir / "bad", {"--roi", "5", "4", "0", "0"});
  CHECK(r.exit_code == 1);
  CHECK(r.err == "nb-compare: error: --roi: xmin > xmax or ymin > ymax\n");
  r = compare_images(dir / "one.bin", dir / "one.bin", 1, 1, dir / "bad", {"--roi", "0", "1", "0", "0"});
  CHECK(r.exit_code == 1);
  CHECK(r.err == "nb-compare: error: --roi 0 1 0 0 leaves the 1x1 image\n");
  CHECK_FALSE(fs::exists(dir / "bad"));
  // CLI11's own messages echo the argument: escaped.
  r = nbtest::run_tool("nb-compare", {"images", "a", "b", "--fpixels", "7\x1b[31m", "--spixels", "7"});
  CHECK(r.exit_code == 1);
  CHECK(r.err.find("7\\x1b[31m") != std::string::npos);
  CHECK(r.err.find('\x1b') == std::string::npos);
}

TEST_CASE("outputs are one set: a failed write leaves the folder as it was; a rerun leaves no file of the last run") {
  nbtest::TempDir dir;
  const fs::path out = dir / "o";
  auto r = compare_images(example("image.bin"), example("image.bin"), 512, 512, out, {"--save-diff"});
  REQUIRE(r.exit_code == 0);
  CHECK(r.out.find("outputs: " + out.string() + "/ (ref.png, test.png, diff.png, diff.bin, summary.json)") !=
        std::string::npos);
  const std::string old_summary = nbtest::read_file(out / "summary.json");
  const std::string old_ref = nbtest::read_file(out / "ref.png");
  // A folder where test.png should go: refused before anything is written.
  fs::remove(out / "test.png");
  fs::create_directory(out / "test.png");
  r = compare_images(example("image.bin"), example("py_image.bin"), 512, 512, out, {"--save-diff"});
  CHECK(r.exit_code == 1);
  CHECK(r.err == "nb-compare: error: " + (out / "test.png").string() + ": is a folder, not a file that can be written\n");
  CHECK(nbtest::read_file(out / "summary.json") == old_summary);
  CHECK(nbtest::read_file(out / "ref.png") == old_ref);
  CHECK(listing(out) == std::vector<std::string>{"diff.bin", "diff.png", "ref.png", "summary.json", "test.png"});
  // Rerun without --save-diff into the same folder: diff.png and diff.bin of the last run go.
  fs::remove(out / "test.png");
  r = compare_images(example("image.bin"), example("py_image.bin"), 512, 512, out, {"--threshold", "0.99"});
  CHECK(r.exit_code == 3);
  CHECK(listing(out) == std::vector<std::string>{"ref.png", "summary.json", "test.png"});
  const auto j = nlohmann::json::parse(nbtest::read_file(out / "summary.json"));
  CHECK(j["outputs"] == nlohmann::json::array({"ref.png", "test.png", "summary.json"}));
  CHECK(j["messages"] == nlohmann::json::array({"correlation below threshold 0.99"}));
}

TEST_CASE("runner: a program writing NaNs fails with exit 4; one writing nothing is refused with exit 5") {
  nbtest::TempDir dir;
  write_floats(dir / "nan.bin", 512 * 512, 1.0f, {{5, kNaN}});
  nbtest::write_file(dir / "empty.bin", "");
  const fs::path good = fake_simulator(dir.path(), "good.sh", example("image.bin"), 0);
  const fs::path nan = fake_simulator(dir.path(), "nan.sh", (dir / "nan.bin").string(), 0);
  const fs::path empty = fake_simulator(dir.path(), "empty.sh", (dir / "empty.bin").string(), 0);
  auto r = nbtest::run_tool("nb-compare", {"--ref-bin", good.string(), "--test-bin", nan.string(), "--outdir",
                                           (dir / "n").string(), "--", "-default_F", "100"});
  CHECK(r.exit_code == 4);
  CHECK(r.out.find("test image has 1 non-finite pixel (first at slow 0, fast 5: nan)") != std::string::npos);
  CHECK(nlohmann::json::parse(nbtest::read_file(dir / "n/summary.json"))["verdict"] == "INVALID_IMAGE");
  r = nbtest::run_tool("nb-compare", {"--ref-bin", good.string(), "--test-bin", empty.string(), "--outdir",
                                      (dir / "e").string(), "--", "-default_F", "100"});
  CHECK(r.exit_code == 5);
  CHECK(r.err == "nb-compare: error: " + (dir / "e/test_float.bin").string() + ": is empty (0 bytes): no pixels to compare\n");
  CHECK_FALSE(fs::exists(dir / "e/summary.json"));
}

// ---------------------------------------------------------------------------
// Drop-in for the PyTorch port's nb_compare.py (issue #14): its option and
// variable names, program search, file names, flat summary keys, default
// threshold and exit codes (docs/nb-compare.md, "Drop-in for nb_compare.py").
// ---------------------------------------------------------------------------
#include <cmath>
#include <cstdint>

#include "../../tools/nb-compare/peer_summary.hpp"

namespace {

/// A stand-in simulator printing nanoBragg's shape line for an F x S image
/// and copying `image` to its -floatfile; it also leaves its arguments in
/// args.txt of its working folder.
fs::path stand_in(const fs::path& dir, const std::string& name, const std::string& image, std::size_t f = 512,
                  std::size_t s = 512) {
  const fs::path p = dir / name;
  nbtest::write_file(p, "#!/bin/sh\necho \"$@\" > args.txt\nout=''\n"
                        "while [ $# -gt 0 ]; do [ \"$1\" = -floatfile ] && out=$2; shift; done\n"
                        "cp '" + image + "' \"$out\"\necho 'detector (" + std::to_string(f) + "x" +
                            std::to_string(s) + " pixels)'\n");
  ::chmod(p.c_str(), 0755);
  return p;
}

std::vector<float> floats_of(const fs::path& file) {
  const std::string bytes = nbtest::read_file(file);
  std::vector<float> v(bytes.size() / sizeof(float));
  std::memcpy(v.data(), bytes.data(), v.size() * sizeof(float));
  return v;
}

void write_image(const fs::path& file, const std::vector<float>& v) {
  nbtest::write_file(file, std::string(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(float)));
}

/// The example image plus deterministic zero-mean noise scaled so that the
/// two correlate at about `target` (corr = sd_v / sqrt(sd_v^2 + k^2 sd_u^2)).
std::vector<float> perturbed(const std::vector<float>& v, double target) {
  std::vector<double> u(v.size());
  std::uint32_t state = 12345;
  for (double& x : u) {
    state = state * 1664525u + 1013904223u;  // an LCG: reproducible, no library
    x = static_cast<double>(state >> 8) / static_cast<double>(1u << 24) - 0.5;
  }
  const auto sd = [](const auto& a) {
    double mean = 0, sq = 0;
    for (const auto x : a) mean += x;
    mean /= static_cast<double>(a.size());
    for (const auto x : a) sq += (x - mean) * (x - mean);
    return std::sqrt(sq / static_cast<double>(a.size()));
  };
  const double k = sd(v) * std::sqrt(1.0 / (target * target) - 1.0) / sd(u);
  std::vector<float> w(v.size());
  for (std::size_t i = 0; i < v.size(); ++i) w[i] = static_cast<float>(v[i] + k * u[i]);
  return w;
}

/// nb-compare with NB_C_BIN and NB_PY_BIN removed from its environment, then
/// `env` (NAME=VALUE) added: what a peer user's shell would give it.
nbtest::ProcessResult run_with_env(const std::vector<std::string>& env, const std::vector<std::string>& args,
                                   const fs::path& cwd = {}) {
  std::vector<std::string> argv{"/usr/bin/env", "-u", "NB_C_BIN", "-u", "NB_PY_BIN"};
  argv.insert(argv.end(), env.begin(), env.end());
  argv.push_back((nbtest::bin_dir() / "nb-compare").string());
  argv.insert(argv.end(), args.begin(), args.end());
  return nbtest::run_process(argv, cwd);
}

nlohmann::json summary_of(const fs::path& dir) { return nlohmann::json::parse(nbtest::read_file(dir / "summary.json")); }

const char* const kPeerKeys[] = {"correlation",  "mse",           "rmse",          "max_abs_diff",      "c_sum",
                                 "py_sum",       "sum_ratio",     "mean_peak_distance", "max_peak_distance",
                                 "runtime_c_ms", "runtime_py_ms", "speedup",       "args",              "c_binary",
                                 "py_binary",    "roi",           "resample",      "png_scale_method",
                                 "png_scale_percentile"};

}  // namespace

TEST_CASE("drop-in: --c-bin/--py-bin, with and without --: the peer's files and flat summary keys") {
  nbtest::TempDir dir;
  const fs::path c = stand_in(dir.path(), "c.sh", example("image.bin"));
  const fs::path py = stand_in(dir.path(), "py.sh", example("image.bin"));
  const std::vector<std::string> sim{"-default_F", "100", "-detpixels", "512"};
  double sum = 0;
  for (const float x : floats_of(example("image.bin"))) sum += x;
  REQUIRE(sum > 0);

  // --py-bin as a command line, split as sh splits it.
  std::vector<std::string> args{"--c-bin", c.string(), "--py-bin", "/bin/sh " + py.string(), "--outdir",
                                (dir / "a").string(), "--"};
  args.insert(args.end(), sim.begin(), sim.end());
  auto r = nbtest::run_tool("nb-compare", args);
  CHECK(r.exit_code == 0);
  CHECK(r.out.find("C runtime: ") != std::string::npos);
  CHECK(r.out.find("Py runtime: ") != std::string::npos);
  CHECK(listing(dir / "a") == std::vector<std::string>{"c.png", "c_float.bin", "c_run", "c_stderr.txt", "c_stdout.txt",
                                                       "diff.png", "py.png", "py_float.bin", "py_run", "py_stderr.txt",
                                                       "py_stdout.txt", "summary.json"});
  CHECK(nbtest::read_file(dir / "a/c_float.bin") == nbtest::read_file(example("image.bin")));
  CHECK(nbtest::read_file(dir / "a/py.png").substr(1, 3) == "PNG");
  // Both programs got the same arguments, -floatfile added.
  CHECK(nbtest::read_file(dir / "a/c_run/args.txt") ==
        "-default_F 100 -detpixels 512 -floatfile " + (dir / "a/c_float.bin").string() + "\n");
  CHECK(nbtest::read_file(dir / "a/py_run/args.txt") ==
        "-default_F 100 -detpixels 512 -floatfile " + (dir / "a/py_float.bin").string() + "\n");

  const auto j = summary_of(dir / "a");
  for (const char* key : kPeerKeys) {
    CAPTURE(key);
    CHECK(j.contains(key));
  }
  CHECK_FALSE(j.contains("resample_note"));
  CHECK(j["correlation"].get<double>() == doctest::Approx(1.0));
  CHECK(j["mse"] == 0.0);
  CHECK(j["rmse"] == 0.0);
  CHECK(j["max_abs_diff"] == 0.0);
  CHECK(j["c_sum"].get<double>() == doctest::Approx(sum).epsilon(1e-9));
  CHECK(j["py_sum"].get<double>() == doctest::Approx(sum).epsilon(1e-9));
  CHECK(j["sum_ratio"] == 1.0);
  CHECK(j["mean_peak_distance"] == 0.0);
  CHECK(j["max_peak_distance"] == 0.0);
  CHECK(j["runtime_c_ms"].is_number_integer());
  CHECK(j["runtime_py_ms"].is_number_integer());
  CHECK(j["runtime_c_ms"].get<std::int64_t>() == static_cast<std::int64_t>(j["c"]["runtime_ms"].get<double>()));
  CHECK(j["speedup"].get<double>() > 0);
  CHECK(j["args"] == nlohmann::json(sim));
  CHECK(j["c_binary"] == c.string());
  CHECK(j["py_binary"] == "/bin/sh " + py.string());
  CHECK(j["roi"].is_null());
  CHECK(j["resample"] == false);
  CHECK(j["png_scale_method"] == "percentile");
  CHECK(j["png_scale_percentile"] == 99.5);
  CHECK(j["c"]["found_by"] == "--c-bin");
  CHECK(j["py"]["found_by"] == "--py-bin");
  CHECK(j["exit_code"] == 0);
  CHECK(j["threshold"] == 0.95);
  // The typed struct reads back what was written.
  nbtrace::PeerSummary p;
  from_json(j, p);
  CHECK(p.correlation.value_or(0) == doctest::Approx(1.0));
  CHECK(p.c_sum == j["c_sum"].get<double>());
  CHECK(p.py_binary == "/bin/sh " + py.string());
  nlohmann::ordered_json again = p;
  for (const auto& [key, value] : again.items()) {
    CAPTURE(key);
    CHECK(value == j[key]);
  }

  // No "--": the simulator arguments start after the options; --save-diff
  // and --roi with the peer's meaning.
  args = {"--c-bin", c.string(), "--py-bin", py.string(), "--outdir", (dir / "b").string(), "--save-diff", "--roi",
          "0", "255", "0", "127"};
  args.insert(args.end(), sim.begin(), sim.end());
  r = nbtest::run_tool("nb-compare", args);
  CHECK(r.exit_code == 0);
  const auto b = summary_of(dir / "b");
  CHECK(b["args"] == nlohmann::json(sim));
  CHECK(b["roi"] == nlohmann::json::array({0, 255, 0, 127}));
  CHECK(b["metrics"]["pixels"] == 256 * 128);
  CHECK(fs::file_size(dir / "b/diff.bin") == 512 * 512 * 4);
  CHECK(nbtest::read_file(dir / "b/py_run/args.txt") ==
        "-default_F 100 -detpixels 512 -floatfile " + (dir / "b/py_float.bin").string() + "\n");
}

TEST_CASE("drop-in: NB_C_BIN and NB_PY_BIN, the flags winning; a program not there exits 2 with nothing run") {
  nbtest::TempDir dir;
  const fs::path c = stand_in(dir.path(), "c.sh", example("image.bin"));
  const fs::path py = stand_in(dir.path(), "py.sh", example("image.bin"));
  auto r = run_with_env({"NB_C_BIN=" + c.string(), "NB_PY_BIN=" + py.string()},
                        {"--outdir", (dir / "env").string(), "-default_F", "100"});
  CHECK(r.exit_code == 0);
  auto j = summary_of(dir / "env");
  CHECK(j["c"]["found_by"] == "NB_C_BIN");
  CHECK(j["py"]["found_by"] == "NB_PY_BIN");
  CHECK(j["c_binary"] == c.string());
  CHECK(j["py_binary"] == py.string());
  CHECK(r.out.find("C program: " + c.string() + " (NB_C_BIN)\n") != std::string::npos);

  // A flag wins over its variable.
  r = run_with_env({"NB_C_BIN=/nonexistent/nanoBragg", "NB_PY_BIN=/nonexistent/py"},
                   {"--c-bin", c.string(), "--py-bin", py.string(), "--outdir", (dir / "flags").string(), "--",
                    "-default_F", "100"});
  CHECK(r.exit_code == 0);
  CHECK(summary_of(dir / "flags")["py"]["found_by"] == "--py-bin");

  // Named but not there: exit 2 (the peer's 3), one line, no folder, nothing run.
  r = run_with_env({"NB_C_BIN=/nonexistent/nanoBragg", "NB_PY_BIN=" + py.string()},
                   {"--outdir", (dir / "gone").string(), "-default_F", "100"});
  CHECK(r.exit_code == 2);
  CHECK(r.err == "nb-compare: error: NB_C_BIN: /nonexistent/nanoBragg: no such program\n");
  CHECK_FALSE(fs::exists(dir / "gone"));
  r = run_with_env({"NB_C_BIN=" + c.string()},
                   {"--py-bin", "no-such-runner-nbtest -m x", "--outdir", (dir / "gone").string(), "-default_F", "1"});
  CHECK(r.exit_code == 2);
  CHECK(r.err == "nb-compare: error: --py-bin: no-such-runner-nbtest: not found on PATH\n");
  CHECK_FALSE(fs::exists(dir / "gone"));
}

TEST_CASE("drop-in: the peer's default search: ./nanoBragg, then nanoBragg on PATH, python, nbsim") {
  nbtest::TempDir dir;
  const fs::path work = dir / "work";
  fs::create_directories(work / "golden_suite_generator");
  fs::create_directories(dir / "bin");
  stand_in(work, "nanoBragg", example("image.bin"));
  stand_in(dir / "bin", "nanoBragg", example("image.bin"));
  const std::string path = "PATH=" + (dir / "bin").string() + ":/usr/bin:/bin";
  auto r = run_with_env({path}, {"--outdir", "o1", "-default_F", "100"}, work);
  CHECK(r.exit_code == 0);
  auto j = summary_of(work / "o1");
  CHECK(j["c"]["found_by"] == "./nanoBragg");
  CHECK(j["c_binary"] == (work / "nanoBragg").string());
  CHECK(j["py"]["found_by"] == "nanoBragg on PATH");
  CHECK(j["py_binary"] == (dir / "bin/nanoBragg").string());
  // ./golden_suite_generator/nanoBragg comes first.
  stand_in(work / "golden_suite_generator", "nanoBragg", example("image.bin"));
  r = run_with_env({path}, {"--outdir", "o2", "-default_F", "100"}, work);
  CHECK(r.exit_code == 0);
  CHECK(summary_of(work / "o2")["c_binary"] == (work / "golden_suite_generator/nanoBragg").string());
  // No nanoBragg on PATH and no nanobrag_torch module: the nbsim beside nb-compare.
  r = run_with_env({"PATH=/usr/bin:/bin"}, {"--outdir", "o3", "-default_F", "100", "-detpixels", "512"}, work);
  j = summary_of(work / "o3");
  CHECK(j["py"]["found_by"] == "nbsim beside nb-compare");
  CHECK(j["py"]["binary"] == (nbtest::bin_dir() / "nbsim").string());
  CHECK(r.exit_code == 2);  // nbsim refuses a run without a cell
  // No C program anywhere: a usage error naming the ways to give one.
  fs::remove_all(work / "golden_suite_generator");
  fs::remove(work / "nanoBragg");
  r = run_with_env({path}, {"-default_F", "100"}, work);
  CHECK(r.exit_code == 1);
  CHECK(r.err.find("no C program: give --c-bin PATH, set NB_C_BIN") != std::string::npos);
  CHECK_FALSE(fs::exists(work / "comparisons"));
}

TEST_CASE("drop-in: nbsim on both sides, --c-bin and --py-bin as command lines") {
  nbtest::TempDir dir;
  const std::string nbsim = (nbtest::bin_dir() / "nbsim").string();
  const auto r = nbtest::run_tool(
      "nb-compare", {"--c-bin", nbsim + " -mode c-parity", "--py-bin", nbsim + " -mode spec", "--outdir",
                     (dir / "o").string(), "--", "-cell", "100", "100", "100", "90", "90", "90", "-default_F", "100",
                     "-lambda", "6.2", "-N", "5", "-distance", "100", "-detpixels", "64", "-pixel", "0.4"});
  const auto j = summary_of(dir / "o");
  CHECK(j["c_binary"] == nbsim + " -mode c-parity");
  CHECK(j["metrics"]["pixels"] == 64 * 64);
  CHECK(j["c_sum"].get<double>() > 0);
  REQUIRE(j["correlation"].is_number());
  CHECK(r.exit_code == (j["correlation"].get<double>() >= 0.95 ? 0 : 3));
  CHECK(j["exit_code"] == r.exit_code);
}

TEST_CASE("drop-in: the default threshold is 0.95: a correlation of 0.88 exits 3 and says so") {
  nbtest::TempDir dir;
  write_image(dir / "noisy.bin", perturbed(floats_of(example("image.bin")), 0.88));
  const fs::path c = stand_in(dir.path(), "c.sh", example("image.bin"));
  const fs::path py = stand_in(dir.path(), "py.sh", (dir / "noisy.bin").string());
  auto r = nbtest::run_tool("nb-compare", {"--c-bin", c.string(), "--py-bin", py.string(), "--outdir",
                                           (dir / "d").string(), "--", "-default_F", "100"});
  CHECK(r.exit_code == 3);
  const std::string said = "correlation below threshold 0.95 (the default; --threshold T sets another)";
  CHECK(r.out.find(said + "\n") != std::string::npos);
  auto j = summary_of(dir / "d");
  CHECK(j["correlation"].get<double>() == doctest::Approx(0.88).epsilon(0.01));
  CHECK(j["messages"] == nlohmann::json::array({said}));
  CHECK(j["threshold"] == 0.95);
  CHECK(j["threshold_default"] == true);
  CHECK(j["verdict"] == "DIVERGENT");
  CHECK(j["exit_code"] == 3);
  CHECK(j["sum_ratio"].get<double>() != 1.0);
  // A threshold given is used, and named plainly.
  r = nbtest::run_tool("nb-compare", {"--c-bin", c.string(), "--py-bin", py.string(), "--outdir", (dir / "t").string(),
                                      "--threshold", "0.8", "--", "-default_F", "100"});
  CHECK(r.exit_code == 0);
  CHECK(summary_of(dir / "t")["threshold_default"] == false);
  r = nbtest::run_tool("nb-compare", {"--c-bin", c.string(), "--py-bin", py.string(), "--outdir", (dir / "u").string(),
                                      "--threshold", "0.9", "--", "-default_F", "100"});
  CHECK(r.exit_code == 3);
  CHECK(summary_of(dir / "u")["messages"] == nlohmann::json::array({"correlation below threshold 0.9"}));
  // nb-compare's own --ref-bin/--test-bin runner mode has the same default
  // (it had none); its files keep their ref/test names.
  r = nbtest::run_tool("nb-compare", {"--ref-bin", c.string(), "--test-bin", py.string(), "--outdir",
                                      (dir / "own").string(), "--", "-default_F", "100"});
  CHECK(r.exit_code == 3);
  CHECK(fs::exists(dir / "own/ref.png"));
  CHECK(fs::exists(dir / "own/test_float.bin"));
  CHECK_FALSE(fs::exists(dir / "own/diff.png"));
  CHECK(summary_of(dir / "own")["py_sum"] == j["py_sum"]);
}

TEST_CASE("drop-in: shapes differ: exit 4, or resampled with a note; usage errors exit 1") {
  nbtest::TempDir dir;
  write_floats(dir / "small.bin", 256 * 256, 1.0f, {{5, 9.0f}});
  const fs::path c = stand_in(dir.path(), "c.sh", example("image.bin"));
  const fs::path small = stand_in(dir.path(), "small.sh", (dir / "small.bin").string(), 256, 256);
  auto r = nbtest::run_tool("nb-compare", {"--c-bin", c.string(), "--py-bin", small.string(), "--outdir",
                                           (dir / "m").string(), "--", "-default_F", "100"});
  CHECK(r.exit_code == 4);
  CHECK(r.out.find("shape mismatch: reference 512x512, test 256x256 (use --resample)") != std::string::npos);
  CHECK_FALSE(summary_of(dir / "m").contains("correlation"));
  r = nbtest::run_tool("nb-compare", {"--c-bin", c.string(), "--py-bin", small.string(), "--outdir",
                                      (dir / "rs").string(), "--resample", "--threshold", "-1", "--", "-default_F",
                                      "100"});
  CHECK(r.exit_code == 0);
  const auto j = summary_of(dir / "rs");
  CHECK(j["resample"] == true);
  CHECK(j["resample_note"] == "test resampled (nearest neighbour) from 256x256 to 512x512");
  CHECK(j["metrics"]["pixels"] == 512 * 512);

  struct Usage {
    std::vector<std::string> args;
    std::string said;
  };
  const std::vector<Usage> usage{
      {{"--c-bin", c.string(), "--test-bin", c.string(), "--", "-default_F", "1"}, "do not mix"},
      {{"--ref-bin", c.string(), "--py-bin", c.string(), "--", "-default_F", "1"}, "do not mix"},
      {{"--c-bin", c.string(), "--py-bin", "'open", "--", "-default_F", "1"}, "--py-bin: a single quote is not closed: 'open"},
      {{"--c-bin", c.string(), "--py-bin", c.string(), "--bogus", "-default_F", "1"}, "--bogus"},
      {{"--c-bin", c.string(), "--py-bin", c.string(), "--threshold", "nan", "-default_F", "1"},
       "--threshold: 'nan' is not a finite number"},
      {{"--c-bin", c.string(), "--py-bin", c.string()}, "no simulator arguments"},
  };
  for (const Usage& u : usage) {
    CAPTURE(u.said);
    r = nbtest::run_tool("nb-compare", u.args, dir.path());
    CHECK(r.exit_code == 1);
    CHECK(r.err.find(u.said) != std::string::npos);
  }
  CHECK_FALSE(fs::exists(dir / "comparisons"));
}

namespace {
/// A version 1.0 .npy of little-endian float32, shape (slow, fast), as numpy writes it.
std::string npy_f4(std::size_t fast, std::size_t slow, const std::vector<float>& v) {
  std::string dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (" + std::to_string(slow) + ", " +
                     std::to_string(fast) + "), }";
  while ((10 + dict.size() + 1) % 64 != 0) dict += ' ';
  dict += '\n';
  std::string out = std::string("\x93NUMPY\x01\x00", 8);
  out += static_cast<char>(dict.size() & 0xff);
  out += static_cast<char>(dict.size() >> 8);
  return out + dict + std::string(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(float));
}
}  // namespace

TEST_CASE("images in other formats: an .npy against a raw file, its shape from its header; unknown formats named") {
  nbtest::TempDir dir;
  std::vector<float> v(6 * 4);
  for (std::size_t i = 0; i < v.size(); ++i) v[i] = static_cast<float>((i * 37) % 11) + 0.5f;
  nbtest::write_file(dir / "ref.npy", npy_f4(6, 4, v));
  nbtest::write_file(dir / "test.bin", std::string(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(float)));
  // No --fpixels/--spixels: the .npy gives 6x4, the raw test is read at that shape.
  auto r = nbtest::run_tool("nb-compare", {"images", (dir / "ref.npy").string(), (dir / "test.bin").string(), "--outdir",
                                           (dir / "o").string(), "--threshold", "0.9999999"});
  CHECK_MESSAGE(r.exit_code == 0, r.err);
  auto j = nlohmann::json::parse(nbtest::read_file(dir / "o/summary.json"));
  CHECK(j["metrics"]["correlation"] == 1.0);
  CHECK(j["metrics"]["pixels"] == 24);
  CHECK(j["ref"]["format"] == ".npy");
  CHECK(j["test"]["format"] == "raw float32");
  CHECK(j["ref"]["shape"] == nlohmann::json::array({6, 4}));
  // The other way round: the raw reference needs its shape.
  r = nbtest::run_tool("nb-compare", {"images", (dir / "test.bin").string(), (dir / "ref.npy").string(), "--outdir",
                                      (dir / "o2").string()});
  CHECK(r.exit_code == 1);
  CHECK(r.err == "nb-compare: error: " + (dir / "test.bin").string() +
                     " is a raw float32 image: give --fpixels and --spixels\n");
  CHECK_FALSE(fs::exists(dir / "o2"));
  r = compare_images(dir / "test.bin", dir / "ref.npy", 6, 4, dir / "o2");
  CHECK(r.exit_code == 0);
  // Given flags that disagree with the header: both shapes named, exit 5, nothing written.
  r = compare_images(dir / "ref.npy", dir / "test.bin", 4, 6, dir / "o3");
  CHECK(r.exit_code == 5);
  CHECK(r.err == "nb-compare: error: " + (dir / "ref.npy").string() +
                     ": the file's shape is 6x4 (fast x slow), --fpixels/--spixels is 4x6\n");
  CHECK_FALSE(fs::exists(dir / "o3"));
  r = nbtest::run_tool("nb-compare", {"images", (dir / "ref.npy").string(), (dir / "test.bin").string(), "--fpixels", "6"});
  CHECK(r.exit_code == 1);
  CHECK(r.err == "nb-compare: error: --fpixels and --spixels go together\n");
  r = nbtest::run_tool("nb-compare", {"images", (dir / "ref.npy").string(), (dir / "test.bin").string(), "--fpixels", "0",
                                      "--spixels", "4"});
  CHECK(r.exit_code == 1);
  CHECK(r.err.find("--fpixels: must be positive") != std::string::npos);

  // --resample with a test image of another format and shape: a 3x2 .npy to the 6x4 raw reference.
  nbtest::write_file(dir / "small.npy", npy_f4(3, 2, {1, 2, 3, 4, 5, 6}));
  r = compare_images(dir / "test.bin", dir / "small.npy", 6, 4, dir / "o4");
  CHECK(r.exit_code == 4);
  CHECK(r.out.find("shape mismatch: reference 6x4, test 3x2") != std::string::npos);
  r = compare_images(dir / "test.bin", dir / "small.npy", 6, 4, dir / "o5", {"--resample"});
  CHECK(r.exit_code == 0);
  j = nlohmann::json::parse(nbtest::read_file(dir / "o5/summary.json"));
  CHECK(j["test"]["shape"] == nlohmann::json::array({3, 2}));
  CHECK(j["resample_note"] == "test resampled (nearest neighbour) from 3x2 to 6x4");
  r = compare_images(dir / "test.bin", dir / "small.npy", 6, 4, dir / "o6", {"--test-fpixels", "2", "--test-spixels", "3"});
  CHECK(r.exit_code == 5);
  CHECK(r.err == "nb-compare: error: " + (dir / "small.npy").string() +
                     ": the file's shape is 3x2 (fast x slow), --test-fpixels/--test-spixels is 2x3\n");

  // An SMV reference (big-endian, as another machine wrote it) against the .npy of the same values.
  std::string smv = "{\nHEADER_BYTES=512;\nDIM=2;\nBYTE_ORDER=big_endian;\nTYPE=unsigned_short;\nSIZE1=3;\nSIZE2=2;\n}\f";
  smv.append(512 - smv.size(), ' ');
  for (int p : {1, 2, 3, 4, 5, 6}) smv += std::string{'\0', static_cast<char>(p)};
  nbtest::write_file(dir / "frame.img", smv);
  r = nbtest::run_tool("nb-compare", {"images", (dir / "frame.img").string(), (dir / "small.npy").string(), "--outdir",
                                      (dir / "o7").string()});
  CHECK_MESSAGE(r.exit_code == 0, r.err);
  j = nlohmann::json::parse(nbtest::read_file(dir / "o7/summary.json"));
  CHECK(j["ref"]["format"] == "SMV");
  CHECK(j["metrics"]["max_abs_diff"] == 0);

  // A format told by its content that nb-compare does not read: named, exit 5.
  nbtest::write_file(dir / "x.tif", std::string("II*\0\x08\0\0\0", 8) + std::string(88, '\0'));
  r = nbtest::run_tool("nb-compare", {"images", (dir / "x.tif").string(), (dir / "test.bin").string(), "--fpixels", "6",
                                      "--spixels", "4"});
  CHECK(r.exit_code == 5);
  CHECK(r.err == "nb-compare: error: " + (dir / "x.tif").string() +
                     ": not an image format nb-compare or nbparity reads (TIFF?); formats: raw float32, .npy, SMV, CBF\n");
}
