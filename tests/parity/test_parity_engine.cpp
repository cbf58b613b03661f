// The parity engine on stand-in simulators written by the test (and on nbsim
// itself): stored against program sides, where files land, failures, shapes,
// the policy tolerance of nbparity run, and the results as JSON.
#include <sys/stat.h>

#include <algorithm>
#include <limits>
#include <nlohmann/json.hpp>
#include <sstream>

#include "nbtrace/base/error.hpp"
#include "nbtrace/parity/batch.hpp"
#include "nbtrace/parity/engine.hpp"
#include "nbtrace/parity/matrix.hpp"
#include "nbtrace/parity/parity.hpp"
#include "nbtrace/parity/simulator_args.hpp"
#include "test_support.hpp"

namespace fs = std::filesystem;
using namespace nbtrace;
using nlohmann::json;

namespace {

/// A stand-in simulator: copies the image named by -source to -floatfile;
/// with -trace_pixel S F prints (or writes to -trace_file) a two-field trace
/// whose I_before_scaling is -value; -print_shape FxS prints nanoBragg.c's
/// shape line; -fail CODE exits with CODE after an error message.
fs::path write_simulator(const fs::path& dir) {
  const fs::path p = dir / "sim.sh";
  nbtest::write_file(p, R"SH(#!/bin/sh
out=''; src=''; value=1; pixel=''; tfile=''; shape=''
while [ $# -gt 0 ]; do
  case "$1" in
    -floatfile) out=$2; shift;;
    -source) src=$2; shift;;
    -value) value=$2; shift;;
    -trace_pixel) pixel="$2 $3"; shift 2;;
    -trace_file) tfile=$2; shift;;
    -print_shape) shape=$2; shift;;
    -fail) echo "sim: error: asked to fail" >&2; exit $2;;
  esac
  shift
done
cp "$src" "$out" || exit 9
[ -n "$shape" ] && echo "detector ($shape pixels)"
if [ -n "$pixel" ]; then
  trace="TRACE_C: F_cell 100
TRACE_C: I_before_scaling $value"
  if [ -n "$tfile" ]; then echo "$trace" > "$tfile"; else echo "$trace"; fi
fi
exit 0
)SH");
  ::chmod(p.c_str(), 0755);
  return p;
}

/// A float32 image, fast-major, all `base` but for the given pixels.
void write_image(const fs::path& file, std::size_t fast, std::size_t slow, float base,
                 const std::vector<std::pair<std::size_t, float>>& pixels = {}) {
  std::vector<float> v(fast * slow, base);
  for (const auto& [i, value] : pixels) v[i] = value;
  nbtest::write_file(file, std::string(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(float)));
}

ParitySide program(const std::string& label, const fs::path& sim, std::vector<std::string> trailing) {
  SideProgram p{{sim.string()}};
  p.trailing_args = std::move(trailing);
  return {label, std::move(p), {}, std::nullopt};
}

}  // namespace

