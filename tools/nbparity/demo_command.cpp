// nbparity demo: the main job of scripts/demo.sh on the embedded example.
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <ostream>
#include <random>
#include <set>
#include <sstream>
#include <thread>

#include "nbtrace/base/files.hpp"
#include "nbtrace/trace/attribute.hpp"
#include "nbtrace/bundle/bundle.hpp"
#include "nbtrace/trace/diff.hpp"
#include "nbtrace/base/error.hpp"
#include "commands.hpp"
#include "nbtrace/parity/image.hpp"
#include "nbtrace/base/files.hpp"
#include "nbtrace/base/paths.hpp"
#include "nbtrace/base/process.hpp"
#include "nbtrace/parity/simulator_args.hpp"
#include "nbtrace/trace/report.hpp"
#include "nbtrace/base/version.hpp"

using namespace nbtrace;

namespace {

namespace fs = std::filesystem;
using json = nlohmann::ordered_json;

struct DemoOptions {
  std::string example_dir;  ///< default: examples/demo_scaling of the source tree
  std::string out_dir = "demo-out";
  std::string nbsim;        ///< default: nbsim beside this tool
};

std::string fmt(const char* spec, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, spec, v);
  return buf;
}

/// Fields that the phi carry-over (C-PARITY-001) changes: the rotated cell
/// and everything computed from it.
const std::set<std::string>& carryover_fields() {
  static const std::set<std::string> s = {"rot_a_angstroms", "rot_b_angstroms", "rot_c_angstroms", "hkl_frac",
                                          "hkl_rounded", "F_latt_a", "F_latt_b", "F_latt_c", "F_latt",
                                          "F_cell", "PHI.k_frac", "PHI.F_latt_b", "PHI.F_latt",
                                          "I_before_scaling", "I_pixel_final", "floatimage_accumulated"};
  return s;
}

