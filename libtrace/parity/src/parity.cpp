// nbparity run's bundle: the engine's plan for two programs, then
// metrics.json and summary.md rendered from the result, the commands.txt
// entry and the seal.
#include "nbtrace/parity/parity.hpp"

#include <chrono>
#include <cmath>
#include <filesystem>
#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <stdexcept>

#include "nbtrace/base/error.hpp"
#include "nbtrace/base/files.hpp"
#include "nbtrace/base/paths.hpp"
#include "nbtrace/base/version.hpp"
#include "nbtrace/bundle/bundle.hpp"
#include "nbtrace/parity/image_json.hpp"

namespace nbtrace {

namespace fs = std::filesystem;
using json = nlohmann::ordered_json;

namespace {

/// What metrics.json and summary.md say besides the engine's result.
struct RunContext {
  std::string id;
  fs::path bundle;
  std::string mode;
  std::string ref_bin, test_bin;
  std::vector<std::string> args;  ///< as recorded (paths relative)
  bool full_thresholds = false;   ///< a batch job's thresholds: every image check is reported
  std::optional<double> correlation_min;
  double trace_tolerance = 0;
};

/// A side of a run: its program, stdout, stderr and image in the bundle,
/// working on copies of the inputs in a scratch folder.
ParitySide program_side(const std::string& name, SideProgram program, const fs::path& bundle) {
  ParitySide s{name, std::move(program), {}, std::nullopt};
  s.files.image = name + "_image.bin";
  s.files.image_copy = bundle / s.files.image;
  s.files.stdout_file = bundle / (name + "_stdout.log");
  s.files.stderr_file = bundle / (name + "_stderr.log");
  s.files.trace = (bundle / "traces" / (name + "_{pixel}.log")).string();
  return s;
}

json metrics_document(const ParityResult& r, const RunContext& c) {
  json m;
  m["tool"] = "nbparity run";
  m["version"] = std::string(version());
  m["bundle_id"] = c.id;
  m["args"] = c.args;
  m["mode"] = c.mode.empty() ? json(nullptr) : json(c.mode);
  for (const SideResult* s : {&r.ref, &r.test}) {
    m["programs"][s->label] = {{"binary", fs::path(s->command.front()).filename().string()},
                               {"exit_code", s->exit_code},
                               {"runtime_s", s->seconds}};
  }
  if (r.images) {
    const image::Metrics& im = r.images->metrics;
    json& j = m["image"];
    j = {{"shape", r.images->shape},
         {"correlation", image::optional_number<json>(im.correlation)},
         {"rmse", im.rmse},
         {"max_abs_diff", im.max_abs_diff},
         {"max_abs_diff_at", {{"slow", im.max_abs_diff_slow}, {"fast", im.max_abs_diff_fast}}},
         {"sum_ref", im.sum_ref},
         {"sum_test", im.sum_test},
         {"sum_ratio", image::optional_number<json>(im.sum_ratio)},
         {"peaks_matched_fraction", im.peaks.matched_fraction},
         {"peaks_max_displacement_px", im.peaks.max_displacement},
         {"correlation_min", image::optional_number<json>(c.correlation_min)},
         {"compared_pixels", im.compared},
         {"non_finite_ref", im.non_finite_ref},
         {"non_finite_test", im.non_finite_test}};
    if (c.full_thresholds) {
      j["max_abs_diff_rel"] = r.images->max_abs_diff_rel;
      j["failed_checks"] = r.images->failed_checks;
    }
    j["pass"] = r.images->pass();
  }
  m["trace_tolerance"] = c.trace_tolerance;
  json pixels = json::array();
  for (const PixelResult& p : r.pixels) {
    pixels.push_back({{"slow", p.pixel.slow},
                      {"fast", p.pixel.fast},
                      {"ref_trace", relative_path(p.ref_trace.string(), c.bundle)},
                      {"test_trace", relative_path(p.test_trace.string(), c.bundle)},
                      {"first_divergence", p.first_divergence ? json(*p.first_divergence) : json(nullptr)},
                      {"num_divergent", p.num_divergent},
                      {"num_compared", p.num_compared},
                      {"num_waived", p.num_waived},
                      {"num_non_finite", p.num_non_finite},
                      {"status", std::string(verdict_name(p.trace_verdict))}});
  }
  m["pixels"] = pixels;
  if (!r.failures.empty()) {
    json failures = json::array();
    for (const ParityFailure& f : r.failures) failures.push_back(f.what);
    m["failures"] = failures;
  }
  m["verdict"] = std::string(verdict_name(r.verdict));
  return m;
}

std::string summary_markdown(const ParityResult& r, const RunContext& c) {
  std::string md = fmt::format("# Parity run {}\n\n", c.id);
  md += fmt::format("- Reference: `{}`; test: `{}`{}\n", fs::path(c.ref_bin).filename().string(),
                    fs::path(c.test_bin).filename().string(), c.mode.empty() ? "" : " (`-mode " + c.mode + "`)");
  md += fmt::format("- Verdict: **{}**\n", verdict_name(r.verdict));
  if (r.images) {
    const image::Metrics& im = r.images->metrics;
    const auto shown = [](const std::optional<double>& v, const char* none) {
      return v && std::isfinite(*v) ? fmt::format("{:f}", *v) : std::string(none);
    };
    md += fmt::format("- Image: correlation {}, max |Δ| {:f}, sum ratio {}\n", shown(im.correlation, "undefined"),
                      im.max_abs_diff, shown(im.sum_ratio, "n/a"));
    for (const std::string& why : image::invalid_messages(im)) md += "- Invalid image: " + why + "\n";
  }
  for (const ParityFailure& f : r.failures) md += "- Failure: " + f.what + "\n";
  if (!r.pixels.empty()) {
    md += fmt::format("\n## Traced pixels (relative tolerance {:g})\n\n", c.trace_tolerance);
    md += "| Pixel (slow, fast) | Fields compared | Divergent | First divergence | Status |\n|---|---|---|---|---|\n";
    for (const PixelResult& p : r.pixels) {
      md += fmt::format("| ({}, {}) | {} | {} | {} | {} |\n", p.pixel.slow, p.pixel.fast, p.num_compared,
                        p.num_divergent, p.first_divergence.value_or("—"), verdict_name(p.trace_verdict));
    }
    md += "\nPer-pixel reports: `diffs/`; traces: `traces/`.\n";
  }
  return md;
}

}  // namespace

ParityBundle run_parity(const ParityRunOptions& opt, const ParityObserver& observer, std::ostream& err) {
  // Checked first: the seal at the end would refuse after all the work.
  if (opt.tool.empty()) throw std::logic_error("run_parity: ParityRunOptions::tool names no tool");
  if (opt.ref_bin.empty()) throw UsageError("--ref-bin is required");
  if (opt.args.empty()) throw UsageError("no simulator arguments after --");
  const bool test_is_nbsim = opt.test_bin == "nbsim";
  RunContext c;
  c.ref_bin = opt.ref_bin;
  c.test_bin = test_is_nbsim ? sibling_tool("nbsim") : opt.test_bin;
  c.mode = opt.thresholds ? opt.thresholds->mode : opt.mode;
  c.full_thresholds = opt.thresholds.has_value();

  ParityPlan plan;
  plan.diff.policy.rel = kDefaultTraceTolerance;
  if (!opt.tolerances_file.empty()) apply_policy_file(load_policy_file(opt.tolerances_file), plan.diff);
  if (opt.trace_tolerance) plan.diff.policy.rel = *opt.trace_tolerance;
  plan.thresholds.correlation_min = opt.correlation_min;
  if (opt.thresholds) {
    plan.diff.policy.rel = opt.thresholds->trace_tolerance;
    plan.diff.policy.waivers.insert(plan.diff.policy.waivers.end(), opt.thresholds->waivers.begin(),
                                    opt.thresholds->waivers.end());
    plan.thresholds = opt.thresholds->image;
  }
  c.trace_tolerance = plan.diff.policy.rel;
  c.correlation_min = plan.thresholds.correlation_min;

  const fs::path bundle = opt.bundle_dir.empty() ? fs::path("parity") / bundle::bundle_id_now() : fs::path(opt.bundle_dir);
  c.id = bundle::ensure_bundle(bundle, std::nullopt, err);
  c.bundle = bundle;
  bundle::RunRecord record;
  record.cwd = fs::current_path();
  record.argv = relativize_paths(opt.argv, record.cwd);
  record.git = bundle::git_state(record.cwd);
  record.start_utc = bundle::utc_now_iso();
  c.args = relativize_paths(opt.args, record.cwd);
  const auto t0 = std::chrono::steady_clock::now();

  SideProgram test{{c.test_bin}};
  if (!c.mode.empty()) test.leading_args = {"-mode", c.mode};
  test.trailing_args = opt.test_extra_args;
  test.nbsim = test_is_nbsim;
  plan.ref = program_side("ref", SideProgram{{opt.ref_bin}}, bundle);
  plan.test = program_side("test", std::move(test), bundle);
  // Each program runs in its own scratch folder on copies of the inputs, so
  // nothing it prints names a path of this machine.
  plan.args = opt.args;
  plan.inputs = InputStaging::copies;
  plan.compare.roi = opt.roi;
  plan.pixels = opt.pixels;
  plan.auto_pixels = opt.auto_pixels;
  plan.diff_report = (bundle / "diffs" / "{pixel}").string();

  ParityBundle out{bundle, c.id, run_parity_plan(plan, observer)};
  AtomicFileSet files;
  files.add(bundle / "metrics.json", metrics_document(out.result, c).dump(2) + "\n");
  files.add(bundle / "summary.md", summary_markdown(out.result, c));
  files.commit();

  record.exit_code = out.result.exit_code();
  record.duration_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  bundle::append_command(bundle, record);
  if (opt.before_seal) opt.before_seal(bundle);
  bundle::seal_bundle(bundle::SealOptions{bundle.string(), opt.tool, 0});
  return out;
}

}  // namespace nbtrace
