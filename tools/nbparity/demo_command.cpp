// nbparity demo: the main job of scripts/demo.sh on the embedded example.
// Three parity-engine runs against nanoBragg.c's stored outputs (nbsim in
// c-parity and in spec mode, the PyTorch port's stored outputs), each gap
// attributed, one sealed and audited bundle, a short report.
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <ostream>
#include <thread>

#include "commands.hpp"
#include "nbtrace/report/report.hpp"
#include "nbtrace/base/error.hpp"
#include "nbtrace/base/files.hpp"
#include "nbtrace/base/paths.hpp"
#include "nbtrace/base/version.hpp"
#include "nbtrace/bundle/bundle.hpp"
#include "nbtrace/parity/engine.hpp"
#include "nbtrace/trace/attribute.hpp"

using namespace nbtrace;

namespace {

namespace fs = std::filesystem;
using json = nlohmann::ordered_json;

struct DemoOptions {
  std::string example_dir;  ///< default: examples/demo_scaling of the source tree
  std::string out_dir = "demo-out";
  std::string nbsim;        ///< default: nbsim beside this tool
};

/// Fields that the phi carry-over (C-PARITY-001) changes: the rotated cell
/// and everything computed from it.
bool carryover_field(std::string_view name) {
  constexpr std::string_view kFields[] = {"rot_a_angstroms", "rot_b_angstroms", "rot_c_angstroms", "hkl_frac",
                                          "hkl_rounded", "F_latt_a", "F_latt_b", "F_latt_c", "F_latt",
                                          "F_cell", "PHI.k_frac", "PHI.F_latt_b", "PHI.F_latt",
                                          "I_before_scaling", "I_pixel_final", "floatimage_accumulated"};
  return std::find(std::begin(kFields), std::end(kFields), name) != std::end(kFields);
}

/// Whether a diff differs only in the carry-over fields, and only at phi step 0.
bool only_carryover(const DiffResult& d) {
  for (const FieldResult& f : d.fields) {
    if (!is_divergence(f.status)) continue;
    if (!carryover_field(d.name(f))) return false;
    for (const auto& [k, v] : d.loop_coords(f))
      if (k == "phi_tic" && v != 0) return false;
  }
  return true;
}

/// One implementation compared with nanoBragg.c.
struct Comparison {
  std::string label;  ///< "nbsim c-parity"
  std::string key;    ///< names its diff and attribution files
  std::string mode;   ///< nbsim's mode; empty for the port
  ParityResult result;
  const PixelResult* pixel(const TracedPixel& p) const {
    for (const PixelResult& r : result.pixels)
      if (r.pixel.slow == p.slow && r.pixel.fast == p.fast) return &r;
    return nullptr;
  }
};

std::string percent(double share, const char* spec) { return fmt::format(fmt::runtime(spec), 100 * share); }

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
  const image::Shape shape{spec.at("fpixels").get<std::size_t>(), spec.at("spixels").get<std::size_t>()};

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
  fs::create_directories(bundle / "traces");
  fs::create_directories(bundle / "diffs");
  fs::create_directories(bundle / "attribution");

  // Reference outputs shipped with the example: nanoBragg.c and the PyTorch port.
  std::vector<TracedPixel> pixels;
  StoredOutputs c_outputs{example / spec.value("float_image", std::string("image.bin")), {}};
  for (const auto& t : spec.at("traces")) {
    const TracedPixel p{t.at("spixel").get<int>(), t.at("fpixel").get<int>()};
    const std::string file = t.at("file").get<std::string>();
    pixels.push_back(p);
    fs::copy_file(example / file, bundle / "traces" / file, fs::copy_options::overwrite_existing);
    c_outputs.traces.push_back({p, bundle / "traces" / file});
  }
  std::optional<StoredOutputs> port;
  if (spec.contains("pytorch")) {
    port.emplace();
    if (const std::string img = spec["pytorch"].value("image", std::string()); !img.empty() && fs::exists(example / img))
      port->image = example / img;
    for (const auto& t : spec["pytorch"].at("traces")) {
      const std::string f = t.at("file").get<std::string>();
      if (!fs::exists(example / f)) continue;
      fs::copy_file(example / f, bundle / "traces" / f, fs::copy_options::overwrite_existing);
      port->traces.push_back({{t.at("spixel").get<int>(), t.at("fpixel").get<int>()}, bundle / "traces" / f});
    }
  }

