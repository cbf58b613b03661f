#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <ostream>
#include <random>
#include <sstream>
#include <thread>
#include <exception>
#include <yaml-cpp/yaml.h>

#include "nbtrace/base/files.hpp"
#include "nbtrace/trace/diff.hpp"
#include "nbtrace/base/error.hpp"
#include "nbtrace/base/numbers.hpp"
#include "nbtrace/parity/parity.hpp"
#include "nbtrace/base/files.hpp"
#include "nbtrace/base/paths.hpp"
#include "nbtrace/base/process.hpp"
#include "nbtrace/parity/simulator_args.hpp"
#include "nbtrace/parity/work_pool.hpp"

namespace nbtrace {

namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

std::string fmt(const char* spec, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, spec, v);
  return buf;
}

/// A YAML document as JSON: plain scalars that read as numbers, booleans or
/// null become those; quoted scalars stay strings.
json yaml_to_json(const YAML::Node& n) {
  switch (n.Type()) {
    case YAML::NodeType::Sequence: {
      json a = json::array();
      for (const auto& item : n) a.push_back(yaml_to_json(item));
      return a;
    }
    case YAML::NodeType::Map: {
      json o = json::object();
      for (const auto& kv : n) o[kv.first.as<std::string>()] = yaml_to_json(kv.second);
      return o;
    }
    case YAML::NodeType::Scalar: {
      const std::string v = n.Scalar();
      if (n.Tag() == "!") return v;  // quoted
      if (v == "true" || v == "True") return true;
      if (v == "false" || v == "False") return false;
      if (v == "null" || v == "~") return nullptr;
      if (const auto d = parse_double(v)) {
        const bool integral = v.find_first_of(".eEnN") == std::string::npos;
        if (integral) return static_cast<std::int64_t>(*d);
        return *d;
      }
      return v;
    }
    default:
      return nullptr;
  }
}

}  // namespace

void read_case_thresholds(const nlohmann::json& j, CaseThresholds& t, const std::string& where,
                          const std::vector<std::string>& other_keys) {
  if (!j.is_object()) throw InputError(where + ": thresholds must be an object");
  for (const auto& [k, v] : j.items()) {
    auto number = [&] {
      if (!v.is_number()) throw InputError(where + ": " + k + " must be a number");
      return v.get<double>();
    };
    if (k == "correlation_min") t.correlation_min = number();
    else if (k == "max_abs_diff") t.max_abs_diff = number();
    else if (k == "max_abs_diff_rel") t.max_abs_diff_rel = number();
    else if (k == "peaks_matched_min") t.peaks_matched_min = number();
    else if (k == "peaks_max_displacement") t.peaks_max_displacement = number();
    else if (k == "trace_tolerance") t.trace_tolerance = number();
    else if (k == "sum_ratio") {
      if (!v.is_array() || v.size() != 2 || !v[0].is_number() || !v[1].is_number()) {
        throw InputError(where + ": sum_ratio must be [low, high]");
      }
      t.sum_ratio = std::pair<double, double>{v[0].get<double>(), v[1].get<double>()};
    } else if (k == "mode") {
      if (!v.is_string() || (v != "spec" && v != "c-parity")) throw InputError(where + ": mode must be spec or c-parity");
      t.mode = v.get<std::string>();
    } else if (k == "waivers") {
      // Same form as a policy file's waivers.
      const PolicyFile p = parse_policy(json{{"waivers", v}}.dump(), where);
      t.waivers = p.waivers;
    } else if (std::find(other_keys.begin(), other_keys.end(), k) == other_keys.end()) {
      throw InputError(where + ": unknown key '" + k + "'");
    }
  }
}

