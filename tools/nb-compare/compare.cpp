#include "compare.hpp"

#include <spawn.h>
#include <sys/wait.h>
#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <cmath>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <ostream>
#include <regex>
#include <sstream>

#include "nbtrace/base/files.hpp"
#include "nbtrace/base/error.hpp"
#include "nbtrace/base/files.hpp"
#include "nbtrace/base/paths.hpp"
#include "nbtrace/base/process.hpp"
#include "nbtrace/parity/simulator_args.hpp"
#include "nbtrace/bundle/sha256.hpp"
#include "nbtrace/base/shell.hpp"
#include "nbtrace/base/version.hpp"

extern char** environ;

namespace nbtrace {

namespace fs = std::filesystem;
using json = nlohmann::ordered_json;

namespace {

std::string utc_stamp() {
  const std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y%m%d-%H%M%S", &tm);
  return buf;
}

/// A fresh output folder: the given one, or comparisons/<time>-<hash>.
fs::path make_outdir(const std::string& requested, const std::string& hash_input) {
  fs::path dir = requested;
  if (dir.empty()) {
    const std::string base = "comparisons/" + utc_stamp() + "-" + sha256_hex(hash_input).substr(0, 8);
    dir = base;
    for (int i = 2; fs::exists(dir); ++i) dir = base + "-" + std::to_string(i);
  }
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) throw OutputError(dir.string() + ": cannot create output folder: " + ec.message());
  return dir;
}

std::string file_sha256(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return "";
  std::vector<char> buf;
  const FdHash h = sha256_fd(fd, buf);
  ::close(fd);
  return h.ok ? h.hex : "";
}

json opt_num(const std::optional<double>& v) { return v && std::isfinite(*v) ? json(*v) : json(nullptr); }

json metrics_json(const image::Metrics& m) {
  json j;
  j["roi"] = {m.roi.xmin, m.roi.xmax, m.roi.ymin, m.roi.ymax};
  j["pixels"] = m.pixels;
  j["correlation"] = opt_num(m.correlation);
  j["mse"] = m.mse;
  j["rmse"] = m.rmse;
  j["max_abs_diff"] = m.max_abs_diff;
  j["max_abs_diff_at"] = {{"slow", m.max_abs_diff_slow}, {"fast", m.max_abs_diff_fast}};
  j["sum_ref"] = m.sum_ref;
  j["sum_test"] = m.sum_test;
  j["sum_ratio"] = opt_num(m.sum_ratio);
  auto peaks = [](const std::vector<image::Peak>& v) {
    json a = json::array();
    for (const auto& p : v) a.push_back({{"slow", p.slow}, {"fast", p.fast}, {"value", p.value}});
    return a;
  };
  j["peaks"] = {{"ref_found", m.peaks.ref_peaks},
                {"test_found", m.peaks.test_peaks},
                {"matched", m.peaks.matched},
                {"matched_fraction", m.peaks.matched_fraction},
                {"mean_displacement_px", m.peaks.mean_displacement},
                {"max_displacement_px", m.peaks.max_displacement},
                {"ref", peaks(m.ref_peaks)},
                {"test", peaks(m.test_peaks)}};
  return j;
}

struct Compared {
  image::Metrics metrics;
  int exit = exit_code::ok;
  std::string resample_note;
};

/// The shared second half: resample, compare, previews, summary, verdict.
Compared compare_and_report(image::Image ref, image::Image test, const CompareCommonOptions& c, const fs::path& dir,
                            json& summary, std::ostream& out) {
  Compared r;
  if (ref.fast != test.fast || ref.slow != test.slow) {
    if (!c.resample) {
      out << "shape mismatch: reference " << ref.fast << "x" << ref.slow << ", test " << test.fast << "x" << test.slow
          << " (use --resample)\n";
      summary["error"] = "shape mismatch";
      r.exit = exit_code::check_failed;
      return r;
    }
    r.resample_note = "test resampled (nearest neighbour) from " + std::to_string(test.fast) + "x" +
                      std::to_string(test.slow) + " to " + std::to_string(ref.fast) + "x" + std::to_string(ref.slow);
    test = image::resample_nearest(test, ref.fast, ref.slow);
  }
  image::CompareOptions co;
  co.roi = c.roi;
  co.top_peaks = c.peaks;
  co.peak_percentile = c.peak_percentile;
  co.peak_gate = c.peak_gate;
  r.metrics = image::compare(ref, test, co);
  const image::Metrics& m = r.metrics;

  // Previews share one scale: the union percentile of both images over the ROI.
  std::vector<float> both;
  both.reserve(2 * m.pixels);
  for (const image::Image* img : {&ref, &test}) {
    for (std::size_t s = m.roi.ymin; s <= m.roi.ymax; ++s) {
      for (std::size_t f = m.roi.xmin; f <= m.roi.xmax; ++f) both.push_back(img->at(s, f));
    }
  }
  const double vmax = image::percentile(both, c.png_scale);
  image::write_png_preview((dir / "ref.png").string(), ref, m.roi, vmax);
  image::write_png_preview((dir / "test.png").string(), test, m.roi, vmax);
  if (c.save_diff) {
    image::Image diff = ref;
    std::vector<float> mag;
    mag.reserve(diff.data.size());
    for (std::size_t i = 0; i < diff.data.size(); ++i) {
      diff.data[i] = test.data[i] - ref.data[i];
      mag.push_back(std::fabs(diff.data[i]));
    }
    const double dmax = image::percentile(mag, c.png_scale);
    image::write_png_diff((dir / "diff.png").string(), ref, test, m.roi, dmax);
    write_file_atomic(dir / "diff.bin",
                      std::string_view(reinterpret_cast<const char*>(diff.data.data()), diff.data.size() * sizeof(float)));
  }

  summary["resample"] = c.resample;
  if (!r.resample_note.empty()) summary["resample_note"] = r.resample_note;
  summary["metrics"] = metrics_json(m);
  summary["png_scale_method"] = "linear, 0 to the percentile of both images over the ROI";
  summary["png_scale_percentile"] = c.png_scale;
  summary["png_scale_value"] = vmax;
  summary["threshold"] = c.threshold ? json(*c.threshold) : json(nullptr);

  char line[512];
  std::snprintf(line, sizeof line,
                "correlation %s  rmse %.6g  max|diff| %.6g at (slow %zu, fast %zu)  sum ratio %s  peaks matched %zu/%zu "
                "(mean %.2f px, max %.2f px)\n",
                m.correlation ? std::to_string(*m.correlation).c_str() : "undefined", m.rmse, m.max_abs_diff,
                m.max_abs_diff_slow, m.max_abs_diff_fast, m.sum_ratio ? std::to_string(*m.sum_ratio).c_str() : "n/a",
                m.peaks.matched, m.peaks.ref_peaks, m.peaks.mean_displacement, m.peaks.max_displacement);
  out << line;
  if (c.threshold && !(m.correlation && *m.correlation >= *c.threshold)) {
    out << "correlation below threshold " << *c.threshold << "\n";
    r.exit = exit_code::divergence;
  }
  return r;
}

void finish(const fs::path& dir, json& summary, int exit, std::ostream& out) {
  summary["exit_code"] = exit;
  write_file_atomic(dir / "summary.json", summary.dump(2) + "\n");
  out << "outputs: " << dir.string() << "/ (summary.json, ref.png, test.png"
      << (summary.contains("metrics") && summary.value("save_diff", false) ? ", diff.png, diff.bin" : "") << ")\n";
}

json common_json(const CompareCommonOptions& c) {
  json j;
  j["tool"] = "nb-compare";
  j["version"] = std::string(version());
  j["roi"] = c.roi ? json::array({c.roi->xmin, c.roi->xmax, c.roi->ymin, c.roi->ymax}) : json(nullptr);
  j["save_diff"] = c.save_diff;
  j["peak_options"] = {{"top", c.peaks}, {"percentile", c.peak_percentile}, {"gate_px", c.peak_gate}};
  return j;
}

}  // namespace


