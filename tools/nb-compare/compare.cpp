// nb-compare's body: the parity engine on two images (stored, or written by
// two programs run here), then the previews, summary.json and the verdict.
#include "compare.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fmt/chrono.h>
#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <ostream>

#include "nbtrace/base/error.hpp"
#include "nbtrace/base/files.hpp"
#include "nbtrace/base/paths.hpp"
#include "nbtrace/base/shell.hpp"
#include "nbtrace/base/version.hpp"
#include "nbtrace/bundle/sha256.hpp"
#include "nbtrace/parity/engine.hpp"
#include "nbtrace/parity/image_json.hpp"
#include "peer_summary.hpp"
#include "programs.hpp"

namespace nbtrace {

namespace fs = std::filesystem;
using json = nlohmann::ordered_json;

namespace {

/// nb-compare's own files in its output folder (runner mode's program
/// outputs are the programs'): every run writes some of them as one set.
constexpr const char* kOwnFiles[] = {"ref.png", "test.png", "c.png", "py.png", "diff.png", "diff.bin", "summary.json"};

/// How a run names its two sides: the labels prefix their files.
struct Layout {
  std::string ref, test;            ///< "ref"/"test", or nb_compare.py's "c"/"py"
  std::string ref_shown, test_shown;  ///< in printed lines: "C", "Py"
  bool always_diff_png = false;     ///< nb_compare.py writes diff.png on every run
  bool default_threshold = false;   ///< the threshold was not given: say so
};
const Layout kOwnLayout{"ref", "test", "ref", "test", false, false};
Layout peer_layout() { return {"c", "py", "C", "Py", true, false}; }

struct OutputFolder {
  fs::path path;
  bool created = false;  ///< made by this run (removed again when its set fails and it is empty)
};

/// The output folder: the given one, or a fresh comparisons/<time>-<hash>;
/// made now when `create` (runner mode: the programs write into it), else
/// by the output set's commit.
OutputFolder output_folder(const std::string& requested, const std::string& hash_input, bool create) {
  OutputFolder out{requested, false};
  if (out.path.empty()) {
    const std::string base = fmt::format("comparisons/{:%Y%m%d-%H%M%S}-{}", fmt::gmtime(std::time(nullptr)),
                                         sha256_hex(hash_input).substr(0, 8));
    out.path = base;
    for (int i = 2; fs::exists(out.path); ++i) out.path = base + "-" + std::to_string(i);
  }
  std::error_code ec;
  out.created = !fs::exists(out.path, ec);
  if (create) {
    fs::create_directories(out.path, ec);
    if (ec) throw OutputError(out.path.string() + ": cannot create output folder: " + ec.message());
  }
  return out;
}

/// The files of one run, committed together with summary.json.
struct OutputSet {
  AtomicFileSet files;
  std::vector<std::string> names;
  void add(const fs::path& dir, const std::string& name, std::string content) {
    files.add(dir / name, std::move(content));
    names.push_back(name);
  }
};

std::string file_sha256(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return "";
  std::vector<char> buf;
  const FdHash h = sha256_fd(fd, buf);
  ::close(fd);
  return h.ok ? h.hex : "";
}

/// The plan both modes share: no traces, nb-compare's metric options.
ParityPlan images_plan(const CompareCommonOptions& c) {
  ParityPlan plan;
  plan.compare.roi = c.roi;
  plan.compare.top_peaks = c.peaks;
  plan.compare.peak_percentile = c.peak_percentile;
  plan.compare.peak_gate = c.peak_gate;
  plan.resample = c.resample;
  plan.thresholds.correlation_min = c.threshold;
  plan.keep_evidence = true;  // for the previews
  return plan;
}

std::string shape_text(const std::optional<image::Shape>& s) {
  return s ? fmt::format("{}x{}", s->fast, s->slow) : std::string("?");
}

/// The verdict's lines: printed, and kept in summary.json as "messages".
void say(const std::string& line, json& summary, std::ostream& out) {
  out << line << "\n";
  summary["messages"].push_back(line);
}

std::string resample_note(const ImageComparison& cmp) {
  return fmt::format("test resampled (nearest neighbour) from {} to {}", shape_text(cmp.test_resampled_from),
                     shape_text(cmp.shape));
}

/// The comparison's report: previews and summary fields into `set`, the
/// metrics and verdict lines on `out`; the exit code (the engine's verdict:
/// 0 pass, 3 below --threshold, 4 shapes differ or an image is invalid).
int report(const ParityResult& r, const CompareCommonOptions& c, const Layout& layout, const fs::path& dir,
           json& summary, OutputSet& set, std::ostream& out) {
  summary["verdict"] = std::string(verdict_name(r.verdict));
  summary["messages"] = json::array();
  if (r.verdict == Verdict::shape_mismatch) {
    say(fmt::format("shape mismatch: reference {}, test {} (use --resample)", shape_text(r.ref.shape),
                    shape_text(r.test.shape)),
        summary, out);
    summary["error"] = "shape mismatch";
    return r.exit_code();
  }
  const ImageComparison& cmp = *r.images;
  const image::Metrics& m = cmp.metrics;
  const image::Image& ref = *cmp.ref_image;
  const image::Image& test = *cmp.test_image;

  // Previews share one scale: the union percentile of both images' finite
  // values over the ROI.
  std::vector<float> both;
  both.reserve(2 * m.pixels);
  for (const image::Image* img : {&ref, &test}) {
    for (std::size_t s = m.roi.ymin; s <= m.roi.ymax; ++s) {
      for (std::size_t f = m.roi.xmin; f <= m.roi.xmax; ++f) both.push_back(img->at(s, f));
    }
  }
  const double vmax = image::percentile(std::move(both), c.png_scale);
  set.add(dir, layout.ref + ".png", image::png_preview(ref, m.roi, vmax));
  set.add(dir, layout.test + ".png", image::png_preview(test, m.roi, vmax));
  if (c.save_diff || layout.always_diff_png) {
    std::vector<float> diff(ref.data.size());
    for (std::size_t i = 0; i < diff.size(); ++i) diff[i] = test.data[i] - ref.data[i];
    std::vector<float> mag(diff.size());
    for (std::size_t i = 0; i < diff.size(); ++i) mag[i] = std::fabs(diff[i]);
    const double dmax = image::percentile(std::move(mag), c.png_scale);
    set.add(dir, "diff.png", image::png_diff(ref, test, m.roi, dmax));
    if (c.save_diff) {
      set.add(dir, "diff.bin", std::string(reinterpret_cast<const char*>(diff.data()), diff.size() * sizeof(float)));
    }
  }

  summary["resample"] = c.resample;
  if (cmp.test_resampled_from) summary["resample_note"] = resample_note(cmp);
  summary["metrics"] = m;
  summary["failed_checks"] = cmp.failed_checks;
  summary["png_scale_method"] = "percentile";  // nb_compare.py's word
  summary["png_scale_note"] = "linear, 0 to the percentile of both images' finite values over the ROI";
  summary["png_scale_percentile"] = c.png_scale;
  summary["png_scale_value"] = vmax;
  summary["threshold"] = c.threshold ? json(*c.threshold) : json(nullptr);
  summary["threshold_default"] = layout.default_threshold;

  out << fmt::format(
      "correlation {}  rmse {:.6g}  max|diff| {:.6g} at (slow {}, fast {})  sum ratio {}  peaks matched {}/{} "
      "(mean {:.2f} px, max {:.2f} px){}\n",
      m.correlation ? fmt::format("{:f}", *m.correlation) : "undefined", m.rmse, m.max_abs_diff, m.max_abs_diff_slow,
      m.max_abs_diff_fast, m.sum_ratio ? fmt::format("{:f}", *m.sum_ratio) : "n/a", m.peaks.matched,
      m.peaks.ref_peaks, m.peaks.mean_displacement, m.peaks.max_displacement,
      m.compared < m.pixels ? fmt::format("  over {} of {} pixels", m.compared, m.pixels) : std::string());
  for (const std::string& why : image::invalid_messages(m)) say(why, summary, out);
  if (std::find(cmp.failed_checks.begin(), cmp.failed_checks.end(), "correlation") != cmp.failed_checks.end()) {
    const std::string which = layout.default_threshold ? " (the default; --threshold T sets another)" : "";
    say(m.correlation ? fmt::format("correlation below threshold {:g}{}", *c.threshold, which)
                      : fmt::format("correlation undefined ({}), threshold {:g}{}",
                                    m.compared ? "an image is constant" : "nothing compared", *c.threshold, which),
        summary, out);
  }
  return r.exit_code();
}

/// Commits the run's set with summary.json; then removes nb-compare files an
/// earlier run left in the folder that this set does not have, so the folder
/// never mixes two runs. A failed commit leaves the folder as it was (and
/// removes it when this run made it and it is empty).
void finish(const OutputFolder& dir, json& summary, int exit, OutputSet& set, std::ostream& out) {
  summary["exit_code"] = exit;
  std::vector<std::string> listed = set.names;
  listed.emplace_back("summary.json");
  summary["outputs"] = listed;
  set.add(dir.path, "summary.json", summary.dump(2) + "\n");
  try {
    set.files.commit();
  } catch (...) {
    std::error_code ec;
    if (dir.created) fs::remove(dir.path, ec);  // only when empty
    throw;
  }
  for (const char* name : kOwnFiles) {
    if (std::find(listed.begin(), listed.end(), name) != listed.end()) continue;
    std::error_code ec;
    if (fs::is_regular_file(dir.path / name, ec)) fs::remove(dir.path / name, ec);
  }
  std::string names;
  for (const std::string& n : listed) names += (names.empty() ? "" : ", ") + n;
  out << "outputs: " << printable(dir.path.string()) << "/ (" << names << ")\n";
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

/// A program side writing into the output folder: its own working folder
/// (<side>_run/), <side>_float.bin, <side>_stdout.txt, <side>_stderr.txt.
ParitySide program_side(const std::string& name, const std::vector<std::string>& command, const fs::path& dir) {
  ParitySide s{name, SideProgram{command}, {}, std::nullopt};
  s.files.work_dir = dir / (name + "_run");
  s.files.image = (dir / (name + "_float.bin")).string();
  s.files.stdout_file = dir / (name + "_stdout.txt");
  s.files.stderr_file = dir / (name + "_stderr.txt");
  return s;
}

/// The two programs of a runner-mode run and how their sides are named.
struct RunnerPrograms {
  Layout layout;
  ResolvedProgram ref, test;
};

/// --ref-bin/--test-bin name the sides ref and test (nb-compare's own
/// options); otherwise they are nb_compare.py's c and py, found its way.
RunnerPrograms runner_programs(const CompareRunOptions& opt) {
  const bool own = !opt.ref_bin.empty() || !opt.test_bin.empty();
  if (own && (!opt.c_bin.empty() || !opt.py_bin.empty())) {
    throw UsageError("--ref-bin/--test-bin (sides ref and test) and --c-bin/--py-bin (nb_compare.py's sides c and py) "
                     "do not mix");
  }
  if (!own) return {peer_layout(), find_c_program(opt.c_bin), find_py_program(opt.py_bin)};
  ResolvedProgram ref;
  if (!opt.ref_bin.empty()) {
    ref = program_from_value(opt.ref_bin, "--ref-bin", false);
  } else if (const char* env = std::getenv("NB_C_BIN"); env && *env) {
    ref = program_from_value(env, "NB_C_BIN", false);
  } else {
    throw UsageError("no reference program: give --ref-bin PATH or set NB_C_BIN");
  }
  ResolvedProgram test = opt.test_bin.empty() ? program_from_value(sibling_tool("nbsim"), "nbsim beside nb-compare", false)
                                              : program_from_value(opt.test_bin, "--test-bin", false);
  return {kOwnLayout, std::move(ref), std::move(test)};
}

/// nb_compare.py's flat summary keys, from a run whose images were compared.
PeerSummary peer_summary(const ParityResult& r, const CompareRunOptions& opt, const CompareCommonOptions& c) {
  const ImageComparison& cmp = *r.images;
  const image::Metrics& m = cmp.metrics;
  PeerSummary p;
  static_cast<image::PeerImageMetrics&>(p) = image::peer_image_metrics(m);
  if (m.peaks.matched > 0) {
    p.mean_peak_distance = m.peaks.mean_displacement;
    p.max_peak_distance = m.peaks.max_displacement;
  }
  // Whole milliseconds, truncated: the peer's int(seconds * 1000).
  p.runtime_c_ms = static_cast<std::int64_t>(r.ref.seconds * 1000.0);
  p.runtime_py_ms = static_cast<std::int64_t>(r.test.seconds * 1000.0);
  if (r.test.seconds > 0) p.speedup = r.ref.seconds / r.test.seconds;
  p.args = opt.args;
  p.roi = c.roi ? std::optional<std::array<std::size_t, 4>>({c.roi->xmin, c.roi->xmax, c.roi->ymin, c.roi->ymax})
                : std::nullopt;
  p.resample = c.resample;
  p.png_scale_percentile = c.png_scale;
  if (cmp.test_resampled_from) p.resample_note = resample_note(cmp);
  return p;
}

/// `flat` first, then the keys of `summary` it does not have.
json flat_first(const json& flat, const json& summary) {
  json out = flat;
  for (const auto& [key, value] : summary.items()) {
    if (!out.contains(key)) out[key] = value;
  }
  return out;
}

}  // namespace

int run_compare_images(const CompareImagesOptions& opt, std::ostream& out, std::ostream& /*err*/) {
  // --fpixels/--spixels: the raw reference's shape; optional (a check) for
  // a self-describing one (.npy, SMV, CBF). 0 is "not given": CLI11 refuses 0.
  if ((opt.fpixels == 0) != (opt.spixels == 0)) throw UsageError("--fpixels and --spixels go together");
  std::optional<image::Shape> ref_given;
  if (opt.fpixels) ref_given = image::Shape{opt.fpixels, opt.spixels};
  // Read before creating anything: an unreadable input leaves no folder.
  const image::ImageFormat ref_format = image::image_format(opt.ref);
  if (!ref_given && ref_format == image::ImageFormat::raw_float32) {
    throw UsageError(printable(opt.ref) + " is a raw float32 image: give --fpixels and --spixels");
  }
  const image::Shape ref_shape = image::read_image(opt.ref, ref_given, "--fpixels/--spixels").shape();  // its error first
  std::size_t tf = opt.test_fpixels ? opt.test_fpixels : ref_shape.fast;
  std::size_t ts = opt.test_spixels ? opt.test_spixels : ref_shape.slow;
  ParityPlan plan = images_plan(opt.common);
  plan.ref = {"ref", StoredOutputs{opt.ref, {}}, {}, ref_shape};
  const image::ImageFormat test_format = image::image_format(opt.test);
  std::optional<image::Shape> test_shape;
  if (test_format == image::ImageFormat::raw_float32) {
    const std::size_t test_count = image::float_count(opt.test);
    if (test_count != tf * ts) {
      // A square test image of another size is still readable for the report.
      const auto side = static_cast<std::size_t>(std::llround(std::sqrt(static_cast<double>(test_count))));
      if (side * side != test_count) {
        throw InputError(opt.test + ": holds " + std::to_string(test_count) + " floats, not " + std::to_string(tf) +
                         "x" + std::to_string(ts) + "; give --test-fpixels/--test-spixels");
      }
      tf = ts = side;
    }
    test_shape = image::Shape{tf, ts};
  } else {
    // A self-describing test image gives its own shape; --test-* only check it.
    if (opt.test_fpixels || opt.test_spixels) test_shape = image::Shape{tf, ts};
    const image::Shape s = image::read_image(opt.test, test_shape, "--test-fpixels/--test-spixels").shape();
    tf = s.fast;
    ts = s.slow;
  }
  plan.test = {"test", StoredOutputs{opt.test, {}}, {}, test_shape};
  const ParityResult r = run_parity_plan(plan);
  // The folder is made by the commit: a run that fails before it leaves none.
  const OutputFolder dir = output_folder(opt.common.outdir, opt.ref + "\n" + opt.test, false);
  json summary = common_json(opt.common);
  summary["mode"] = "images";
  summary["ref"] = {{"path", opt.ref},
                    {"sha256", file_sha256(opt.ref)},
                    {"shape", ref_shape},
                    {"format", std::string(image::format_name(ref_format))}};
  summary["test"] = {{"path", opt.test},
                     {"sha256", file_sha256(opt.test)},
                     {"shape", image::Shape{tf, ts}},
                     {"format", std::string(image::format_name(test_format))}};
  OutputSet set;
  const int exit = report(r, opt.common, kOwnLayout, dir.path, summary, set, out);
  finish(dir, summary, exit, set, out);
  return exit;
}

int run_compare_programs(const CompareRunOptions& opt, std::ostream& out, std::ostream& err) {
  RunnerPrograms programs;
  try {
    programs = runner_programs(opt);
  } catch (const ProgramNotFound& e) {
    // Nothing has run and nothing is written: a program that cannot start.
    err << "nb-compare: error: " << printable(e.what()) << "\n";
    return exit_code::program_failed;
  }
  if (opt.args.empty()) throw UsageError("no simulator arguments (after the options, or after --)");
  Layout& layout = programs.layout;
  CompareCommonOptions common = opt.common;
  if (!common.threshold) {
    common.threshold = kDefaultThreshold;
    layout.default_threshold = true;
  }
  const bool peer = layout.ref == "c";
  if (peer) {
    out << "C program: " << printable(shell_join(programs.ref.command)) << " (" << programs.ref.source << ")\n";
    out << "Py program: " << printable(shell_join(programs.test.command)) << " (" << programs.test.source << ")\n";
  }
  const OutputFolder folder = output_folder(common.outdir, shell_join(opt.args), true);
  const fs::path& dir = folder.path;
  json summary = common_json(common);
  summary["mode"] = "run";
  summary["args"] = opt.args;

  // Input files are named by absolute path; the shape comes from each
  // program's output and arguments (nbsim is not asked for -stats_json here:
  // summary.json records the commands as they have always been).
  ParityPlan plan = images_plan(common);
  plan.args = opt.args;
  plan.ref = program_side(layout.ref, programs.ref.command, dir);
  plan.test = program_side(layout.test, programs.test.command, dir);
  ParityObserver progress;
  progress.side_done = [&](const SideResult& s) {
    const bool is_ref = s.label == layout.ref;
    const ResolvedProgram& p = is_ref ? programs.ref : programs.test;
    out << fmt::format("{} runtime: {:.3f} s ({}, exit {})\n", is_ref ? layout.ref_shown : layout.test_shown,
                       s.seconds, printable(s.command.front()), s.exit_code);
    summary[s.label] = {{"binary", s.command.front()},
                        {"found_by", p.source},
                        {"sha256", file_sha256(s.command.front())},
                        {"exit_code", s.exit_code},
                        {std::string("runtime_ms"), s.seconds * 1000.0},
                        {"command", shell_join(s.command)}};
  };
  const ParityResult r = run_parity_plan(plan, progress);
  OutputSet set;
  if (r.verdict == Verdict::program_failed) {
    err << "nb-compare: a runner failed; see " << printable(dir.string()) << "/*_stderr.txt\n";
    summary["verdict"] = std::string(verdict_name(r.verdict));
    finish(folder, summary, exit_code::program_failed, set, out);
    return exit_code::program_failed;
  }
  const int exit = report(r, common, layout, dir, summary, set, out);
  if (r.images) {
    PeerSummary p = peer_summary(r, opt, common);
    p.c_binary = shell_join(programs.ref.command);
    p.py_binary = shell_join(programs.test.command);
    summary = flat_first(json(p), summary);
  }
  finish(folder, summary, exit, set, out);
  return exit;
}

}  // namespace nbtrace