std::vector<std::string> failed_image_checks(const CaseThresholds& t, const image::Metrics& m, double max_abs_diff_rel) {
  std::vector<std::string> failed;
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

std::vector<MatrixCase> load_matrix_cases(const std::string& path) {
  json j;
  const std::string ext = fs::path(path).extension().string();
  if (ext == ".yaml" || ext == ".yml") {
    try {
      j = yaml_to_json(YAML::Load(read_text_file(path)));
    } catch (const YAML::Exception& e) {
      throw InputError(path + ": not valid YAML: " + e.what());
    }
  } else {
    try {
      j = json::parse(read_text_file(path));
    } catch (const json::parse_error& e) {
      throw InputError(path + ": not valid JSON: " + e.what());
    }
  }
  if (!j.is_object() || !j.contains("cases") || !j["cases"].is_array()) {
    throw InputError(path + ": expected {\"golden_root\", \"defaults\", \"cases\": [...]}");
  }
  // golden_root: relative to the cases file's folder; ${NB_SHARED} expands
  // to $NB_SHARED_DIR or the ../shared beside the repository.
  std::string root = j.value("golden_root", std::string("."));
  const std::string token = "${NB_SHARED}";
  if (const auto at = root.find(token); at != std::string::npos) {
    const char* env = std::getenv("NB_SHARED_DIR");
    root.replace(at, token.size(), env ? env : "../../shared");
  }
  const fs::path base = fs::path(root).is_absolute() ? fs::path(root) : fs::path(path).parent_path() / root;
  CaseThresholds defaults;
  if (j.contains("defaults")) read_case_thresholds(j["defaults"], defaults, path + ": defaults", {"id", "golden", "notes"});
  std::vector<MatrixCase> cases;
  for (const auto& c : j["cases"]) {
    if (!c.is_object() || !c.contains("id") || !c["id"].is_string()) throw InputError(path + ": each case needs an id");
    MatrixCase mc;
    mc.id = c["id"].get<std::string>();
    mc.golden = (base / c.value("golden", mc.id)).lexically_normal().string();
    mc.thresholds = defaults;
    read_case_thresholds(c, mc.thresholds, path + ": case " + mc.id, {"id", "golden", "notes"});
    cases.push_back(std::move(mc));
  }
  return cases;
}

CaseResult run_matrix_case(const MatrixCase& c, const MatrixOptions& opt) {
  CaseResult r;
  r.id = c.id;
  const auto t0 = std::chrono::steady_clock::now();
  try {
    const fs::path golden = c.golden;
    const json spec = json::parse(read_text_file(golden / "case.json"));
    std::vector<std::string> args = spec.at("image_command").get<std::vector<std::string>>();
    args.erase(args.begin());  // the program name
    args = absolutize_inputs(args, golden);
    const std::size_t fast = spec.at("fpixels").get<std::size_t>();
    const std::size_t slow = spec.at("spixels").get<std::size_t>();
    const std::string test_bin = opt.test_bin == "nbsim" ? sibling_tool("nbsim") : opt.test_bin;
    std::vector<std::string> test_args{"-mode", c.thresholds.mode};
    test_args.insert(test_args.end(), args.begin(), args.end());

    ScratchDir scratch("nbparity-case-");
    auto run = [&](const std::string& bin, const std::vector<std::string>& a, const fs::path& floatfile,
                   const fs::path& out_file) {
      std::vector<std::string> argv{bin};
      const auto full = with_floatfile(a, floatfile);
      argv.insert(argv.end(), full.begin(), full.end());
      const RunOutcome o = run_program(argv, scratch.path(), out_file, scratch.path() / "stderr.log");
      if (o.exit_code != 0) {
        throw std::runtime_error(fs::path(bin).filename().string() + " exited " + std::to_string(o.exit_code) + ": " +
                                 read_text_file(scratch.path() / "stderr.log").substr(0, 300));
      }
    };
    fs::path ref_image = golden / "image.bin";
    if (!opt.ref_bin.empty()) {
      ref_image = scratch.path() / "ref.bin";
      run(opt.ref_bin, args, ref_image, scratch.path() / "ref_stdout.log");
    }
    run(test_bin, test_args, scratch.path() / "test.bin", scratch.path() / "test_stdout.log");
    const image::Image ref = image::load_float_image(ref_image.string(), fast, slow);
    const image::Image test = image::load_float_image((scratch.path() / "test.bin").string(), fast, slow);
    const image::Metrics m = image::compare(ref, test, {});
    r.correlation = m.correlation;
    r.sum_ratio = m.sum_ratio;
    r.max_abs_diff = m.max_abs_diff;
    const float ref_max = ref.data.empty() ? 0.0f : *std::max_element(ref.data.begin(), ref.data.end());
    r.max_abs_diff_rel = ref_max > 0 ? m.max_abs_diff / ref_max : 0.0;
    r.peaks_matched = m.peaks.matched_fraction;
    r.peaks_max_displacement = m.peaks.max_displacement;
    const CaseThresholds& t = c.thresholds;
    r.failed_checks = failed_image_checks(t, m, r.max_abs_diff_rel);
    // Traces of the golden pixels.
    DiffOptions d;
    d.policy.rel = t.trace_tolerance;
    d.policy.waivers = t.waivers;
    for (const auto& tr : spec.at("traces")) {
      const int s = tr.at("spixel").get<int>();
      const int f = tr.at("fpixel").get<int>();
      fs::path ref_trace = golden / tr.at("file").get<std::string>();
      std::vector<std::string> trace_args = test_args;
      trace_args.insert(trace_args.end(), {"-trace_pixel", std::to_string(s), std::to_string(f)});
      const fs::path test_trace = scratch.path() / ("test_trace_" + std::to_string(s) + "_" + std::to_string(f) + ".log");
      run(test_bin, trace_args, scratch.path() / "trace.bin", test_trace);
      if (!opt.ref_bin.empty()) {
        std::vector<std::string> ref_args = args;
        ref_args.insert(ref_args.end(), {"-trace_pixel", std::to_string(s), std::to_string(f)});
        ref_trace = scratch.path() / ("ref_trace_" + std::to_string(s) + "_" + std::to_string(f) + ".log");
        run(opt.ref_bin, ref_args, scratch.path() / "trace.bin", ref_trace);
      }
      const Trace a = load_trace(ref_trace.string());
      const Trace b = load_trace(test_trace.string());
      const DiffResult dr = diff_traces(a, b, d);
      ++r.traces;
      if (dr.num_divergent) {
        ++r.traces_divergent;
        if (r.first_divergence.empty()) r.first_divergence = std::string(dr.name(dr.fields[*dr.first_divergence]));
      }
    }
    if (r.traces_divergent) r.failed_checks.push_back("traces");
    r.pass = r.failed_checks.empty();
  } catch (const std::exception& e) {
    r.error = e.what();
    r.pass = false;
  }
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return r;
}

namespace {

json case_to_json(const CaseResult& r) {
  json e;
  e["id"] = r.id;
  e["pass"] = r.pass;
  e["error"] = r.error.empty() ? json(nullptr) : json(r.error);
  e["correlation"] = r.correlation ? json(*r.correlation) : json(nullptr);
  e["sum_ratio"] = r.sum_ratio ? json(*r.sum_ratio) : json(nullptr);
  e["max_abs_diff"] = r.max_abs_diff;
  e["max_abs_diff_rel"] = r.max_abs_diff_rel;
  e["peaks_matched_fraction"] = r.peaks_matched;
  e["peaks_max_displacement_px"] = r.peaks_max_displacement;
  e["traces"] = r.traces;
  e["traces_divergent"] = r.traces_divergent;
  e["first_divergence"] = r.first_divergence.empty() ? json(nullptr) : json(r.first_divergence);
  e["failed_checks"] = r.failed_checks;
  e["seconds"] = r.seconds;
  return e;
}

/// The inverse of case_to_json: results come back from other MPI ranks as JSON.
CaseResult case_from_json(const json& e) {
  CaseResult r;
  r.id = e.at("id").get<std::string>();
  r.pass = e.at("pass").get<bool>();
  if (e["error"].is_string()) r.error = e["error"].get<std::string>();
  if (e["correlation"].is_number()) r.correlation = e["correlation"].get<double>();
  if (e["sum_ratio"].is_number()) r.sum_ratio = e["sum_ratio"].get<double>();
  r.max_abs_diff = e.at("max_abs_diff").get<double>();
  r.max_abs_diff_rel = e.at("max_abs_diff_rel").get<double>();
  r.peaks_matched = e.at("peaks_matched_fraction").get<double>();
  r.peaks_max_displacement = e.at("peaks_max_displacement_px").get<double>();
  r.traces = e.at("traces").get<std::size_t>();
  r.traces_divergent = e.at("traces_divergent").get<std::size_t>();
  if (e["first_divergence"].is_string()) r.first_divergence = e["first_divergence"].get<std::string>();
  r.failed_checks = e.at("failed_checks").get<std::vector<std::string>>();
  r.seconds = e.at("seconds").get<double>();
  return r;
}

}  // namespace

int run_matrix(const MatrixOptions& opt, std::ostream& out, std::ostream& err) {
  const std::unique_ptr<WorkPool> pool =
      make_work_pool(opt.mpi ? Distribution::mpi : Distribution::automatic, std::max(1u, opt.jobs));
  std::vector<MatrixCase> cases;
  std::exception_ptr failure;
  try {
    cases = load_matrix_cases(opt.cases_file);
    if (!opt.only.empty()) {
      std::erase_if(cases, [&](const MatrixCase& c) { return std::find(opt.only.begin(), opt.only.end(), c.id) == opt.only.end(); });
      if (cases.empty()) throw UsageError("--case: no such case in " + opt.cases_file);
    }
  } catch (...) {
    failure = std::current_exception();
  }
  // Every rank reads the same file; rank 0 alone reports a problem.
  int setup_code = 0;
  if (failure) {
    try {
      std::rethrow_exception(failure);
    } catch (const InputError&) {
      setup_code = exit_code::input;
    } catch (...) {
      setup_code = exit_code::failure;
    }
  }
  setup_code = pool->share_from_root(setup_code);
  if (setup_code != 0) {
    if (pool->is_root() && failure) std::rethrow_exception(failure);
    return setup_code;
  }

  std::vector<CaseResult> results(cases.size());
  pool->run(
      std::vector<bool>(cases.size(), true),
      [&](std::size_t i, const WorkerSlot&) { return case_to_json(run_matrix_case(cases[i], opt)); },
      [](std::size_t, const WorkerSlot&) {},
      [&](std::size_t i, const WorkerSlot& where, json r) {
        if (r.contains("pool_error")) {
          results[i].id = cases[i].id;
          results[i].error = r["pool_error"].get<std::string>();
        } else {
          results[i] = case_from_json(r);
        }
        err << "[" << (results[i].pass ? "pass" : "FAIL") << "] " << results[i].id << " (" << fmt("%.1f", results[i].seconds)
            << " s" << (pool->ranks() > 1 ? ", rank " + std::to_string(where.rank) : "") << ")\n";
      });
  if (!pool->is_root()) return pool->share_from_root(0);

  std::size_t failed = 0;
  std::string table = "| case | verdict | correlation | sum ratio | max rel Δ | peaks | traces | first divergence / failure |\n";
  table += "|---|---|---|---|---|---|---|---|\n";
  json doc;
  doc["cases_file"] = opt.cases_file;
  doc["mode"] = opt.ref_bin.empty() ? "golden" : "reference program";
  doc["distribution"] = pool->description();
  json arr = json::array();
  for (const CaseResult& r : results) {
    if (!r.pass) ++failed;
    std::string why = r.error;
    if (why.empty()) {
      for (const std::string& f : r.failed_checks) why += (why.empty() ? "" : ", ") + f;
      if (!r.first_divergence.empty()) why += " (" + r.first_divergence + ")";
    }
    table += "| " + r.id + " | " + (r.pass ? "PASS" : "FAIL") + " | " +
             (r.correlation ? fmt("%.9f", *r.correlation) : std::string("—")) + " | " +
             (r.sum_ratio ? fmt("%.9f", *r.sum_ratio) : std::string("—")) + " | " + fmt("%.2e", r.max_abs_diff_rel) +
             " | " + fmt("%.2f", r.peaks_matched) + " | " + std::to_string(r.traces - r.traces_divergent) + "/" +
             std::to_string(r.traces) + " | " + why + " |\n";
    arr.push_back(case_to_json(r));
  }
  doc["cases"] = arr;
  doc["passed"] = results.size() - failed;
  doc["failed"] = failed;
  out << table << "\n" << (results.size() - failed) << " passed, " << failed << " failed\n";
  AtomicFileSet files;
  if (!opt.json_out.empty()) files.add(opt.json_out, doc.dump(2) + "\n");
  if (!opt.md_out.empty()) files.add(opt.md_out, "# Parity matrix\n\n" + table);
  files.commit();
  return pool->share_from_root(failed ? exit_code::divergence : exit_code::ok);
}

}  // namespace nbtrace
