// nbparity matrix: suite files in either schema, one check through the
// parity engine, the port's metrics files, the checks spread by a WorkPool.
#include "nbtrace/parity/matrix.hpp"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <exception>
#include <fmt/format.h>
#include <filesystem>
#include <limits>
#include <nlohmann/json.hpp>
#include <set>

#include "nbtrace/base/error.hpp"
#include "nbtrace/base/files.hpp"
#include "nbtrace/base/numbers.hpp"
#include "nbtrace/base/paths.hpp"
#include "nbtrace/base/shell.hpp"
#include "nbtrace/bundle/bundle.hpp"
#include "nbtrace/parity/image_json.hpp"
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

std::string_view schema_name(SuiteSchema s) { return s == SuiteSchema::port ? "port" : "project"; }

namespace {

json read_suite_document(const std::string& path) {
  const std::string ext = fs::path(path).extension().string();
  if (ext == ".yaml" || ext == ".yml") {
    try {
      return yaml_to_json(YAML::Load(read_text_file(path)));
    } catch (const YAML::Exception& e) {
      throw InputError(path + ": not valid YAML: " + e.what());
    }
  }
  try {
    return json::parse(read_text_file(path));
  } catch (const json::parse_error& e) {
    throw InputError(path + ": not valid JSON: " + e.what());
  }
}

std::string known(std::initializer_list<const char*> keys) {
  std::string out;
  for (const char* k : keys) out += std::string(out.empty() ? "" : ", ") + k;
  return " (known: " + out + ")";
}

// ------------------------------------------------------------ the project's schema

std::vector<MatrixCase> load_project_cases(const json& j, const std::string& path) {
  for (const auto& [k, v] : j.items()) {
    if (k != "golden_root" && k != "defaults" && k != "cases") {
      throw InputError(path + ": top level: unknown key '" + k + "'" + known({"golden_root", "defaults", "cases"}));
    }
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

// ------------------------------------------------------------ the port's schema

/// Letters, digits, '.', '_', '-', and not "." or "..": ids and run names name files.
bool safe_name(const std::string& s) {
  const bool chars = !s.empty() && s.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-") ==
                                       std::string::npos;
  return chars && s != "." && s != "..";
}

/// A base_args / extra_args string split as sh would (null or absent: none).
std::vector<std::string> split_args(const json& j, const char* key, const std::string& where) {
  if (!j.contains(key) || j[key].is_null()) return {};
  if (!j[key].is_string()) throw InputError(where + ": " + key + " must be a string of arguments");
  std::string why;
  const auto words = shell_split(j[key].get<std::string>(), &why);
  if (!words) throw InputError(where + ": " + key + ": " + why);
  return *words;
}

/// The port's thresholds as the engine's: corr_min → correlation_min,
/// sum_ratio_min/max → sum_ratio, max_abs_max → max_abs_diff. A bound given
/// alone is checked alone (the port's harness skips it).
ImageThresholds port_thresholds(const json& t, const std::string& where) {
  ImageThresholds out;
  if (t.is_null()) return out;
  if (!t.is_object()) throw InputError(where + ": thresholds must be a mapping");
  std::optional<double> low, high;
  for (const auto& [k, v] : t.items()) {
    std::optional<double>* slot = k == "corr_min"        ? &out.correlation_min
                                  : k == "max_abs_max"   ? &out.max_abs_diff
                                  : k == "sum_ratio_min" ? &low
                                  : k == "sum_ratio_max" ? &high
                                                         : nullptr;
    if (!slot) {
      throw InputError(where + ": thresholds: unknown key '" + k + "'" +
                       known({"corr_min", "sum_ratio_min", "sum_ratio_max", "max_abs_max"}));
    }
    if (!v.is_number() || !std::isfinite(v.get<double>())) throw InputError(where + ": thresholds: " + k + " must be a number");
    *slot = v.get<double>();
  }
  if (low || high) {
    constexpr double inf = std::numeric_limits<double>::infinity();
    out.sum_ratio = std::pair<double, double>{low.value_or(-inf), high.value_or(inf)};
    if (out.sum_ratio->first > out.sum_ratio->second) throw InputError(where + ": thresholds: sum_ratio_min > sum_ratio_max");
  }
  return out;
}

std::string required_name(const json& j, const char* key, const std::string& where) {
  if (!j.contains(key) || !j[key].is_string()) throw InputError(where + ": needs a string '" + key + "'");
  const std::string s = j[key].get<std::string>();
  if (!safe_name(s)) {
    throw InputError(where + ": " + key + " '" + s + "' must be letters, digits, '.', '_' or '-' (it names files)");
  }
  return s;
}

std::vector<MatrixCase> load_port_cases(const json& j, const std::string& path) {
  for (const auto& [k, v] : j.items()) {
    if (k != "cases") throw InputError(path + ": top level: unknown key '" + k + "'" + known({"cases"}));
  }
  std::vector<MatrixCase> checks;
  std::set<std::string> ids;
  std::size_t index = 0;
  for (const auto& c : j["cases"]) {
    ++index;
    const std::string at = path + ": case #" + std::to_string(index);
    if (!c.is_object()) throw InputError(at + ": must be a mapping");
    const std::string id = required_name(c, "id", at);
    const std::string where = path + ": case " + id;
    if (!ids.insert(id).second) throw InputError(where + ": id appears twice");
    for (const auto& [k, v] : c.items()) {
      if (k != "id" && k != "description" && k != "base_args" && k != "thresholds" && k != "runs") {
        throw InputError(where + ": unknown key '" + k + "'" + known({"id", "description", "base_args", "thresholds", "runs"}));
      }
    }
    std::string description;
    if (c.contains("description") && !c["description"].is_null()) {
      if (!c["description"].is_string()) throw InputError(where + ": description must be a string");
      description = c["description"].get<std::string>();
    }
    const std::vector<std::string> base = split_args(c, "base_args", where);
    const ImageThresholds case_thresholds = port_thresholds(c.value("thresholds", json()), where);
    if (!c.contains("runs") || !c["runs"].is_array() || c["runs"].empty()) throw InputError(where + ": needs a list of runs");
    std::set<std::string> names;
    std::size_t run_index = 0;
    for (const auto& r : c["runs"]) {
      ++run_index;
      const std::string run_at = where + ": run #" + std::to_string(run_index);
      if (!r.is_object()) throw InputError(run_at + ": must be a mapping");
      MatrixCase mc;
      mc.id = id;
      mc.run = required_name(r, "name", run_at);
      const std::string run_where = where + ", run " + mc.run;
      if (!names.insert(mc.run).second) throw InputError(run_where + ": name appears twice");
      for (const auto& [k, v] : r.items()) {
        if (k != "name" && k != "extra_args" && k != "thresholds") {
          throw InputError(run_where + ": unknown key '" + k + "'" + known({"name", "extra_args", "thresholds"}));
        }
      }
      mc.description = description;
      mc.args = base;
      const std::vector<std::string> extra = split_args(r, "extra_args", run_where);
      mc.args.insert(mc.args.end(), extra.begin(), extra.end());
      // A run's thresholds replace its case's, as in the port's harness.
      mc.thresholds.image = r.contains("thresholds") ? port_thresholds(r["thresholds"], run_where) : case_thresholds;
      checks.push_back(std::move(mc));
    }
  }
  return checks;
}

}  // namespace

MatrixSuite load_matrix_suite(const std::string& path) {
  const json j = read_suite_document(path);
  if (!j.is_object() || !j.contains("cases") || !j["cases"].is_array()) {
    throw InputError(path + ": expected {\"golden_root\", \"defaults\", \"cases\": [...]} or the port's "
                            "{\"cases\": [{\"id\", \"base_args\", \"thresholds\", \"runs\": [...]}]}");
  }
  // A case with runs or base_args is the port's schema; golden_root or
  // defaults is the project's (which then names every case key it does not know).
  const bool port_keys = std::any_of(j["cases"].begin(), j["cases"].end(), [](const json& c) {
    return c.is_object() && (c.contains("runs") || c.contains("base_args"));
  });
  MatrixSuite suite;
  suite.schema = port_keys && !j.contains("golden_root") && !j.contains("defaults") ? SuiteSchema::port : SuiteSchema::project;
  suite.cases = suite.schema == SuiteSchema::port ? load_port_cases(j, path) : load_project_cases(j, path);
  if (suite.cases.empty()) throw InputError(path + ": no cases");
  return suite;
}

// ------------------------------------------------------------ programs

namespace {

bool is_nbsim(const std::vector<std::string>& argv) {
  return !argv.empty() && fs::path(argv.front()).filename() == "nbsim";
}

/// The option's value, else (port schema) the environment variable's.
std::pair<std::string, std::string> given(const std::string& option_value, const char* option, const char* env,
                                          SuiteSchema schema) {
  if (!option_value.empty()) return {option_value, option};
  if (schema == SuiteSchema::port) {
    if (const char* v = std::getenv(env); v && *v) return {v, env};
  }
  return {"", ""};
}

}  // namespace

MatrixPrograms matrix_programs(const MatrixOptions& opt, SuiteSchema schema) {
  MatrixPrograms p;
  const auto [ref, ref_from] = given(opt.ref_bin, "--ref-bin", "NB_C_BIN", schema);
  if (!ref.empty()) {
    p.ref = command_line_argv(ref, ref_from);
  } else if (schema == SuiteSchema::port) {
    throw UsageError(opt.cases_file +
                     " runs a reference program on every case (the port's schema): give --ref-bin CMD or set NB_C_BIN");
  }
  const auto [test, test_from] = given(opt.test_bin, "--test-bin", "NB_PY_BIN", schema);
  p.test = test.empty() ? std::vector<std::string>{sibling_tool("nbsim")} : command_line_argv(test, test_from);
  p.ref_is_nbsim = is_nbsim(p.ref);
  p.test_is_nbsim = is_nbsim(p.test);
  return p;
}

// ------------------------------------------------------------ one check

namespace {

std::string side_label(const char* side, const std::vector<std::string>& argv) {
  return std::string(side) + " " + fs::path(argv.front()).filename().string();
}

/// A project-schema case as a plan: its golden outputs (or the reference
/// program) against the program under test, on the golden case's traced pixels.
ParityPlan golden_plan(const MatrixCase& c, const MatrixPrograms& programs, const json& spec) {
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
  if (programs.ref.empty()) {
    plan.ref = {"golden", std::move(stored), {}, shape};
  } else {
    plan.ref = {fs::path(programs.ref.front()).filename().string(), SideProgram{programs.ref}, {}, shape};
  }
  SideProgram test{programs.test};
  test.leading_args = {"-mode", c.thresholds.mode};
  plan.test = {fs::path(programs.test.front()).filename().string(), std::move(test), {}, shape};
  plan.thresholds = c.thresholds.image;
  plan.diff.policy.rel = c.thresholds.trace_tolerance;
  plan.diff.policy.waivers = c.thresholds.waivers;
  return plan;
}

/// A port-schema run as a plan: both programs on the run's arguments, each
/// in its own scratch folder on copies of the input files (named relative to
/// the current folder, as the port's harness runs them), images only.
ParityPlan port_plan(const MatrixCase& c, const MatrixPrograms& programs, bool keep_images) {
  ParityPlan plan;
  SideProgram ref{programs.ref};
  ref.nbsim = programs.ref_is_nbsim;
  SideProgram test{programs.test};
  test.nbsim = programs.test_is_nbsim;
  plan.ref = {side_label("ref", programs.ref), std::move(ref), {}, std::nullopt};
  plan.test = {side_label("test", programs.test), std::move(test), {}, std::nullopt};
  plan.args = c.args;
  plan.inputs = InputStaging::copies;
  plan.thresholds = c.thresholds.image;
  plan.keep_evidence = keep_images;
  return plan;
}

bool any_threshold(const ImageThresholds& t) {
  return t.correlation_min || t.sum_ratio || t.max_abs_diff || t.max_abs_diff_rel || t.peaks_matched_min ||
         t.peaks_max_displacement;
}

std::string shape_text(const std::optional<image::Shape>& s) {
  return s ? fmt::format("{}x{}", s->fast, s->slow) : std::string("unknown");
}

/// The engine's result in the check's result.
void record(CaseResult& r, const ParityResult& p) {
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
  if (p.verdict == Verdict::shape_mismatch) {
    r.failed_checks.push_back("shape");
    r.error = "image shapes differ: ref " + shape_text(p.ref.shape) + ", test " + shape_text(p.test.shape) + " (fast x slow)";
  }
  if (!p.failures.empty()) r.error = p.failures.front().message();
  r.verdict = std::string(verdict_name(p.verdict));
  r.exit_code = p.exit_code();
  r.pass = p.verdict == Verdict::pass;
}

SuiteRunMetrics port_metrics(const MatrixCase& c, const MatrixPrograms& programs, const image::Metrics& m) {
  SuiteRunMetrics out;
  static_cast<image::PeerImageMetrics&>(out) = image::peer_image_metrics(m);
  out.case_id = c.id;
  out.run_name = c.run;
  out.args = shell_join(c.args);
  out.c_binary = shell_join(programs.ref);
  out.pytorch_cli = shell_join(programs.test);
  out.timestamp = bundle::utc_now_iso();
  return out;
}

/// <case>/<run>_metrics.json and <case>/<run>_diff.png under out_dir, as one set.
std::vector<std::string> write_port_files(const std::string& out_dir, const MatrixCase& c, const SuiteRunMetrics& m,
                                          const ImageComparison& images) {
  const std::string metrics = c.id + "/" + c.run + "_metrics.json";
  const std::string diff = c.id + "/" + c.run + "_diff.png";
  AtomicFileSet files;
  files.add(fs::path(out_dir) / metrics, nlohmann::ordered_json(m).dump(2) + "\n");
  // Signed test − ref, scaled to ± max |Δ| so the largest gap is full colour.
  files.add(fs::path(out_dir) / diff,
            image::png_diff(*images.ref_image, *images.test_image, images.metrics.roi, images.metrics.max_abs_diff));
  files.commit();
  return {metrics, diff};
}

}  // namespace

CaseResult run_matrix_case(const MatrixCase& c, SuiteSchema schema, const MatrixPrograms& programs,
                           const MatrixOptions& opt) {
  CaseResult r;
  r.id = c.id;
  r.run = c.run;
  const auto t0 = std::chrono::steady_clock::now();
  try {
    if (schema == SuiteSchema::project) {
      const json spec = json::parse(read_text_file(fs::path(c.golden) / "case.json"));
      record(r, run_parity_plan(golden_plan(c, programs, spec)));
    } else {
      const bool write = !opt.out_dir.empty();
      const ParityResult p = run_parity_plan(port_plan(c, programs, write));
      record(r, p);
      if (p.images) {
        r.metrics = port_metrics(c, programs, p.images->metrics);
        if (write) r.files = write_port_files(opt.out_dir, c, *r.metrics, *p.images);
      }
      // Images compared against no threshold say nothing: not a pass.
      if (r.pass && !any_threshold(c.thresholds.image)) {
        r.failed_checks.push_back("no_thresholds");
        r.verdict = std::string(verdict_name(Verdict::not_compared));
        r.exit_code = exit_code_of(Verdict::not_compared);
        r.pass = false;
      }
    }
  } catch (const std::exception& e) {
    r.error = e.what();
    r.pass = false;
    r.verdict = "ERROR";
    r.exit_code = dynamic_cast<const InputError*>(&e) ? exit_code::input : exit_code::failure;
  }
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return r;
}

int matrix_exit_code(const std::vector<CaseResult>& results) {
  for (const int code : {exit_code::failure, exit_code::input, exit_code::program_failed, exit_code::check_failed,
                         exit_code::divergence}) {
    if (std::any_of(results.begin(), results.end(), [&](const CaseResult& r) { return !r.pass && r.exit_code == code; })) {
      return code;
    }
  }
  // A check that failed with a code outside the table still fails the matrix.
  const bool all_pass = std::all_of(results.begin(), results.end(), [](const CaseResult& r) { return r.pass; });
  return all_pass ? exit_code::ok : exit_code::failure;
}

// ------------------------------------------------------------ JSON

namespace {


template <typename Json>
void metrics_to_json(Json& j, const SuiteRunMetrics& m) {
  j = Json::object();
  image::write_peer_image_metrics(j, m);
  j["case_id"] = m.case_id;
  j["run_name"] = m.run_name;
  j["args"] = m.args;
  j["c_binary"] = m.c_binary;
  j["pytorch_cli"] = m.pytorch_cli;
  j["timestamp"] = m.timestamp;
}

}  // namespace

void to_json(json& j, const SuiteRunMetrics& m) { metrics_to_json(j, m); }
void to_json(nlohmann::ordered_json& j, const SuiteRunMetrics& m) { metrics_to_json(j, m); }

void from_json(const json& j, SuiteRunMetrics& m) {
  m = SuiteRunMetrics{};
  image::read_peer_image_metrics(j, m);
  j.at("case_id").get_to(m.case_id);
  j.at("run_name").get_to(m.run_name);
  j.at("args").get_to(m.args);
  j.at("c_binary").get_to(m.c_binary);
  j.at("pytorch_cli").get_to(m.pytorch_cli);
  j.at("timestamp").get_to(m.timestamp);
}

void to_json(json& e, const CaseResult& r) {
  e = json::object();
  e["id"] = r.id;
  e["run"] = r.run.empty() ? json(nullptr) : json(r.run);
  e["pass"] = r.pass;
  e["verdict"] = r.verdict;
  e["exit_code"] = r.exit_code;
  e["error"] = r.error.empty() ? json(nullptr) : json(r.error);
  e["correlation"] = image::optional_number<json>(r.correlation);
  e["sum_ratio"] = image::optional_number<json>(r.sum_ratio);
  e["max_abs_diff"] = image::finite_or_null<json>(r.max_abs_diff);
  e["max_abs_diff_rel"] = image::finite_or_null<json>(r.max_abs_diff_rel);
  e["peaks_matched_fraction"] = r.peaks_matched;
  e["peaks_max_displacement_px"] = r.peaks_max_displacement;
  e["traces"] = r.traces;
  e["traces_divergent"] = r.traces_divergent;
  e["first_divergence"] = r.first_divergence.empty() ? json(nullptr) : json(r.first_divergence);
  e["failed_checks"] = r.failed_checks;
  e["metrics"] = r.metrics ? json(*r.metrics) : json(nullptr);
  e["files"] = r.files;
  e["seconds"] = r.seconds;
}

void from_json(const json& e, CaseResult& r) {
  r = CaseResult{};
  r.id = e.at("id").get<std::string>();
  if (e.at("run").is_string()) r.run = e["run"].get<std::string>();
  r.pass = e.at("pass").get<bool>();
  r.verdict = e.at("verdict").get<std::string>();
  r.exit_code = e.at("exit_code").get<int>();
  if (e.at("error").is_string()) r.error = e["error"].get<std::string>();
  r.correlation = image::read_optional_number(e.at("correlation"));
  r.sum_ratio = image::read_optional_number(e.at("sum_ratio"));
  r.max_abs_diff = image::number_or_nan(e.at("max_abs_diff"));
  r.max_abs_diff_rel = image::number_or_nan(e.at("max_abs_diff_rel"));
  r.peaks_matched = e.at("peaks_matched_fraction").get<double>();
  r.peaks_max_displacement = e.at("peaks_max_displacement_px").get<double>();
  r.traces = e.at("traces").get<std::size_t>();
  r.traces_divergent = e.at("traces_divergent").get<std::size_t>();
  if (e.at("first_divergence").is_string()) r.first_divergence = e["first_divergence"].get<std::string>();
  r.failed_checks = e.at("failed_checks").get<std::vector<std::string>>();
  if (!e.at("metrics").is_null()) r.metrics = e["metrics"].get<SuiteRunMetrics>();
  r.files = e.at("files").get<std::vector<std::string>>();
  r.seconds = e.at("seconds").get<double>();
}

// ------------------------------------------------------------ the matrix

MatrixRun run_matrix(const MatrixOptions& opt, const CaseDone& case_done, const ChecksStarting& starting) {
  const std::unique_ptr<WorkPool> pool =
      make_work_pool(opt.mpi ? Distribution::mpi : Distribution::automatic, std::max(1u, opt.jobs));
  MatrixSuite suite;
  MatrixPrograms programs;
  std::exception_ptr failure;
  try {
    suite = load_matrix_suite(opt.cases_file);
    if (!opt.only.empty()) {
      std::erase_if(suite.cases, [&](const MatrixCase& c) {
        return std::find(opt.only.begin(), opt.only.end(), c.id) == opt.only.end() &&
               std::find(opt.only.begin(), opt.only.end(), c.label()) == opt.only.end();
      });
      if (suite.cases.empty()) throw UsageError("--case: no such case in " + opt.cases_file);
    }
    programs = matrix_programs(opt, suite.schema);
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
  run.schema = suite.schema;
  run.programs = programs;
  run.exit_code = pool->share_from_root(setup_code);
  if (run.exit_code != exit_code::ok) {
    if (run.root && failure) std::rethrow_exception(failure);
    return run;
  }

  const std::vector<MatrixCase>& cases = suite.cases;
  run.cases.resize(cases.size());
  if (run.root && starting) starting(cases.size());
  pool->run(
      std::vector<bool>(cases.size(), true),
      [&](std::size_t i, const WorkerSlot&) { return json(run_matrix_case(cases[i], suite.schema, programs, opt)); },
      [](std::size_t, const WorkerSlot&) {},
      [&](std::size_t i, const WorkerSlot& where, json r) {
        CaseResult& c = run.cases[i];
        if (r.contains("pool_error")) {
          c.id = cases[i].id;
          c.run = cases[i].run;
          c.error = r["pool_error"].get<std::string>();
        } else {
          c = r.get<CaseResult>();
        }
        if (case_done) case_done(c, where, pool->ranks());
      });
  run.exit_code = pool->share_from_root(run.root ? matrix_exit_code(run.cases) : exit_code::ok);
  if (!run.root) run.cases.clear();
  return run;
}

}  // namespace nbtrace
