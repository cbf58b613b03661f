// The parity engine: both sides' images, their comparison, the traced pixels
// and their diffs (see engine.hpp).
#include "nbtrace/parity/engine.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <fmt/format.h>

#include "nbtrace/base/error.hpp"
#include "nbtrace/base/files.hpp"
#include "nbtrace/base/paths.hpp"
#include "nbtrace/base/process.hpp"
#include "nbtrace/parity/simulator_args.hpp"
#include "nbtrace/trace/report.hpp"

namespace nbtrace {

namespace fs = std::filesystem;

namespace {

/// How much of a failed program's stderr a failure keeps (characters).
constexpr std::size_t kErrorOutputChars = 400;

std::string with_pixel(std::string pattern, const TracedPixel& p) {
  static constexpr std::string_view kToken = "{pixel}";
  for (std::size_t at; (at = pattern.find(kToken)) != std::string::npos;) pattern.replace(at, kToken.size(), pixel_name(p));
  return pattern;
}

std::string error_output(const fs::path& stderr_file) {
  std::error_code ec;
  if (!fs::exists(stderr_file, ec)) return "";
  return read_text_file(stderr_file).substr(0, kErrorOutputChars);
}

void make_parent(const fs::path& file) {
  if (file.has_parent_path()) fs::create_directories(file.parent_path());
}

/// One side while the plan runs: where its program works and what it was given.
struct Side {
  explicit Side(const ParitySide& p) : plan(p) {}
  const ParitySide& plan;
  const SideProgram* program = nullptr;  ///< null for stored outputs
  const StoredOutputs* stored = nullptr;
  fs::path work_dir;
  fs::path scratch;               ///< this side's scratch files
  std::vector<std::string> args;  ///< leading + shared + trailing
  SideResult result;
  std::string stdout_text;

  fs::path or_scratch(const fs::path& p, const char* name) const { return p.empty() ? scratch / name : p; }
};

class Engine {
 public:
  Engine(const ParityPlan& plan, const ParityObserver& observer)
      : plan_(plan), observer_(observer), ref_(plan.ref), test_(plan.test) {}

  ParityResult run() {
    prepare(ref_, "ref");
    prepare(test_, "test");
    image_step(ref_);
    image_step(test_);
    if (!result_.failures.empty()) return finish(Verdict::program_failed);
    std::vector<TracedPixel> pixels = plan_.pixels;
    if (has_image(ref_) && has_image(test_)) {
      if (!compare_images()) return finish(Verdict::shape_mismatch);
      for (const TracedPixel& p : worst_pixels(*ref_image_, *test_image_, plan_.auto_pixels)) {
        const bool seen = std::any_of(pixels.begin(), pixels.end(),
                                      [&](const TracedPixel& q) { return q.slow == p.slow && q.fast == p.fast; });
        if (!seen) pixels.push_back(p);
      }
    }
    trace_step(pixels);
    if (!result_.failures.empty()) return finish(Verdict::program_failed);
    // Nothing compared is no agreement: neither an image nor a pixel, or a
    // pixel whose traces have too little in common.
    const bool too_little = (!result_.images && result_.pixels.empty()) ||
                            std::any_of(result_.pixels.begin(), result_.pixels.end(), [](const PixelResult& p) {
                              return p.trace_verdict == DiffVerdict::not_compared;
                            });
    const bool traces_agree = std::all_of(result_.pixels.begin(), result_.pixels.end(), [](const PixelResult& p) { return p.pass(); });
    const bool images_agree = !result_.images || result_.images->pass();
    if (result_.images && !result_.images->valid()) return finish(Verdict::invalid_image);
    if (traces_agree && images_agree && too_little) return finish(Verdict::not_compared);
    return finish(traces_agree && images_agree ? Verdict::pass : Verdict::divergent);
  }

 private:
  const ParityPlan& plan_;
  const ParityObserver& observer_;
  Side ref_, test_;
  std::optional<ScratchDir> scratch_;  ///< made when a program side needs it
  ParityResult result_;
  std::shared_ptr<const image::Image> ref_image_, test_image_;

  ParityResult finish(Verdict v) {
    result_.ref = std::move(ref_.result);
    result_.test = std::move(test_.result);
    result_.verdict = v;
    return std::move(result_);
  }