  ParityPlan base;
  base.ref = {"nanoBragg.c", c_outputs, {}, shape};
  base.args = args;
  base.inputs_base = example;
  base.pixels = pixels;
  base.keep_evidence = true;
  base.diff.policy.rel = 1e-9;
  std::vector<Comparison> comparisons;
  for (const std::string mode : {"c-parity", "spec"}) {
    ParityPlan plan = base;
    SideProgram program{{nbsim}};
    program.leading_args = {"-mode", mode};
    program.trace_file_flag = true;
    plan.test = {"nbsim (" + mode + ")", program, {}, shape};
    plan.test.files.image = (bundle / ("nbsim_" + mode + "_image.bin")).string();
    plan.test.files.trace = (bundle / "traces" / ("nbsim_" + mode + "_{pixel}.log")).string();
    const std::string key = mode == "spec" ? "spec" : "cparity";
    if (mode == "spec" && fs::exists(example / "spec_vs_c.policy.json"))
      plan.diff.policy.waivers = load_policy_file((example / "spec_vs_c.policy.json").string()).waivers;
    plan.diff_report = (bundle / "diffs" / (key + "_{pixel}")).string();
    comparisons.push_back({"nbsim " + mode, key, mode, run_parity_plan(plan)});
    if (!comparisons.back().result.failures.empty())
      throw std::runtime_error(comparisons.back().result.failures.front().message());
  }
  if (port && (!port->image.empty() || !port->traces.empty())) {
    ParityPlan plan = base;
    plan.test = {"PyTorch port", *port, {}, shape};
    plan.pixels.clear();
    for (const StoredTrace& t : port->traces) plan.pixels.push_back(t.pixel);
    plan.diff = DiffOptions{};  // the peer's 1e-6
    plan.diff_report = (bundle / "diffs" / "pytorch_{pixel}").string();
    comparisons.push_back({"PyTorch port", "pytorch", "", run_parity_plan(plan)});
  }

  json metrics;
  metrics["tool"] = "nbparity demo";
  metrics["version"] = std::string(version());
  metrics["bundle_id"] = id;
  metrics["case"] = spec.value("id", std::string("demo_scaling"));
  for (const Comparison& cmp : comparisons)
    if (!cmp.mode.empty()) metrics["nbsim_runtime_s"][cmp.mode] = cmp.result.test.seconds;

  // Images.
  out << "images against nanoBragg.c (" << shape.fast << "x" << shape.slow << "):\n";
  bool ok = true;
  json image_results = json::array();
  const auto nine = [](const std::optional<double>& v, const char* none) {
    return v ? fmt::format("{:.9f}", *v) : std::string(none);
  };
  const auto six = [](const std::optional<double>& v, const char* none) {
    return v ? fmt::format("{:.6g}", *v) : std::string(none);
  };
  for (const Comparison& cmp : comparisons) {
    if (!cmp.result.images) continue;
    const image::Metrics& m = cmp.result.images->metrics;
    image_results.push_back({{"test", cmp.label},
                             {"correlation", m.correlation ? json(*m.correlation) : json(nullptr)},
                             {"max_abs_diff", m.max_abs_diff},
                             {"sum_ratio", m.sum_ratio ? json(*m.sum_ratio) : json(nullptr)},
                             {"peaks_matched_fraction", m.peaks.matched_fraction}});
    out << fmt::format("  {}: correlation {}, max |diff| {:.4g}, sum ratio {}\n", cmp.label,
                       nine(m.correlation, "undefined"), m.max_abs_diff, six(m.sum_ratio, "n/a"));
    if (cmp.key == "cparity" && m.max_abs_diff != 0) ok = false;
  }
  metrics["images"] = image_results;

  // Traces.
  json trace_results = json::array();
  json attribution_results = json::array();
  out << "traces against nanoBragg.c:\n";
  for (const TracedPixel& p : pixels) {
    const std::string px = pixel_name(p);
    for (const Comparison& cmp : comparisons) {
      const PixelResult* r = cmp.pixel(p);
      if (!r) continue;
      const DiffResult& d = r->evidence->diff;
      const std::string first = r->first_divergence_label.value_or("none");
      const bool carryover = only_carryover(d);
      if (cmp.key == "cparity" && !r->pass()) ok = false;
      if (cmp.key == "spec" && (!carryover || !r->first_divergence)) ok = false;
      trace_results.push_back({{"pixel", {p.slow, p.fast}},
                               {"test", cmp.label},
                               {"tolerance_rel", r->tolerance_rel},
                               {"compared", r->num_compared},
                               {"divergent", r->num_divergent},
                               {"waived", r->num_waived},
                               {"first_divergence", r->first_divergence ? json(first) : json(nullptr)},
                               {"only_phi_carryover", carryover},
                               {"report", "diffs/" + cmp.key + "_" + px + ".md"}});
      out << fmt::format("  ({}, {}) {}: {} fields, {} divergent, {} waived; first divergence {}{}\n", p.slow, p.fast,
                         cmp.label, r->num_compared, r->num_divergent, r->num_waived, first,
                         cmp.key == "spec" ? (carryover ? " (the phi carry-over only)" : " (NOT only the carry-over)") : "");
      if (cmp.key == "cparity") continue;
      AttributionOptions ao;
      ao.ref_label = "nanoBragg.c";
      ao.test_label = cmp.label;
      const Attribution a = attribute_gap(r->evidence->ref, r->evidence->test, ao);
      const std::string stem = cmp.key + "_" + px;
      AtomicFileSet af;
      af.add(bundle / "attribution" / (stem + ".svg"), attribution_svg(a));
      af.add(bundle / "attribution" / (stem + ".md"), attribution_markdown(a, stem + ".svg"));
      af.add(bundle / "attribution" / (stem + ".json"), attribution_json(a));
      af.commit();
      attribution_results.push_back({{"pixel", {p.slow, p.fast}},
                                     {"test", cmp.label},
                                     {"gap_rel", a.gap_rel},
                                     {"attributed_share", a.attributed_share},
                                     {"terms_inconsistent", a.terms_inconsistent},
                                     {"leading_hypothesis", a.hypotheses.empty() ? json(nullptr) : json(a.hypotheses.front().id)},
                                     {"report", "attribution/" + stem + ".md"}});
      out << "      attribution: I_before_scaling gap " << percent(a.gap_rel, "{:+.4f}%") << ", "
          << (a.terms_inconsistent ? std::string("not decomposable by steps (per-step terms do not add up)")
                                   : percent(a.attributed_share, "{:.2f}%") + " attributed")
          << "; leading hypothesis " << (a.hypotheses.empty() ? std::string("none") : a.hypotheses.front().id) << "\n";
      if (cmp.key == "spec" && (a.hypotheses.empty() || a.hypotheses.front().id != "phi-carryover")) ok = false;
    }
  }
  metrics["traces"] = trace_results;
  metrics["attribution"] = attribution_results;
  metrics["expectations_hold"] = ok;