TEST_CASE("stored outputs against a program: images, the worst pixel traced, files where the plan says") {
  nbtest::TempDir dir;
  const fs::path sim = write_simulator(dir.path());
  // 4x3 images; the program's differs from the stored one at pixel (slow 2, fast 1) by 0.5.
  write_image(dir / "golden.bin", 4, 3, 1.0f);
  write_image(dir / "test_source.bin", 4, 3, 1.0f, {{2 * 4 + 1, 1.5f}});
  nbtest::write_file(dir / "golden_s2_f1.log", "TRACE_C: F_cell 100\nTRACE_C: I_before_scaling 2\n");

  ParityPlan plan;
  plan.ref = {"golden", StoredOutputs{dir / "golden.bin", {{{2, 1}, dir / "golden_s2_f1.log"}}}, {}, image::Shape{4, 3}};
  plan.test = program("test", sim, {"-value", "2.5"});
  plan.test.shape = image::Shape{4, 3};
  std::get<SideProgram>(plan.test.source).leading_args = {"-mode", "c-parity"};
  plan.test.files.work_dir = dir / "work";
  plan.test.files.image = "test_image.bin";
  plan.test.files.image_copy = dir / "out/test_image.bin";
  plan.test.files.stdout_file = dir / "out/test_stdout.log";
  plan.test.files.trace = (dir / "out/traces/test_{pixel}.log").string();
  plan.args = {"-source", (dir / "test_source.bin").string()};
  plan.auto_pixels = 1;
  plan.diff.policy.rel = 1e-9;
  plan.diff_report = (dir / "out/diffs/{pixel}").string();
  plan.keep_evidence = true;
  std::vector<std::string> progress;
  ParityObserver observer;
  observer.side_done = [&](const SideResult& s) { progress.push_back("side " + s.label); };
  observer.images_done = [&](const ImageComparison&) { progress.push_back("images"); };
  observer.pixel_done = [&](const PixelResult& p) { progress.push_back("pixel " + pixel_name(p.pixel)); };
  const ParityResult r = run_parity_plan(plan, observer);

  CHECK(r.verdict == Verdict::divergent);
  CHECK(r.exit_code() == exit_code::divergence);
  CHECK(progress == std::vector<std::string>{"side test", "images", "pixel s2_f1"});
  // The program's command: its prefix, leading, shared, trailing arguments, then our -floatfile.
  CHECK(r.test.command == std::vector<std::string>{sim.string(), "-mode", "c-parity", "-source",
                                                   (dir / "test_source.bin").string(), "-value", "2.5", "-floatfile",
                                                   "test_image.bin"});
  CHECK(r.test.image == dir / "out/test_image.bin");
  CHECK(fs::exists(dir / "work/test_image.bin"));
  CHECK(fs::exists(dir / "out/test_stdout.log"));
  REQUIRE(r.images);
  CHECK(r.images->shape == image::Shape{4, 3});
  CHECK(r.images->metrics.max_abs_diff == 0.5);
  CHECK(r.images->metrics.max_abs_diff_slow == 2);
  CHECK(r.images->metrics.max_abs_diff_fast == 1);
  CHECK(r.images->max_abs_diff_rel == 0.5);  // over the reference maximum, 1
  // The one differing pixel, found by auto_pixels, traced and diffed.
  REQUIRE(r.pixels.size() == 1);
  const PixelResult& p = r.pixels[0];
  CHECK(p.pixel.slow == 2);
  CHECK(p.pixel.fast == 1);
  CHECK(p.ref_trace == dir / "golden_s2_f1.log");
  CHECK(p.test_trace == dir / "out/traces/test_s2_f1.log");
  CHECK(nbtest::read_file(p.test_trace) == "TRACE_C: F_cell 100\nTRACE_C: I_before_scaling 2.5\n");
  CHECK(p.num_compared == 2);
  CHECK(p.num_divergent == 1);
  CHECK(p.first_divergence == "I_before_scaling");
  REQUIRE(p.evidence);
  CHECK(p.evidence->diff.num_divergent == 1);
  const json report = json::parse(nbtest::read_file(dir / "out/diffs/s2_f1.json"));
  CHECK(report.dump().find("golden_s2_f1.log") != std::string::npos);
  CHECK(fs::exists(dir / "out/diffs/s2_f1.md"));

  SUBCASE("the result survives JSON") {
    const json j = r;
    const ParityResult back = j.get<ParityResult>();
    CHECK(json(back) == j);
    CHECK(back.verdict == Verdict::divergent);
    CHECK(back.test.command == r.test.command);
    REQUIRE(back.images);
    CHECK(back.images->metrics.max_abs_diff == 0.5);
    CHECK(back.images->metrics.roi.xmax == 3);
    REQUIRE(back.pixels.size() == 1);
    CHECK(back.pixels[0].first_divergence == "I_before_scaling");
    CHECK(back.pixels[0].test_trace == p.test_trace);
    CHECK_FALSE(back.pixels[0].evidence);  // evidence stays in memory
    CHECK(j["pixels"][0].contains("evidence") == false);
  }
}