/// On the embedded demo_scaling case: simulate the image and the traced
/// pixels with nbsim in both modes; compare images and traces with
/// nanoBragg.c's and the PyTorch port's; attribute each gap; keep it all as a
/// sealed bundle, verify and audit it; print a short report. Returns 0 when
/// every expectation of the demo holds (c-parity agrees with nanoBragg.c,
/// spec mode differs only by the phi carry-over), else 3.
int run_demo(const DemoOptions& opt, std::ostream& out, std::ostream& err) {
  const fs::path example = opt.example_dir.empty() ? tool_dir() / "../../examples/demo_scaling" : fs::path(opt.example_dir);
  if (!fs::exists(example / "case.json")) throw InputError((example / "case.json").string() + ": no example case here (use --example DIR)");
  const std::string nbsim = opt.nbsim.empty() ? sibling_tool("nbsim") : opt.nbsim;
  const json spec = json::parse(read_text_file(example / "case.json"));
  std::vector<std::string> args = spec.at("image_command").get<std::vector<std::string>>();
  args.erase(args.begin());
  args = absolutize_inputs(args, example);
  const std::size_t fast = spec.at("fpixels").get<std::size_t>();
  const std::size_t slow = spec.at("spixels").get<std::size_t>();

  // A fresh bundle: its folder is named by its id (UTC seconds), so wait for
  // a second whose folder does not exist yet.
  std::string id = bundle::bundle_id_now();
  while (fs::exists(fs::path(opt.out_dir) / "parity" / id)) {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    id = bundle::bundle_id_now();
  }
  // Absolute: the programs run in a scratch folder and write into it.
  const fs::path bundle = fs::absolute(fs::path(opt.out_dir) / "parity" / id);
  bundle::ensure_bundle(bundle, id, err);
  bundle::RunRecord record;
  record.cwd = fs::current_path();
  record.argv = {"nbparity", "demo", "--out",
                 fs::path(opt.out_dir).is_relative() ? opt.out_dir
                                                     : fs::path(opt.out_dir).lexically_relative(record.cwd).generic_string()};
  record.git = bundle::git_state(record.cwd);
  record.start_utc = bundle::utc_now_iso();
  const auto t0 = std::chrono::steady_clock::now();
  ScratchDir scratch("nbparity-demo-");
  fs::create_directories(bundle / "traces");
  fs::create_directories(bundle / "diffs");
  fs::create_directories(bundle / "attribution");

  // Reference outputs shipped with the example: nanoBragg.c and the PyTorch port.
  std::vector<TracedPixel> pixels;
  for (const auto& t : spec.at("traces")) {
    pixels.push_back({t.at("spixel").get<int>(), t.at("fpixel").get<int>()});
    fs::copy_file(example / t.at("file").get<std::string>(), bundle / "traces" / t.at("file").get<std::string>(),
                  fs::copy_options::overwrite_existing);
  }
  std::set<std::string> py_traces;
  if (spec.contains("pytorch")) {
    for (const auto& t : spec["pytorch"].at("traces")) {
      const std::string f = t.at("file").get<std::string>();
      if (fs::exists(example / f)) {
        fs::copy_file(example / f, bundle / "traces" / f, fs::copy_options::overwrite_existing);
        py_traces.insert(f);
      }
    }
  }

  // nbsim in both modes: the image and each traced pixel.
  auto run_nbsim = [&](const std::vector<std::string>& extra, const fs::path& floatfile, const std::string& what) {
    std::vector<std::string> argv{nbsim};
    auto a = with_floatfile(args, floatfile);
    a.insert(a.end(), extra.begin(), extra.end());
    argv.insert(argv.end(), a.begin(), a.end());
    const RunOutcome r = run_program(argv, scratch.path(), scratch.path() / "stdout.log", scratch.path() / "stderr.log");
    if (r.exit_code != 0) {
      throw std::runtime_error("nbsim (" + what + ") exited " + std::to_string(r.exit_code) + ": " +
                               read_text_file(scratch.path() / "stderr.log").substr(0, 400));
    }
    return r.seconds;
  };
  json metrics;
  metrics["tool"] = "nbparity demo";
  metrics["version"] = std::string(version());
  metrics["bundle_id"] = id;
  metrics["case"] = spec.value("id", std::string("demo_scaling"));
  for (const char* mode : {"c-parity", "spec"}) {
    const double s = run_nbsim({"-mode", mode}, bundle / ("nbsim_" + std::string(mode) + "_image.bin"), mode);
    metrics["nbsim_runtime_s"][mode] = s;
    for (const TracedPixel& p : pixels) {
      const std::string name = "nbsim_" + std::string(mode) + "_s" + std::to_string(p.slow) + "_f" + std::to_string(p.fast) + ".log";
      run_nbsim({"-mode", mode, "-trace_pixel", std::to_string(p.slow), std::to_string(p.fast), "-trace_file",
                 (bundle / "traces" / name).string()},
                scratch.path() / "trace.bin", mode);
    }
  }

  // Images.
  const image::Image c_img = image::load_float_image((example / spec.value("float_image", std::string("image.bin"))).string(), fast, slow);
  std::vector<std::pair<std::string, fs::path>> tests = {{"nbsim c-parity", bundle / "nbsim_c-parity_image.bin"},
                                                         {"nbsim spec", bundle / "nbsim_spec_image.bin"}};
  if (spec.contains("pytorch") && fs::exists(example / spec["pytorch"].value("image", std::string()))) {
    tests.emplace_back("PyTorch port", example / spec["pytorch"]["image"].get<std::string>());
  }
  out << "images against nanoBragg.c (" << fast << "x" << slow << "):\n";
  bool ok = true;
  json image_results = json::array();
  for (const auto& [label, path] : tests) {
    const image::Image t = image::load_float_image(path.string(), fast, slow);
    const image::Metrics m = image::compare(c_img, t, {});
    image_results.push_back({{"test", label},
                             {"correlation", m.correlation ? json(*m.correlation) : json(nullptr)},
                             {"max_abs_diff", m.max_abs_diff},
                             {"sum_ratio", m.sum_ratio ? json(*m.sum_ratio) : json(nullptr)},
                             {"peaks_matched_fraction", m.peaks.matched_fraction}});
    out << "  " << label << ": correlation " << (m.correlation ? fmt("%.9f", *m.correlation) : std::string("undefined"))
        << ", max |diff| " << fmt("%.4g", m.max_abs_diff) << ", sum ratio "
        << (m.sum_ratio ? fmt("%.6g", *m.sum_ratio) : std::string("n/a")) << "\n";
    if (label == "nbsim c-parity" && m.max_abs_diff != 0) ok = false;
  }
  metrics["images"] = image_results;

  // Traces.
  DiffOptions strict;
  strict.policy.rel = 1e-9;
  DiffOptions spec_policy = strict;
  if (fs::exists(example / "spec_vs_c.policy.json")) {
    spec_policy.policy.waivers = load_policy_file((example / "spec_vs_c.policy.json").string()).waivers;
  }
  DiffOptions port;  // the PyTorch port: the peer's 1e-6
  json trace_results = json::array();
  json attribution_results = json::array();
  out << "traces against nanoBragg.c:\n";
  for (const auto& t : spec.at("traces")) {
    const TracedPixel p{t.at("spixel").get<int>(), t.at("fpixel").get<int>()};
    const std::string px = "s" + std::to_string(p.slow) + "_f" + std::to_string(p.fast);
    auto load = [&](const std::string& file) { return parse_trace(read_text_file(bundle / "traces" / file), "../traces/" + file); };
    const Trace c = load(t.at("file").get<std::string>());
    struct Pair {
      std::string label, file, key;
      const DiffOptions* options;
    };
    std::vector<Pair> pairs = {{"nbsim c-parity", "nbsim_c-parity_" + px + ".log", "cparity", &strict},
                               {"nbsim spec", "nbsim_spec_" + px + ".log", "spec", &spec_policy}};
    const std::string py = "py_trace_" + px + ".log";
    if (py_traces.count(py)) pairs.push_back({"PyTorch port", py, "pytorch", &port});
    for (const Pair& pr : pairs) {
      const Trace test = load(pr.file);
      const DiffResult d = diff_traces(c, test, *pr.options);
      AtomicFileSet files;
      files.add(bundle / "diffs" / (pr.key + "_" + px + ".md"), diff_to_markdown(d));
      files.add(bundle / "diffs" / (pr.key + "_" + px + ".json"), diff_to_json(d));
      files.commit();
      std::string first = d.first_divergence ? d.field_label(d.fields[*d.first_divergence]) : "none";
      bool only_carryover = true;
      for (const FieldResult& f : d.fields) {
        if (!is_divergence(f.status)) continue;
        if (!carryover_fields().count(std::string(d.name(f)))) only_carryover = false;
        for (const auto& [k, v] : d.loop_coords(f)) {
          if (k == "phi_tic" && v != 0) only_carryover = false;
        }
      }
      if (pr.key == "cparity" && d.num_divergent != 0) ok = false;
      if (pr.key == "spec" && (!only_carryover || !d.first_divergence)) ok = false;
      trace_results.push_back({{"pixel", {p.slow, p.fast}},
                               {"test", pr.label},
                               {"tolerance_rel", d.tolerance_rel},
                               {"compared", d.num_compared},
                               {"divergent", d.num_divergent},
                               {"waived", d.num_waived},
                               {"first_divergence", d.first_divergence ? json(first) : json(nullptr)},
                               {"only_phi_carryover", only_carryover},
                               {"report", "diffs/" + pr.key + "_" + px + ".md"}});
      out << "  (" << p.slow << ", " << p.fast << ") " << pr.label << ": " << d.num_compared << " fields, "
          << d.num_divergent << " divergent, " << d.num_waived << " waived; first divergence " << first
          << (pr.key == "spec" ? (only_carryover ? " (the phi carry-over only)" : " (NOT only the carry-over)") : "")
          << "\n";
      if (pr.key == "cparity") continue;
      AttributionOptions ao;
      ao.ref_label = "nanoBragg.c";
      ao.test_label = pr.label;
      const Attribution a = attribute_gap(c, test, ao);
      const std::string stem = pr.key + "_" + px;
      AtomicFileSet af;
      af.add(bundle / "attribution" / (stem + ".svg"), attribution_svg(a));
      af.add(bundle / "attribution" / (stem + ".md"), attribution_markdown(a, stem + ".svg"));
      af.add(bundle / "attribution" / (stem + ".json"), attribution_json(a));
      af.commit();
      attribution_results.push_back({{"pixel", {p.slow, p.fast}},
                                     {"test", pr.label},
                                     {"gap_rel", a.gap_rel},
                                     {"attributed_share", a.attributed_share},
                                     {"terms_inconsistent", a.terms_inconsistent},
                                     {"leading_hypothesis", a.hypotheses.empty() ? json(nullptr) : json(a.hypotheses.front().id)},
                                     {"report", "attribution/" + stem + ".md"}});
      out << "      attribution: I_before_scaling gap " << fmt("%+.4f%%", 100 * a.gap_rel) << ", "
          << (a.terms_inconsistent ? std::string("not decomposable by steps (per-step terms do not add up)")
                                   : fmt("%.2f%%", 100 * a.attributed_share) + " attributed")
          << "; leading hypothesis "
          << (a.hypotheses.empty() ? std::string("none") : a.hypotheses.front().id) << "\n";
      if (pr.key == "spec" && (a.hypotheses.empty() || a.hypotheses.front().id != "phi-carryover")) ok = false;
    }
  }
  metrics["traces"] = trace_results;
  metrics["attribution"] = attribution_results;
  metrics["expectations_hold"] = ok;

  std::string md = "# nbparity demo: " + metrics["case"].get<std::string>() + "\n\n";
  md += "nbsim in both modes and the PyTorch port, each against nanoBragg.c.\n\n## Images\n\n";
  md += "| test | correlation | max abs diff | sum ratio |\n|---|---|---|---|\n";
  for (const auto& r : image_results) {
    md += "| " + r["test"].get<std::string>() + " | " +
          (r["correlation"].is_null() ? std::string("—") : fmt("%.9f", r["correlation"].get<double>())) + " | " +
          fmt("%.4g", r["max_abs_diff"].get<double>()) + " | " +
          (r["sum_ratio"].is_null() ? std::string("—") : fmt("%.6g", r["sum_ratio"].get<double>())) + " |\n";
  }
  md += "\n## Traces\n\n| pixel | test | compared | divergent | waived | first divergence | report |\n|---|---|---|---|---|---|---|\n";
  for (const auto& r : trace_results) {
    md += "| (" + std::to_string(r["pixel"][0].get<int>()) + ", " + std::to_string(r["pixel"][1].get<int>()) + ") | " +
          r["test"].get<std::string>() + " | " + std::to_string(r["compared"].get<std::size_t>()) + " | " +
          std::to_string(r["divergent"].get<std::size_t>()) + " | " + std::to_string(r["waived"].get<std::size_t>()) +
          " | " + (r["first_divergence"].is_null() ? std::string("—") : r["first_divergence"].get<std::string>()) +
          " | [" + r["report"].get<std::string>() + "](" + r["report"].get<std::string>() + ") |\n";
  }
  md += "\n## Attribution of the I_before_scaling gaps\n\n| pixel | test | gap | attributed | leading hypothesis |\n|---|---|---|---|---|\n";
  for (const auto& r : attribution_results) {
    md += "| (" + std::to_string(r["pixel"][0].get<int>()) + ", " + std::to_string(r["pixel"][1].get<int>()) + ") | " +
          r["test"].get<std::string>() + " | " + fmt("%+.4f%%", 100 * r["gap_rel"].get<double>()) + " | " +
          fmt("%.2f%%", 100 * r["attributed_share"].get<double>()) + " | [" +
          (r["leading_hypothesis"].is_null() ? std::string("none") : r["leading_hypothesis"].get<std::string>()) + "](" +
          r["report"].get<std::string>() + ") |\n";
  }
  md += std::string("\nExpectations (c-parity equals nanoBragg.c; spec mode differs by the phi carry-over only): **") +
        (ok ? "hold" : "do NOT hold") + "**\n";
  AtomicFileSet files;
  files.add(bundle / "metrics.json", metrics.dump(2) + "\n");
  files.add(bundle / "summary.md", md);
  files.commit();

  record.exit_code = ok ? exit_code::ok : exit_code::divergence;
  record.duration_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  bundle::append_command(bundle, record);
  bundle::seal_bundle(bundle::SealOptions{bundle.string(), 0});
  const bundle::VerifyResult v = bundle::verify_manifest(bundle, bundle::kManifestName, 0, true);
  bundle::AuditOptions ao;
  ao.dir = bundle.string();
  const bundle::AuditResult audit = bundle::audit_bundle(ao);
  const std::string shown = (fs::path(opt.out_dir) / "parity" / id).string();
  out << "bundle: " << shown << " sealed; verify " << v.count(bundle::Verdict::ok) << "/" << v.items.size()
      << " OK; audit "
      << (audit.errors() ? std::to_string(audit.errors()) + " errors" : std::string("clean")) << "\n";
  out << "report: " << shown << "/summary.md\n";
  out << "expectations " << (ok ? "hold" : "do NOT hold") << ": nbsim c-parity equals nanoBragg.c; spec mode differs by the phi carry-over only\n";
  if (audit.errors()) return exit_code::divergence;
  return ok ? exit_code::ok : exit_code::divergence;
}

}  // namespace

std::function<int()> setup_demo(CLI::App& app) {
  auto opt = std::make_shared<DemoOptions>();
  CLI::App* cmd = app.add_subcommand(
      "demo",
      "The main job on the embedded demo_scaling case: nbsim in both modes against nanoBragg.c's outputs and the "
      "PyTorch port's, images and traces compared, each gap attributed, one sealed and audited bundle, a short "
      "report.");
  cmd->add_option("--example", opt->example_dir, "example folder (default: examples/demo_scaling of the source tree)");
  cmd->add_option("--out", opt->out_dir, "output folder (default: demo-out)");
  cmd->add_option("--nbsim", opt->nbsim, "nbsim binary (default: the one beside this tool)");
  return [=] { return run_demo(*opt, std::cout, std::cerr); };
}