  static bool has_image(const Side& s) { return s.program || !s.stored->image.empty(); }

  void prepare(Side& s, const char* name) {
    s.result.label = s.plan.label;
    if (const auto* stored = std::get_if<StoredOutputs>(&s.plan.source)) {
      s.stored = stored;
      s.result.image = stored->image;
      return;
    }
    s.program = &std::get<SideProgram>(s.plan.source);
    if (!scratch_) scratch_.emplace();
    s.scratch = scratch_->path() / name;
    fs::create_directories(s.scratch);
    s.work_dir = s.plan.files.work_dir.empty() ? s.scratch : s.plan.files.work_dir;
    fs::create_directories(s.work_dir);
    const std::vector<std::string> shared = plan_.inputs == InputStaging::copies
                                                ? stage_inputs(plan_.args, s.work_dir, plan_.inputs_base)
                                                : absolutize_inputs(plan_.args, plan_.inputs_base);
    s.args = s.program->leading_args;
    s.args.insert(s.args.end(), shared.begin(), shared.end());
    s.args.insert(s.args.end(), s.program->trailing_args.begin(), s.program->trailing_args.end());
  }

  std::vector<std::string> argv(const Side& s, const std::vector<std::string>& args, const std::string& floatfile) const {
    std::vector<std::string> out = s.program->command;
    const std::vector<std::string> a = with_floatfile(args, floatfile);
    out.insert(out.end(), a.begin(), a.end());
    return out;
  }

  void fail(const Side& s, const std::string& what, int code, const fs::path& stderr_file) {
    result_.failures.push_back({s.plan.label + what + " exited " + std::to_string(code), error_output(stderr_file)});
  }

  void image_step(Side& s) {
    if (!s.program) return;
    std::vector<std::string> args = s.args;
    // The shape comes from nbsim's own summary when nobody gave it.
    const fs::path summary_file = s.scratch / "stats.json";
    const bool ask_summary = s.program->nbsim && !s.plan.shape;
    if (ask_summary) args.insert(args.end(), {"-stats_json", summary_file.string()});
    const fs::path out = s.or_scratch(s.plan.files.stdout_file, "stdout.log");
    const fs::path err = s.or_scratch(s.plan.files.stderr_file, "stderr.log");
    make_parent(out);
    make_parent(err);
    s.result.command = argv(s, args, s.plan.files.image);
    const RunOutcome r = run_program(s.result.command, s.work_dir, out, err);
    s.result.exit_code = r.exit_code;
    s.result.seconds = r.seconds;
    s.stdout_text = r.stdout_text;
    const fs::path written(s.plan.files.image);
    s.result.image = written.has_parent_path() ? fs::absolute(written) : s.work_dir / written;
    if (r.exit_code == exit_code::ok) {
      if (!written.has_parent_path() && !s.plan.files.image_copy.empty()) {
        make_parent(s.plan.files.image_copy);
        fs::copy_file(s.result.image, s.plan.files.image_copy, fs::copy_options::overwrite_existing);
        s.result.image = s.plan.files.image_copy;
      }
      if (ask_summary) s.result.summary = nbsim::read_summary(summary_file.string());
    } else {
      fail(s, "", r.exit_code, err);
    }
    if (observer_.side_done) observer_.side_done(s.result);
  }

  image::Image load(Side& s) {
    const std::string path = s.result.image.string();
    // An .npy, SMV or CBF file gives its own shape (checked against the
    // plan's); the run's evidence of the shape is for a raw float32 image.
    std::optional<image::Shape> shape = s.plan.shape;
    if (!shape && image::image_format(path) == image::ImageFormat::raw_float32) {
      shape = image_shape(std::nullopt, s.result.summary ? &*s.result.summary : nullptr, s.stdout_text,
                          s.program ? s.args : std::vector<std::string>{}, path);
    }
    image::Image img = image::read_image(path, shape);
    s.result.shape = img.shape();
    return img;
  }

