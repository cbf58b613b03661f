#include "nbtrace/parity/parity.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <ostream>
#include <fstream>
#include <random>
#include <regex>
#include <sstream>

#include "nbtrace/base/files.hpp"
#include "nbtrace/bundle/bundle.hpp"
#include "nbtrace/trace/diff.hpp"
#include "nbtrace/base/error.hpp"
#include "nbtrace/base/files.hpp"
#include "nbtrace/base/paths.hpp"
#include "nbtrace/base/process.hpp"
#include "nbtrace/parity/simulator_args.hpp"
#include "nbtrace/trace/report.hpp"
#include "nbtrace/base/version.hpp"

namespace nbtrace {

namespace fs = std::filesystem;
using json = nlohmann::ordered_json;

std::vector<TracedPixel> worst_pixels(const image::Image& ref, const image::Image& test, std::size_t k) {
  std::vector<std::pair<float, std::size_t>> d;
  d.reserve(ref.data.size());
  for (std::size_t i = 0; i < ref.data.size(); ++i) d.emplace_back(std::fabs(test.data[i] - ref.data[i]), i);
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

namespace {

std::string pixel_name(const TracedPixel& p) { return "s" + std::to_string(p.slow) + "_f" + std::to_string(p.fast); }

json opt_num(const std::optional<double>& v) { return v && std::isfinite(*v) ? json(*v) : json(nullptr); }

}  // namespace

int run_parity(const ParityRunOptions& opt, std::ostream& out, std::ostream& err) {
  if (opt.ref_bin.empty()) throw UsageError("--ref-bin is required");
  if (opt.args.empty()) throw UsageError("no simulator arguments after --");
  const std::string test_bin = opt.test_bin == "nbsim" ? sibling_tool("nbsim") : opt.test_bin;
  DiffOptions dopt;
  if (!opt.tolerances_file.empty()) {
    const PolicyFile p = load_policy_file(opt.tolerances_file);
    if (p.abs_floor) dopt.policy.abs_floor = *p.abs_floor;
    dopt.policy.overrides = p.overrides;
    dopt.policy.waivers = p.waivers;
    for (const auto& [from, to] : p.aliases) dopt.aliases.add(from, to);
  }
  dopt.policy.rel = opt.trace_tolerance;
  std::string mode = opt.mode;
  if (opt.thresholds) {
    dopt.policy.rel = opt.thresholds->trace_tolerance;
    dopt.policy.waivers.insert(dopt.policy.waivers.end(), opt.thresholds->waivers.begin(), opt.thresholds->waivers.end());
    mode = opt.thresholds->mode;
  }

  const fs::path bundle = opt.bundle_dir.empty() ? fs::path("parity") / bundle::bundle_id_now() : fs::path(opt.bundle_dir);
  const std::string id = bundle::ensure_bundle(bundle, std::nullopt, err);
  bundle::RunRecord record;
  record.cwd = fs::current_path();
  record.argv = relativize_paths(opt.argv, record.cwd);
  record.git = bundle::git_state(record.cwd);
  record.start_utc = bundle::utc_now_iso();
  const auto t0 = std::chrono::steady_clock::now();

  ScratchDir scratch;
  // Each program runs in its own scratch folder on copies of the inputs, so
  // nothing it prints names a path of this machine.
  for (const char* side : {"ref", "test"}) fs::create_directories(scratch.path() / side);
  const std::vector<std::string> args = stage_inputs(opt.args, scratch.path() / "ref");
  stage_inputs(opt.args, scratch.path() / "test");
  std::vector<std::string> test_args = args;
  test_args.insert(test_args.end(), opt.test_extra_args.begin(), opt.test_extra_args.end());
  if (!mode.empty()) {
    test_args.insert(test_args.begin(), mode);
    test_args.insert(test_args.begin(), "-mode");
  }
  json metrics;
  metrics["tool"] = "nbparity run";
  metrics["version"] = std::string(version());
  metrics["bundle_id"] = id;
  metrics["args"] = relativize_paths(opt.args, record.cwd);
  metrics["mode"] = mode.empty() ? json(nullptr) : json(mode);

  // 1. Images.
  struct Side {
    const char* name;
    std::string bin;
    std::vector<std::string> args;
  };
  const Side sides[2] = {{"ref", opt.ref_bin, args}, {"test", test_bin, test_args}};
  int exit = exit_code::ok;
  std::vector<std::string> failures;
  for (const Side& s : sides) {
    const fs::path work = scratch.path() / s.name;
    const std::string image = std::string(s.name) + "_image.bin";
    std::vector<std::string> argv{s.bin};
    const auto a = with_floatfile(s.args, image);
    argv.insert(argv.end(), a.begin(), a.end());
    const RunOutcome r = run_program(argv, work, bundle / (std::string(s.name) + "_stdout.log"),
                                     bundle / (std::string(s.name) + "_stderr.log"));
    std::error_code ec;
    if (r.exit_code == 0) fs::copy_file(work / image, bundle / image, fs::copy_options::overwrite_existing, ec);
    out << s.name << ": " << s.bin << " exit " << r.exit_code << " in " << r.seconds << " s\n";
    metrics["programs"][s.name] = {{"binary", fs::path(s.bin).filename().string()}, {"exit_code", r.exit_code},
                                   {"runtime_s", r.seconds}};
    if (r.exit_code != 0) failures.push_back(std::string(s.name) + " exited " + std::to_string(r.exit_code));
  }
  std::vector<TracedPixel> pixels = opt.pixels;
  if (failures.empty()) {
    std::size_t fast = 0, slow = 0;
    {
      const std::string text = read_text_file(bundle / "ref_stdout.log");
      std::smatch m;
      static const std::regex kPixels(R"(\((\d+)x(\d+) pixels\))");
      if (std::regex_search(text, m, kPixels)) {
        fast = std::stoul(m[1].str());
        slow = std::stoul(m[2].str());
      } else {
        const std::size_t n = image::float_count((bundle / "ref_image.bin").string());
        fast = slow = static_cast<std::size_t>(std::llround(std::sqrt(static_cast<double>(n))));
      }
    }
    const image::Image ref = image::load_float_image((bundle / "ref_image.bin").string(), fast, slow);
    const image::Image test = image::load_float_image((bundle / "test_image.bin").string(), fast, slow);
    image::CompareOptions co;
    co.roi = opt.roi;
    const image::Metrics im = image::compare(ref, test, co);
    metrics["image"] = {{"shape", {fast, slow}},
                        {"correlation", opt_num(im.correlation)},
                        {"rmse", im.rmse},
                        {"max_abs_diff", im.max_abs_diff},
                        {"max_abs_diff_at", {{"slow", im.max_abs_diff_slow}, {"fast", im.max_abs_diff_fast}}},
                        {"sum_ref", im.sum_ref},
                        {"sum_test", im.sum_test},
                        {"sum_ratio", opt_num(im.sum_ratio)},
                        {"peaks_matched_fraction", im.peaks.matched_fraction},
                        {"peaks_max_displacement_px", im.peaks.max_displacement},
                        {"correlation_min", opt.correlation_min ? json(*opt.correlation_min) : json(nullptr)}};
    bool image_ok = !opt.correlation_min || (im.correlation && *im.correlation >= *opt.correlation_min);
    if (opt.thresholds) {
      const float ref_max = ref.data.empty() ? 0.0f : *std::max_element(ref.data.begin(), ref.data.end());
      const double rel = ref_max > 0 ? im.max_abs_diff / ref_max : 0.0;
      const std::vector<std::string> failed = failed_image_checks(*opt.thresholds, im, rel);
      metrics["image"]["max_abs_diff_rel"] = rel;
      metrics["image"]["failed_checks"] = failed;
      metrics["image"]["correlation_min"] = opt_num(opt.thresholds->correlation_min);
      image_ok = failed.empty();
    }
    metrics["image"]["pass"] = image_ok;
    if (!image_ok) exit = exit_code::divergence;
    char line[256];
    std::snprintf(line, sizeof line, "image: correlation %s, max |diff| %.6g at (%zu, %zu), sum ratio %s\n",
                  im.correlation ? std::to_string(*im.correlation).c_str() : "undefined", im.max_abs_diff,
                  im.max_abs_diff_slow, im.max_abs_diff_fast, im.sum_ratio ? std::to_string(*im.sum_ratio).c_str() : "n/a");
    out << line;
    for (const TracedPixel& p : worst_pixels(ref, test, opt.auto_pixels)) {
      const bool seen = std::any_of(pixels.begin(), pixels.end(),
                                    [&](const TracedPixel& q) { return q.slow == p.slow && q.fast == p.fast; });
      if (!seen) pixels.push_back(p);
    }
  }

  // 2. Traces: one run per pixel and side (nanoBragg.c traces one pixel per run).
  json pixel_results = json::array();
  std::string table;
  if (failures.empty()) {
    fs::create_directories(bundle / "traces");
    fs::create_directories(bundle / "diffs");
    for (const TracedPixel& p : pixels) {
      const std::string name = pixel_name(p);
      for (const Side& s : sides) {
        std::vector<std::string> argv{s.bin};
        auto a = with_floatfile(s.args, "trace_image.bin");
        a.push_back("-trace_pixel");
        a.push_back(std::to_string(p.slow));
        a.push_back(std::to_string(p.fast));
        argv.insert(argv.end(), a.begin(), a.end());
        const RunOutcome r = run_program(argv, scratch.path() / s.name,
                                         bundle / "traces" / (std::string(s.name) + "_" + name + ".log"),
                                         scratch.path() / (std::string(s.name) + "_trace_stderr.log"));
        if (r.exit_code != 0) failures.push_back(std::string(s.name) + " trace of " + name + " exited " + std::to_string(r.exit_code));
      }
      if (!failures.empty()) break;
      // Named as seen from diffs/, so the reports stay relocatable.
      auto load = [&](const std::string& file) {
        return parse_trace(read_text_file(bundle / "traces" / file), "../traces/" + file);
      };
      const Trace rt = load("ref_" + name + ".log");
      const Trace tt = load("test_" + name + ".log");
      const DiffResult d = diff_traces(rt, tt, dopt);
      AtomicFileSet files;
      files.add(bundle / "diffs" / (name + ".json"), diff_to_json(d));
      files.add(bundle / "diffs" / (name + ".md"), diff_to_markdown(d));
      files.commit();
      json pr;
      pr["slow"] = p.slow;
      pr["fast"] = p.fast;
      pr["ref_trace"] = "traces/ref_" + name + ".log";
      pr["test_trace"] = "traces/test_" + name + ".log";
      pr["first_divergence"] = d.first_divergence ? json(std::string(d.name(d.fields[*d.first_divergence]))) : json(nullptr);
      pr["num_divergent"] = d.num_divergent;
      pr["num_compared"] = d.num_compared;
      pr["num_waived"] = d.num_waived;
      pr["status"] = d.num_divergent ? "DIVERGENT" : "PASS";
      pixel_results.push_back(pr);
      if (d.num_divergent) exit = exit_code::divergence;
      table += "| (" + std::to_string(p.slow) + ", " + std::to_string(p.fast) + ") | " + std::to_string(d.num_compared) +
               " | " + std::to_string(d.num_divergent) + " | " +
               (d.first_divergence ? std::string(d.name(d.fields[*d.first_divergence])) : std::string("—")) + " | " +
               pr["status"].get<std::string>() + " |\n";
      out << "pixel (" << p.slow << ", " << p.fast << "): " << d.num_compared << " fields, " << d.num_divergent
          << " divergent" << (d.first_divergence ? ", first " + std::string(d.name(d.fields[*d.first_divergence])) : "")
          << "\n";
    }
  }
  metrics["trace_tolerance"] = dopt.policy.rel;
  metrics["pixels"] = pixel_results;
  if (!failures.empty()) {
    exit = 2;
    metrics["failures"] = failures;
  }
  metrics["verdict"] = exit == 0 ? "PASS" : (exit == 2 ? "RUNNER_FAILED" : "DIVERGENT");

  std::string md = "# Parity run " + id + "\n\n";
  md += "- Reference: `" + fs::path(opt.ref_bin).filename().string() + "`; test: `" + fs::path(test_bin).filename().string() +
        "`" + (mode.empty() ? "" : " (`-mode " + mode + "`)") + "\n";
  md += "- Verdict: **" + metrics["verdict"].get<std::string>() + "**\n";
  if (metrics.contains("image")) {
    const json& im = metrics["image"];
    md += "- Image: correlation " + (im["correlation"].is_null() ? std::string("undefined") : std::to_string(im["correlation"].get<double>())) +
          ", max |Δ| " + std::to_string(im["max_abs_diff"].get<double>()) + ", sum ratio " +
          (im["sum_ratio"].is_null() ? std::string("n/a") : std::to_string(im["sum_ratio"].get<double>())) + "\n";
  }
  for (const std::string& f : failures) md += "- Failure: " + f + "\n";
  if (!table.empty()) {
    char tol[32];
    std::snprintf(tol, sizeof tol, "%g", dopt.policy.rel);
    md += "\n## Traced pixels (relative tolerance " + std::string(tol) + ")\n\n";
    md += "| Pixel (slow, fast) | Fields compared | Divergent | First divergence | Status |\n|---|---|---|---|---|\n" + table;
    md += "\nPer-pixel reports: `diffs/`; traces: `traces/`.\n";
  }
  AtomicFileSet files;
  files.add(bundle / "metrics.json", metrics.dump(2) + "\n");
  files.add(bundle / "summary.md", md);
  files.commit();

  record.exit_code = exit;
  record.duration_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  bundle::append_command(bundle, record);
  bundle::seal_bundle(bundle::SealOptions{bundle.string(), 0});
  out << "bundle: " << bundle.string() << " (sealed; verdict " << metrics["verdict"].get<std::string>() << ")\n";
  return exit;
}

}  // namespace nbtrace
