// nbparity matrix: cases files, one case through the parity engine, the
// cases spread by a WorkPool.
#include "nbtrace/parity/matrix.hpp"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <chrono>
#include <exception>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "nbtrace/base/error.hpp"
#include "nbtrace/base/files.hpp"
#include "nbtrace/base/numbers.hpp"
#include "nbtrace/base/paths.hpp"
#include "nbtrace/parity/work_pool.hpp"

namespace nbtrace {

namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

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
    if (k == "correlation_min") t.image.correlation_min = number();
    else if (k == "max_abs_diff") t.image.max_abs_diff = number();
    else if (k == "max_abs_diff_rel") t.image.max_abs_diff_rel = number();
    else if (k == "peaks_matched_min") t.image.peaks_matched_min = number();
    else if (k == "peaks_max_displacement") t.image.peaks_max_displacement = number();
    else if (k == "trace_tolerance") t.trace_tolerance = number();
    else if (k == "sum_ratio") {
      if (!v.is_array() || v.size() != 2 || !v[0].is_number() || !v[1].is_number()) {
        throw InputError(where + ": sum_ratio must be [low, high]");
      }
      t.image.sum_ratio = std::pair<double, double>{v[0].get<double>(), v[1].get<double>()};
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

namespace {

/// The case as a plan: its golden outputs (or the reference program) against
/// the program under test, on the traced pixels of the golden case.
ParityPlan case_plan(const MatrixCase& c, const MatrixOptions& opt, const json& spec) {
  const fs::path golden = c.golden;
  ParityPlan plan;
  plan.args = spec.at("image_command").get<std::vector<std::string>>();
  plan.args.erase(plan.args.begin());  // the program name
  plan.inputs_base = golden;
  const image::Shape shape{spec.at("fpixels").get<std::size_t>(), spec.at("spixels").get<std::size_t>()};
  StoredOutputs stored{golden / "image.bin", {}};
  for (const auto& tr : spec.at("traces")) {
    const TracedPixel p{tr.at("spixel").get<int>(), tr.at("fpixel").get<int>()};
    plan.pixels.push_back(p);
    stored.traces.push_back({p, golden / tr.at("file").get<std::string>()});
  }
  if (opt.ref_bin.empty()) {
    plan.ref = {"golden", std::move(stored), {}, shape};
  } else {
    plan.ref = {fs::path(opt.ref_bin).filename().string(), SideProgram{{opt.ref_bin}}, {}, shape};
  }
  const std::string test_bin = opt.test_bin == "nbsim" ? sibling_tool("nbsim") : opt.test_bin;
  SideProgram test{{test_bin}};
  test.leading_args = {"-mode", c.thresholds.mode};
  plan.test = {fs::path(test_bin).filename().string(), std::move(test), {}, shape};
  plan.thresholds = c.thresholds.image;
  plan.diff.policy.rel = c.thresholds.trace_tolerance;
  plan.diff.policy.waivers = c.thresholds.waivers;
  return plan;
}

}  // namespace

CaseResult run_matrix_case(const MatrixCase& c, const MatrixOptions& opt) {
  CaseResult r;
  r.id = c.id;
  const auto t0 = std::chrono::steady_clock::now();
  try {
    const json spec = json::parse(read_text_file(fs::path(c.golden) / "case.json"));
    const ParityResult p = run_parity_plan(case_plan(c, opt, spec));
    if (p.images) {
      const image::Metrics& m = p.images->metrics;
      r.correlation = m.correlation;
      r.sum_ratio = m.sum_ratio;
      r.max_abs_diff = m.max_abs_diff;
      r.max_abs_diff_rel = p.images->max_abs_diff_rel;
      r.peaks_matched = m.peaks.matched_fraction;
      r.peaks_max_displacement = m.peaks.max_displacement;
      r.failed_checks = p.images->failed_checks;
    }
    for (const PixelResult& px : p.pixels) {
      ++r.traces;
      if (px.pass()) continue;
      ++r.traces_divergent;
      if (r.first_divergence.empty()) r.first_divergence = px.first_divergence.value_or("");
    }
    if (r.traces_divergent) r.failed_checks.push_back("traces");
    if (p.verdict == Verdict::not_compared) r.failed_checks.push_back("not_compared");
    if (!p.failures.empty()) r.error = p.failures.front().message();
    r.pass = r.error.empty() && r.failed_checks.empty();
  } catch (const std::exception& e) {
    r.error = e.what();
    r.pass = false;
  }
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return r;
}

void to_json(json& e, const CaseResult& r) {
  e = json::object();
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
}

void from_json(const json& e, CaseResult& r) {
  r = CaseResult{};
  r.id = e.at("id").get<std::string>();
  r.pass = e.at("pass").get<bool>();
  if (e.at("error").is_string()) r.error = e["error"].get<std::string>();
  if (e.at("correlation").is_number()) r.correlation = e["correlation"].get<double>();
  if (e.at("sum_ratio").is_number()) r.sum_ratio = e["sum_ratio"].get<double>();
  r.max_abs_diff = e.at("max_abs_diff").get<double>();
  r.max_abs_diff_rel = e.at("max_abs_diff_rel").get<double>();
  r.peaks_matched = e.at("peaks_matched_fraction").get<double>();
  r.peaks_max_displacement = e.at("peaks_max_displacement_px").get<double>();
  r.traces = e.at("traces").get<std::size_t>();
  r.traces_divergent = e.at("traces_divergent").get<std::size_t>();
  if (e.at("first_divergence").is_string()) r.first_divergence = e["first_divergence"].get<std::string>();
  r.failed_checks = e.at("failed_checks").get<std::vector<std::string>>();
  r.seconds = e.at("seconds").get<double>();
}

MatrixRun run_matrix(const MatrixOptions& opt, const CaseDone& case_done) {
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
  int setup_code = exit_code::ok;
  if (failure) {
    try {
      std::rethrow_exception(failure);
    } catch (const InputError&) {
      setup_code = exit_code::input;
    } catch (...) {
      setup_code = exit_code::failure;
    }
  }
  MatrixRun run;
  run.root = pool->is_root();
  run.distribution = pool->description();
  run.exit_code = pool->share_from_root(setup_code);
  if (run.exit_code != exit_code::ok) {
    if (run.root && failure) std::rethrow_exception(failure);
    return run;
  }

  run.cases.resize(cases.size());
  pool->run(
      std::vector<bool>(cases.size(), true),
      [&](std::size_t i, const WorkerSlot&) { return json(run_matrix_case(cases[i], opt)); },
      [](std::size_t, const WorkerSlot&) {},
      [&](std::size_t i, const WorkerSlot& where, json r) {
        CaseResult& c = run.cases[i];
        if (r.contains("pool_error")) {
          c.id = cases[i].id;
          c.error = r["pool_error"].get<std::string>();
        } else {
          c = r.get<CaseResult>();
        }
        if (case_done) case_done(c, where, pool->ranks());
      });
  const bool all_pass = std::all_of(run.cases.begin(), run.cases.end(), [](const CaseResult& c) { return c.pass; });
  run.exit_code = pool->share_from_root(all_pass ? exit_code::ok : exit_code::divergence);
  if (!run.root) run.cases.clear();
  return run;
}

}  // namespace nbtrace