  /// False when the shapes differ and the plan does not resample.
  bool compare_images() {
    image::Image ref = load(ref_);
    image::Image test = load(test_);
    ImageComparison c;
    c.shape = ref.shape();
    if (test.shape() != ref.shape()) {
      if (!plan_.resample) return false;
      c.test_resampled_from = test.shape();
      test = image::resample_nearest(test, ref.fast, ref.slow);
    }
    c.metrics = image::compare(ref, test, plan_.compare);
    // The largest finite reference value: NaN would poison max_element.
    float ref_max = 0;
    for (const float v : ref.data)
      if (std::isfinite(v)) ref_max = std::max(ref_max, v);
    c.max_abs_diff_rel = ref_max > 0 ? c.metrics.max_abs_diff / ref_max : 0.0;
    c.failed_checks = failed_image_checks(plan_.thresholds, c.metrics, c.max_abs_diff_rel);
    ref_image_ = std::make_shared<const image::Image>(std::move(ref));
    test_image_ = std::make_shared<const image::Image>(std::move(test));
    if (plan_.keep_evidence) {
      c.ref_image = ref_image_;
      c.test_image = test_image_;
    }
    result_.images = std::move(c);
    if (observer_.images_done) observer_.images_done(*result_.images);
    return true;
  }

  /// Where the pixel's trace of side `s` is, running its program when it has one.
  std::optional<fs::path> trace(Side& s, const TracedPixel& p) {
    const std::string name = pixel_name(p);
    if (s.stored) {
      for (const StoredTrace& t : s.stored->traces)
        if (t.pixel.slow == p.slow && t.pixel.fast == p.fast) return t.file;
      result_.failures.push_back({s.plan.label + " has no trace of " + name, ""});
      return std::nullopt;
    }
    const fs::path file = with_pixel(s.plan.files.trace.empty() ? (s.scratch / "trace_{pixel}.log").string() : s.plan.files.trace, p);
    std::vector<std::string> command = argv(s, s.args, "trace_image.bin");
    command.insert(command.end(), {"-trace_pixel", std::to_string(p.slow), std::to_string(p.fast)});
    if (s.program->trace_file_flag) command.insert(command.end(), {"-trace_file", fs::absolute(file).string()});
    const fs::path out = s.program->trace_file_flag ? s.scratch / "trace_stdout.log" : file;
    const fs::path err = s.or_scratch(s.plan.files.trace_stderr, "trace_stderr.log");
    make_parent(err);
    const RunOutcome r = run_program(command, s.work_dir, out, err);
    if (r.exit_code != exit_code::ok) {
      fail(s, " trace of " + name, r.exit_code, err);
      return std::nullopt;
    }
    return file;
  }

  /// How a trace is named in its diff report: relative to the report's folder.
  std::string display_name(const fs::path& trace, const fs::path& report) const {
    return report.empty() ? trace.string() : relative_path(trace.string(), report.parent_path());
  }