TEST_CASE("a failing program is a result: verdict, exit code 2, its stderr; no traces") {
  nbtest::TempDir dir;
  const fs::path sim = write_simulator(dir.path());
  write_image(dir / "src.bin", 2, 2, 1.0f);
  ParityPlan plan;
  plan.ref = program("ref", sim, {});
  plan.test = program("nbsim (spec)", sim, {"-fail", "3"});
  plan.args = {"-source", (dir / "src.bin").string()};
  plan.pixels = {{0, 0}};
  const ParityResult r = run_parity_plan(plan);
  CHECK(r.verdict == Verdict::program_failed);
  CHECK(r.exit_code() == exit_code::program_failed);
  CHECK(r.ref.exit_code == 0);
  CHECK(r.test.exit_code == 3);
  REQUIRE(r.failures.size() == 1);
  CHECK(r.failures[0].what == "nbsim (spec) exited 3");
  CHECK(r.failures[0].message() == "nbsim (spec) exited 3: sim: error: asked to fail\n");
  CHECK_FALSE(r.images);
  CHECK(r.pixels.empty());
}

TEST_CASE("image shape: given, nbsim's summary, the printed line, -detpixels arguments, a square") {
  nbtest::TempDir dir;
  write_image(dir / "img.bin", 6, 4, 0.0f);
  const std::string img = (dir / "img.bin").string();
  nbsim::RunSummary summary;
  summary.fpixels = 8;
  summary.spixels = 3;
  const std::vector<std::string> args{"-detpixels_x", "6", "-detpixels_y", "4"};
  CHECK(image_shape(image::Shape{2, 12}, &summary, "(5x5 pixels)", args, img) == image::Shape{2, 12});
  CHECK(image_shape(std::nullopt, &summary, "(5x5 pixels)", args, img) == image::Shape{8, 3});
  CHECK(image_shape(std::nullopt, nullptr, "detector (12x2 pixels)\n", args, img) == image::Shape{12, 2});
  CHECK(image_shape(std::nullopt, nullptr, "no shape line (here)", args, img) == image::Shape{6, 4});
  CHECK(image_shape(std::nullopt, nullptr, "", {"-detpixels", "24", "-detpixels_s", "1"}, img) == image::Shape{24, 1});
  write_image(dir / "square.bin", 5, 5, 0.0f);
  CHECK(image_shape(std::nullopt, nullptr, "", {}, (dir / "square.bin").string()) == image::Shape{5, 5});
  CHECK_THROWS_AS(image_shape(std::nullopt, nullptr, "", {}, (dir / "missing.bin").string()), InputError);
}

TEST_CASE("programs that print no shape line: the 6x4 shape comes from -detpixels_x/_y") {
  nbtest::TempDir dir;
  const fs::path sim = write_simulator(dir.path());
  write_image(dir / "a.bin", 6, 4, 1.0f);
  write_image(dir / "b.bin", 6, 4, 1.0f, {{5, 2.0f}});
  ParityPlan plan;
  plan.ref = program("ref", sim, {"-source", (dir / "a.bin").string()});
  plan.test = program("test", sim, {"-source", (dir / "b.bin").string()});
  plan.args = {"-detpixels_x", "6", "-detpixels_y", "4"};
  const ParityResult r = run_parity_plan(plan);
  CHECK(r.verdict == Verdict::pass);  // no thresholds, nothing traced
  CHECK(r.ref.shape == image::Shape{6, 4});
  CHECK(r.test.shape == image::Shape{6, 4});
  REQUIRE(r.images);
  CHECK(r.images->metrics.max_abs_diff == 1.0);
  CHECK(r.images->metrics.max_abs_diff_slow == 0);
  CHECK(r.images->metrics.max_abs_diff_fast == 5);
  // A printed line wins over the arguments; a 3x8 reading of the files is another shape, and a mismatch.
  std::get<SideProgram>(plan.ref.source).trailing_args.insert(
      std::get<SideProgram>(plan.ref.source).trailing_args.end(), {"-print_shape", "3x8"});
  const ParityResult m = run_parity_plan(plan);
  CHECK(m.verdict == Verdict::shape_mismatch);
  CHECK(m.exit_code() == exit_code::check_failed);
  CHECK(m.ref.shape == image::Shape{3, 8});
  CHECK(m.test.shape == image::Shape{6, 4});
  plan.resample = true;
  const ParityResult rs = run_parity_plan(plan);
  REQUIRE(rs.images);
  CHECK(rs.images->shape == image::Shape{3, 8});
  CHECK(rs.images->test_resampled_from == image::Shape{6, 4});
}