  std::string md = "# nbparity demo: " + metrics["case"].get<std::string>() + "\n\n";
  md += "nbsim in both modes and the PyTorch port, each against nanoBragg.c.\n\n## Images\n\n";
  md += "| test | correlation | max abs diff | sum ratio |\n|---|---|---|---|\n";
  for (const auto& r : image_results) {
    const auto number = [&](const char* key) {
      return r[key].is_null() ? std::optional<double>() : std::optional<double>(r[key].get<double>());
    };
    md += fmt::format("| {} | {} | {:.4g} | {} |\n", r["test"].get<std::string>(), nine(number("correlation"), "—"),
                      r["max_abs_diff"].get<double>(), six(number("sum_ratio"), "—"));
  }
  md += "\n## Traces\n\n| pixel | test | compared | divergent | waived | first divergence | report |\n|---|---|---|---|---|---|---|\n";
  for (const auto& r : trace_results) {
    const std::string report = r["report"].get<std::string>();
    md += fmt::format("| ({}, {}) | {} | {} | {} | {} | {} | [{}]({}) |\n", r["pixel"][0].get<int>(),
                      r["pixel"][1].get<int>(), r["test"].get<std::string>(), r["compared"].get<std::size_t>(),
                      r["divergent"].get<std::size_t>(), r["waived"].get<std::size_t>(),
                      r["first_divergence"].is_null() ? std::string("—") : r["first_divergence"].get<std::string>(),
                      report, report);
  }
  md += "\n## Attribution of the I_before_scaling gaps\n\n| pixel | test | gap | attributed | leading hypothesis |\n|---|---|---|---|---|\n";
  for (const auto& r : attribution_results) {
    md += fmt::format("| ({}, {}) | {} | {} | {} | [{}]({}) |\n", r["pixel"][0].get<int>(), r["pixel"][1].get<int>(),
                      r["test"].get<std::string>(), percent(r["gap_rel"].get<double>(), "{:+.4f}%"),
                      percent(r["attributed_share"].get<double>(), "{:.2f}%"),
                      r["leading_hypothesis"].is_null() ? std::string("none") : r["leading_hypothesis"].get<std::string>(),
                      r["report"].get<std::string>());
  }
  md += std::string("\nExpectations (c-parity equals nanoBragg.c; spec mode differs by the phi carry-over only): **") +
        (ok ? "hold" : "do NOT hold") + "**\n";
  AtomicFileSet files;
  files.add(bundle / "metrics.json", metrics.dump(2) + "\n");
  files.add(bundle / "summary.md", md);
  // nanoBragg.c's image beside nbsim's, so that the bundle's report.html
  // shows each against it.
  files.add(bundle / "ref_image.bin", read_text_file(c_outputs.image));
  files.commit();

  record.exit_code = ok ? exit_code::ok : exit_code::divergence;
  record.duration_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  bundle::append_command(bundle, record);
  bundle::seal_bundle(bundle::SealOptions{bundle.string(), "nbparity", 0});
  const bundle::VerifyResult v = bundle::verify_manifest(bundle, bundle::kManifestName, 0, true);
  bundle::AuditOptions ao;
  ao.dir = bundle.string();
  const bundle::AuditResult audit = bundle::audit_bundle(ao);
  const std::string shown = (fs::path(opt.out_dir) / "parity" / id).string();
  out << "bundle: " << shown << " sealed; verify " << v.count(bundle::Verdict::ok) << "/" << v.items.size()
      << " OK; audit "
      << (audit.errors() ? std::to_string(audit.errors()) + " errors" : std::string("clean")) << "\n";
  out << "report: " << shown << "/summary.md\n";
  out << report_line(shown, report::write_bundle_report(bundle, "nbparity")) << "\n";
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
  return [opt] { return run_demo(*opt, std::cout, std::cerr); };
}