  void trace_step(const std::vector<TracedPixel>& pixels) {
    // The trace and report folders exist even when no pixel is traced (the
    // bundle layouts always had them).
    for (const Side* s : {&ref_, &test_})
      if (s->program && !s->plan.files.trace.empty()) make_parent(s->plan.files.trace);
    if (!plan_.diff_report.empty()) make_parent(plan_.diff_report);
    for (const TracedPixel& p : pixels) {
      const std::optional<fs::path> ref_file = trace(ref_, p);
      const std::optional<fs::path> test_file = trace(test_, p);
      if (!ref_file || !test_file) return;
      const fs::path report = plan_.diff_report.empty() ? fs::path() : fs::path(with_pixel(plan_.diff_report, p));
      auto evidence = std::make_shared<PixelEvidence>();
      evidence->ref = parse_trace(read_text_file(*ref_file), display_name(*ref_file, report));
      evidence->test = parse_trace(read_text_file(*test_file), display_name(*test_file, report));
      evidence->diff = diff_traces(evidence->ref, evidence->test, plan_.diff);
      const DiffResult& d = evidence->diff;
      if (!report.empty()) {
        AtomicFileSet files;
        files.add(report.string() + ".json", diff_to_json(d));
        files.add(report.string() + ".md", diff_to_markdown(d));
        files.commit();
      }
      PixelResult r;
      r.pixel = p;
      r.ref_trace = *ref_file;
      r.test_trace = *test_file;
      if (d.first_divergence) {
        r.first_divergence = std::string(d.name(d.fields[*d.first_divergence]));
        r.first_divergence_label = d.field_label(d.fields[*d.first_divergence]);
      }
      r.num_compared = d.num_compared;
      r.num_divergent = d.num_divergent;
      r.num_waived = d.num_waived;
      r.num_non_finite = d.num_non_finite;
      r.trace_verdict = d.verdict();
      r.tolerance_rel = d.tolerance_rel;
      if (plan_.keep_evidence) r.evidence = std::move(evidence);
      if (observer_.pixel_done) observer_.pixel_done(r);
      result_.pixels.push_back(std::move(r));
    }
  }
};

}  // namespace

std::vector<std::string> failed_image_checks(const ImageThresholds& t, const image::Metrics& m, double max_abs_diff_rel) {
  std::vector<std::string> failed = image::invalid_checks(m);
  if (t.correlation_min && !(m.correlation && *m.correlation >= *t.correlation_min)) failed.push_back("correlation");
  if (t.sum_ratio && !(m.sum_ratio && *m.sum_ratio >= t.sum_ratio->first && *m.sum_ratio <= t.sum_ratio->second)) {
    failed.push_back("sum_ratio");
  }
  if (t.max_abs_diff && m.max_abs_diff > *t.max_abs_diff) failed.push_back("max_abs_diff");
  if (t.max_abs_diff_rel && max_abs_diff_rel > *t.max_abs_diff_rel) failed.push_back("max_abs_diff_rel");
  if (t.peaks_matched_min && m.peaks.matched_fraction < *t.peaks_matched_min) failed.push_back("peaks_matched");
  if (t.peaks_max_displacement && m.peaks.max_displacement > *t.peaks_max_displacement) {
    failed.push_back("peaks_displacement");
  }
  return failed;
}

std::string_view verdict_name(Verdict v) {
  switch (v) {
    case Verdict::pass: return "PASS";
    case Verdict::divergent: return "DIVERGENT";
    case Verdict::program_failed: return "RUNNER_FAILED";
    case Verdict::shape_mismatch: return "SHAPE_MISMATCH";
    case Verdict::invalid_image: return "INVALID_IMAGE";
    case Verdict::not_compared: return "NOT_COMPARED";
  }
  return "UNKNOWN";
}

int exit_code_of(Verdict v) {
  switch (v) {
    case Verdict::pass: return exit_code::ok;
    case Verdict::divergent: return exit_code::divergence;
    case Verdict::program_failed: return exit_code::program_failed;
    case Verdict::shape_mismatch: return exit_code::check_failed;
    case Verdict::invalid_image: return exit_code::check_failed;
    case Verdict::not_compared: return exit_code::check_failed;
  }
  return exit_code::failure;
}

std::string ParityFailure::message() const { return error_output.empty() ? what : what + ": " + error_output; }

std::string pixel_name(const TracedPixel& p) { return fmt::format("s{}_f{}", p.slow, p.fast); }

std::vector<TracedPixel> worst_pixels(const image::Image& ref, const image::Image& test, std::size_t k) {
  std::vector<std::pair<float, std::size_t>> d;
  d.reserve(ref.data.size());
  // A NaN difference (a NaN pixel, inf − inf) ranks as the worst: it is
  // where a trace is wanted, and NaN keys would break the ordering.
  for (std::size_t i = 0; i < ref.data.size(); ++i) {
    const float diff = std::fabs(test.data[i] - ref.data[i]);
    d.emplace_back(std::isnan(diff) ? std::numeric_limits<float>::infinity() : diff, i);
  }
  k = std::min(k, d.size());
  std::partial_sort(d.begin(), d.begin() + static_cast<std::ptrdiff_t>(k), d.end(),
                    [](const auto& a, const auto& b) { return a.first > b.first || (a.first == b.first && a.second < b.second); });
  std::vector<TracedPixel> out;
  for (std::size_t i = 0; i < k; ++i) {
    if (d[i].first == 0) break;  // identical pixels tell nothing
    out.push_back({static_cast<int>(d[i].second / ref.fast), static_cast<int>(d[i].second % ref.fast)});
  }
  return out;
}

ParityResult run_parity_plan(const ParityPlan& plan, const ParityObserver& observer) {
  return Engine(plan, observer).run();
}

}  // namespace nbtrace