TEST_CASE("nbsim is asked for its run summary, which gives a shape no argument states") {
  nbtest::TempDir dir;
  const std::string nbsim = (nbtest::bin_dir() / "nbsim").string();
  ParityPlan plan;
  // 1.2 mm x 0.8 mm of 0.1 mm pixels: 12x8, which neither -detpixels nor the file size (96 floats) tells.
  const std::vector<std::string> sim_args{"-cell", "100", "100", "100", "90", "90", "90", "-default_F", "100", "-N", "3",
                                          "-lambda", "1", "-distance", "50", "-pixel", "0.1", "-detsize_f", "1.2",
                                          "-detsize_s", "0.8"};
  for (ParitySide* s : {&plan.ref, &plan.test}) {
    SideProgram p{{nbsim}};
    p.nbsim = true;
    *s = {s == &plan.ref ? "ref" : "test", p, {}, std::nullopt};
  }
  std::get<SideProgram>(plan.test.source).leading_args = {"-mode", "spec"};
  plan.args = sim_args;
  plan.pixels = {{3, 7}};
  plan.diff.policy.rel = 1e-9;
  const ParityResult r = run_parity_plan(plan);
  CHECK_MESSAGE(r.failures.empty(), (r.failures.empty() ? "" : r.failures[0].message()));
  REQUIRE(r.test.summary);
  CHECK(r.test.summary->fpixels == 12);
  CHECK(r.test.summary->spixels == 8);
  CHECK(r.test.summary->mode == "spec");
  CHECK(r.test.shape == image::Shape{12, 8});
  REQUIRE(r.images);
  CHECK(r.images->metrics.pixels == 96);
  CHECK(*r.images->metrics.correlation == doctest::Approx(1.0));  // one phi step: spec equals c-parity
  REQUIRE(r.pixels.size() == 1);
  CHECK(r.pixels[0].num_compared > 20);
  CHECK(r.pixels[0].num_divergent == 0);
  CHECK(r.verdict == Verdict::pass);
  // The image run asked for it.
  CHECK(std::find(r.test.command.begin(), r.test.command.end(), "-stats_json") != r.test.command.end());
}

TEST_CASE("nbparity run honours a policy file's tolerance_rel; --trace-tolerance wins over it") {
  nbtest::TempDir dir;
  const fs::path sim = write_simulator(dir.path());
  write_image(dir / "src.bin", 3, 3, 1.0f);
  // The traces differ by 1e-5 relative: above the default 1e-9, below the policy's 1e-4.
  nbtest::write_file(dir / "loose.json", R"({"tolerance_rel": 1e-4})");
  const auto run = [&](const std::string& name, std::optional<std::string> policy, std::optional<double> tolerance) {
    ParityRunOptions o;
    o.tool = "nbparity";
    o.ref_bin = sim.string();
    o.test_bin = sim.string();
    o.args = {"-source", (dir / "src.bin").string(), "-value", "100000"};
    o.test_extra_args = {"-value", "100001"};
    o.pixels = {{1, 1}};
    o.bundle_dir = (dir / name).string();
    if (policy) o.tolerances_file = (dir / *policy).string();
    o.trace_tolerance = tolerance;
    o.argv = {"nbparity", "run"};
    std::ostringstream notes;
    return run_parity(o, {}, notes);
  };
  const ParityBundle strict = run("strict", std::nullopt, std::nullopt);
  CHECK(strict.result.verdict == Verdict::divergent);
  CHECK(strict.result.pixels.at(0).tolerance_rel == 1e-9);
  const ParityBundle loose = run("loose", "loose.json", std::nullopt);
  CHECK(loose.result.verdict == Verdict::pass);
  CHECK(loose.result.pixels.at(0).tolerance_rel == 1e-4);
  const json m = json::parse(nbtest::read_file(dir / "loose/metrics.json"));
  CHECK(m["trace_tolerance"] == 1e-4);
  CHECK(m["verdict"] == "PASS");
  CHECK(m["pixels"][0]["ref_trace"] == "traces/ref_s1_f1.log");
  const ParityBundle explicit_tol = run("explicit", "loose.json", 1e-9);
  CHECK(explicit_tol.result.verdict == Verdict::divergent);
  CHECK(json::parse(nbtest::read_file(dir / "explicit/metrics.json"))["trace_tolerance"] == 1e-9);
}