int run_compare_images(const CompareImagesOptions& opt, std::ostream& out, std::ostream& /*err*/) {
  if (opt.fpixels == 0 || opt.spixels == 0) throw UsageError("--fpixels and --spixels must be positive");
  // Read before creating anything: an unreadable input leaves no folder.
  image::Image ref = image::load_float_image(opt.ref, opt.fpixels, opt.spixels);
  std::size_t tf = opt.test_fpixels ? opt.test_fpixels : opt.fpixels;
  std::size_t ts = opt.test_spixels ? opt.test_spixels : opt.spixels;
  const std::size_t test_count = image::float_count(opt.test);
  if (test_count != tf * ts) {
    // A square test image of another size is still readable for the report.
    const auto side = static_cast<std::size_t>(std::llround(std::sqrt(static_cast<double>(test_count))));
    if (side * side != test_count) {
      throw InputError(opt.test + ": holds " + std::to_string(test_count) + " floats, not " + std::to_string(tf) + "x" +
                       std::to_string(ts) + "; give --test-fpixels/--test-spixels");
    }
    tf = ts = side;
  }
  image::Image test = image::load_float_image(opt.test, tf, ts);
  const fs::path dir = make_outdir(opt.common.outdir, opt.ref + "\n" + opt.test);
  json summary = common_json(opt.common);
  summary["mode"] = "images";
  summary["ref"] = {{"path", opt.ref}, {"sha256", file_sha256(opt.ref)}, {"shape", {ref.fast, ref.slow}}};
  summary["test"] = {{"path", opt.test}, {"sha256", file_sha256(opt.test)}, {"shape", {test.fast, test.slow}}};
  const Compared c = compare_and_report(std::move(ref), std::move(test), opt.common, dir, summary, out);
  finish(dir, summary, c.exit, out);
  return c.exit;
}