TEST_CASE("a NaN pixel fails a parity run whatever the thresholds: INVALID_IMAGE, exit 4, traced first") {
  nbtest::TempDir dir;
  const float nan = std::numeric_limits<float>::quiet_NaN();
  write_image(dir / "golden.bin", 4, 3, 1.0f);
  write_image(dir / "nan.bin", 4, 3, 1.0f, {{5, nan}, {7, nan}});  // (slow 1, fast 1) and (1, 3)
  ParityPlan plan;
  plan.ref = {"golden", StoredOutputs{dir / "golden.bin", {}}, {}, image::Shape{4, 3}};
  plan.test = {"test", StoredOutputs{dir / "nan.bin", {}}, {}, image::Shape{4, 3}};
  const ParityResult r = run_parity_plan(plan);  // no thresholds at all
  CHECK(r.verdict == Verdict::invalid_image);
  CHECK(r.exit_code() == exit_code::check_failed);
  REQUIRE(r.images);
  CHECK(r.images->failed_checks == std::vector<std::string>{"non_finite_test"});
  CHECK_FALSE(r.images->valid());
  CHECK(r.images->metrics.non_finite_test.count == 2);
  CHECK(r.images->metrics.non_finite_test.first_fast == 1);
  CHECK(r.images->metrics.max_abs_diff == 0);  // the finite pixels agree
  const json j = r;
  CHECK(j["verdict"] == "INVALID_IMAGE");
  CHECK(j["images"]["metrics"]["non_finite_test"]["first"]["value"] == "nan");
  CHECK(j.get<ParityResult>().verdict == Verdict::invalid_image);
  // The NaN pixels are the worst: traced first, by index.
  const auto worst = worst_pixels(image::load_float_image((dir / "golden.bin").string(), 4, 3),
                                  image::load_float_image((dir / "nan.bin").string(), 4, 3), 5);
  REQUIRE(worst.size() == 2);
  CHECK(worst[0].slow == 1);
  CHECK(worst[0].fast == 1);
  CHECK(worst[1].fast == 3);

  SUBCASE("nbparity run's bundle says so") {
    const fs::path sim = write_simulator(dir.path());
    ParityRunOptions o;
    o.tool = "nbparity";
    o.ref_bin = sim.string();
    o.test_bin = sim.string();
    o.args = {"-source", (dir / "golden.bin").string(), "-detpixels_x", "4", "-detpixels_y", "3"};
    o.test_extra_args = {"-source", (dir / "nan.bin").string()};  // the last -source wins
    o.correlation_min = 0.5;
    o.bundle_dir = (dir / "bundle").string();
    o.argv = {"nbparity", "run"};
    std::ostringstream notes;
    const ParityBundle b = run_parity(o, {}, notes);
    CHECK(b.result.verdict == Verdict::invalid_image);
    CHECK(b.result.exit_code() == exit_code::check_failed);
    const json m = json::parse(nbtest::read_file(dir / "bundle/metrics.json"));
    CHECK(m["verdict"] == "INVALID_IMAGE");
    CHECK(m["image"]["pass"] == false);
    CHECK(m["image"]["non_finite_test"]["count"] == 2);
    CHECK(m["image"]["compared_pixels"] == 10);
    CHECK(nbtest::read_file(dir / "bundle/summary.md")
              .find("- Invalid image: test image has 2 non-finite pixels (first at slow 1, fast 1: nan)") !=
          std::string::npos);
  }
  SUBCASE("a matrix case with a NaN golden image fails") {
    const fs::path sim = write_simulator(dir.path());
    fs::create_directories(dir / "case");
    write_image(dir / "case/image.bin", 4, 3, 1.0f, {{0, nan}});
    nbtest::write_file(dir / "case/case.json",
                       json{{"image_command", {"nanoBragg", "-source", (dir / "golden.bin").string()}},
                            {"fpixels", 4},
                            {"spixels", 3},
                            {"traces", json::array()}}
                           .dump());
    MatrixOptions opt;
    opt.test_bin = sim.string();
    MatrixCase nan_case;
    nan_case.id = "nan_case";
    nan_case.golden = (dir / "case").string();
    const CaseResult c = run_matrix_case(nan_case, SuiteSchema::project,
                                         matrix_programs(opt, SuiteSchema::project), opt);
    CHECK_MESSAGE(c.error.empty(), c.error);
    CHECK_FALSE(c.pass);
    CHECK(c.failed_checks == std::vector<std::string>{"non_finite_ref"});
  }
}