int run_compare_programs(const CompareRunOptions& opt, std::ostream& out, std::ostream& err) {
  std::string ref_bin = opt.ref_bin;
  if (ref_bin.empty()) {
    if (const char* env = std::getenv("NB_C_BIN")) ref_bin = env;
  }
  if (ref_bin.empty()) throw UsageError("no reference program: give --ref-bin PATH or set NB_C_BIN");
  const std::string test_bin = opt.test_bin.empty() ? sibling_tool("nbsim") : opt.test_bin;
  if (opt.args.empty()) throw UsageError("no simulator arguments after --");
  const fs::path dir = make_outdir(opt.common.outdir, shell_join(opt.args));
  const std::vector<std::string> args = absolutize_inputs(opt.args);
  json summary = common_json(opt.common);
  summary["mode"] = "run";
  summary["args"] = opt.args;

  struct Side {
    const char* name;
    std::string bin;
    RunOutcome run;
  };
  Side sides[2] = {{"ref", ref_bin, {}}, {"test", test_bin, {}}};
  bool failed = false;
  for (Side& s : sides) {
    const fs::path work = dir / (std::string(s.name) + "_run");
    fs::create_directories(work);
    std::vector<std::string> argv{s.bin};
    const auto a = with_floatfile(args, dir / (std::string(s.name) + "_float.bin"));
    argv.insert(argv.end(), a.begin(), a.end());
    s.run = run_program(argv, work, dir / (std::string(s.name) + "_stdout.txt"), dir / (std::string(s.name) + "_stderr.txt"));
    out << s.name << " runtime: " << s.run.seconds << " s (" << s.bin << ", exit " << s.run.exit_code << ")\n";
    summary[s.name] = {{"binary", s.bin},
                       {"sha256", file_sha256(s.bin)},
                       {"exit_code", s.run.exit_code},
                       {std::string("runtime_ms"), s.run.seconds * 1000.0},
                       {"command", shell_join(argv)}};
    if (s.run.exit_code != 0) failed = true;
  }
  if (failed) {
    err << "nb-compare: a runner failed; see " << dir.string() << "/*_stderr.txt\n";
    finish(dir, summary, exit_code::program_failed, out);
    return exit_code::program_failed;
  }
  auto load = [&](Side& s) {
    const auto shape = shape_from_run(s.run.stdout_text, opt.args);
    const std::string path = (dir / (std::string(s.name) + "_float.bin")).string();
    std::size_t f = 0, sl = 0;
    if (shape) {
      f = shape->first;
      sl = shape->second;
    } else {
      const std::size_t n = image::float_count(path);
      f = sl = static_cast<std::size_t>(std::llround(std::sqrt(static_cast<double>(n))));
    }
    return image::load_float_image(path, f, sl);
  };
  image::Image ref = load(sides[0]);
  image::Image test = load(sides[1]);
  const Compared c = compare_and_report(std::move(ref), std::move(test), opt.common, dir, summary, out);
  finish(dir, summary, c.exit, out);
  return c.exit;
}

}  // namespace nbtrace