TEST_CASE("results that travel between MPI ranks survive JSON: matrix cases, batch job outcomes") {
  CaseResult c;
  c.id = "phi_osc_256";
  c.correlation = 0.25;
  c.max_abs_diff_rel = 1e-3;
  c.traces = 2;
  c.traces_divergent = 1;
  c.first_divergence = "rot_a_angstroms";
  c.failed_checks = {"max_abs_diff_rel", "traces"};
  c.seconds = 1.5;
  const CaseResult cb = json(c).get<CaseResult>();
  CHECK(json(cb) == json(c));
  CHECK_FALSE(cb.sum_ratio);
  CHECK(cb.first_divergence == "rot_a_angstroms");

  JobOutcome sim;
  sim.status = "ok";
  sim.exit_code = 0;
  sim.device = "cpu (2 threads)";
  sim.metrics = SimulationStatistics{0.00999999, 0.00999655, 0.0100014, 2.21564e-06};
  const json sj = sim;
  CHECK(sj["metrics"] == json{{"max_I", 0.00999999}, {"mean", 0.00999655}, {"rms", 0.0100014}, {"rmsd", 2.21564e-06}});
  const JobOutcome simb = sj.get<JobOutcome>();
  CHECK(std::get<SimulationStatistics>(simb.metrics).rmsd == 2.21564e-06);
  CHECK(json(simb) == sj);

  JobOutcome par;
  par.status = "divergent";
  par.exit_code = exit_code::divergence;
  ParityJobSummary s;
  s.verdict = "DIVERGENT";
  s.image = ParityJobSummary::Image{std::nullopt, 1.0, 0.5, 0.25, {"correlation"}};
  s.traced_pixels = 2;
  s.divergent_pixels = 1;
  s.first_divergence = "F_latt";
  par.metrics = s;
  const json pj = par;
  CHECK(pj["metrics"]["correlation"].is_null());
  CHECK(pj["metrics"]["failed_checks"] == json::array({"correlation"}));
  const JobOutcome parb = pj.get<JobOutcome>();
  CHECK(std::get<ParityJobSummary>(parb.metrics).first_divergence == "F_latt");
  CHECK(json(parb) == pj);
  JobOutcome none;
  CHECK(json(none)["metrics"] == json::object());
  CHECK(std::holds_alternative<std::monostate>(json(none).get<JobOutcome>().metrics));
}
