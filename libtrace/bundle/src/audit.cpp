// `nbbundle audit`: every check of verify plus the faults hand-made bundles
// show (docs/bundles.md lists the codes).
#include <algorithm>
#include <cmath>
#include <functional>
#include <cctype>
#include <nlohmann/json.hpp>
#include <ostream>
#include <map>
#include <set>

#include "internal.hpp"
#include "nbtrace/base/files.hpp"
#include "nbtrace/bundle/bundle.hpp"
#include "nbtrace/base/error.hpp"
#include "nbtrace/trace/policy.hpp"
#include "nbtrace/trace/scaling.hpp"
#include "nbtrace/trace/trace.hpp"

namespace nbtrace::bundle {

namespace {

using json = nlohmann::ordered_json;

constexpr std::uint64_t kTextLimit = 64u << 20;  // scan at most this much of one file

struct Auditor {
  const AuditOptions& opt;
  RootDir root;
  std::vector<BundleFile> files;
  std::map<std::string, const BundleFile*> present;
  AuditResult result;

  explicit Auditor(const AuditOptions& o) : opt(o), root(o.dir) {
    files = list_files(root.canonical);
    // Debris of an interrupted write is reported once and checked no further.
    for (const BundleFile& f : files) {
      if (f.staging)
        add(code::stray_staging, Severity::warning, f.path,
            "left by an interrupted write (never sealed or verified); remove it");
    }
    std::erase_if(files, [](const BundleFile& f) { return f.staging; });
    for (const BundleFile& f : files) present[f.path] = &f;
  }

  void add(std::string_view code, Severity sev, std::string file, std::string message) {
    result.findings.push_back({std::string(code), sev, std::move(file), std::move(message)});
  }

  const BundleFile* find(const std::string& path) const {
    const auto it = present.find(path);
    return it == present.end() ? nullptr : it->second;
  }

  /// Reads a bundle file for a content check; nullopt when absent or unsafe.
  std::optional<std::string> read(const std::string& path) const {
    const BundleFile* f = find(path);
    if (!f || f->unfollowable()) return std::nullopt;
    try {
      return read_beneath(root.fd, path, kTextLimit);
    } catch (const InputError&) {
      return std::nullopt;
    }
  }

  void check_manifest();
  void check_text_files(const std::optional<std::string>& folder_id);
  void check_commands();
  void check_git_sha();
  void check_declared_ids(const std::optional<std::string>& folder_id);
  void check_kind_and_metrics();
};

void Auditor::check_manifest() {
  // The same check as nbbundle verify, its verdicts turned into findings.
  const std::string& manifest = opt.manifest;
  if (!present.count(manifest)) {
    add(code::required_missing, Severity::error, manifest, "no manifest (run nbbundle seal)");
    return;
  }
  VerifyResult v;
  try {
    v = verify_manifest(root.canonical, manifest, opt.threads, true);
  } catch (const InputError& e) {
    add(code::required_missing, Severity::error, manifest, e.what());
    return;
  }
  for (const ManifestLineProblem& p : v.malformed) {
    add(code::malformed_line, Severity::error, manifest,
        "line " + std::to_string(p.line) + ": improperly formatted: " + p.text);
  }
  std::string non_gnu;
  for (const VerifyItem& i : v.items) {
    const ManifestEntry& e = i.entry;
    const std::string line = "line " + std::to_string(e.line);
    if (e.format != LineFormat::gnu) non_gnu += (non_gnu.empty() ? "" : ", ") + std::to_string(e.line);
    if (e.path == manifest) {
      add(code::manifest_lists_itself, Severity::error, manifest, line + ": the manifest lists itself, so it can never verify");
      continue;
    }
    const std::string where = "listed on " + line + " of " + manifest;
    switch (i.verdict) {
      case Verdict::ok: break;
      case Verdict::missing: add(code::listed_missing, Severity::error, e.path, where + " but missing"); break;
      case Verdict::refused:
        add(code::unsafe_entry, Severity::error, manifest,
            line + ": " + display_name(e.path) + ": " + i.detail + " (refused, not opened)");
        break;
      case Verdict::failed:
        add(code::hash_mismatch, Severity::error, e.path,
            i.hex.empty() ? where + " but cannot be hashed: " + i.detail
                          : "SHA-256 " + i.hex.substr(0, 12) + "... differs from " + e.hex.substr(0, 12) + "... " + where);
        break;
    }
  }
  if (!non_gnu.empty()) {
    add(code::manifest_format, Severity::warning, manifest,
        "BSD, '*' or one-space lines accepted (lines " + non_gnu + "); nbbundle seal writes GNU '<hex>  <name>' lines");
  }
  for (const std::string& path : v.unlisted) {
    const BundleFile* f = find(path);
    add(code::not_covered, Severity::error, path,
        "not covered by " + manifest + (f && f->unfollowable() ? " (" + std::string(f->link_problem()) + ")" : ""));
  }
}

bool is_text_kind(const std::string& path) {
  std::string ext = fs::path(path).extension().string();
  for (char& c : ext) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return ext == ".json" || ext == ".txt" || ext == ".md";
}

/// Ids (YYYYMMDDTHHMMSSZ) in a line that refer to this bundle's own folder:
/// `<id>/<leaf>` for a sub-bundle such as 20251008T212459Z/spec_baseline,
/// or `<id>/<one of its files>` when the folder is named by its id.
std::vector<std::string> self_reference_ids(std::string_view line, const std::string& leaf, bool leaf_is_id,
                                            const std::set<std::string>& names) {
  std::vector<std::string> ids;
  for (std::size_t i = 0; i + 17 <= line.size(); ++i) {
    if (!std::isdigit(static_cast<unsigned char>(line[i])) ||
        (i > 0 && std::isalnum(static_cast<unsigned char>(line[i - 1]))))
      continue;
    const std::string_view id = line.substr(i, 16);
    if (!is_bundle_id(id) || line[i + 16] != '/') continue;
    std::size_t end = i + 17;
    while (end < line.size() && !path_end(line[end]) && line[end] != '/') ++end;
    const std::string next(line.substr(i + 17, end - i - 17));
    if (leaf_is_id ? names.count(next) > 0 : next == leaf) ids.emplace_back(id);
  }
  return ids;
}

void Auditor::check_text_files(const std::optional<std::string>& folder_id) {
  const std::string leaf = root.canonical.filename().string();
  std::set<std::string> top_names;
  for (const BundleFile& f : files) top_names.insert(f.path.substr(0, f.path.find('/')));
  for (const BundleFile& f : files) {
    if (f.unfollowable() || f.path == opt.manifest || !is_text_kind(f.path)) continue;
    const std::optional<std::string> text = read(f.path);
    if (!text) continue;
    std::size_t line_no = 0, reported = 0, more = 0;
    std::set<std::string> wrong_ids;
    for (std::size_t start = 0; start < text->size();) {
      const std::size_t nl = text->find('\n', start);
      const std::string_view line =
          std::string_view(*text).substr(start, nl == std::string::npos ? std::string::npos : nl - start);
      start = nl == std::string::npos ? text->size() : nl + 1;
      ++line_no;
      for (const std::string& p : machine_paths(line)) {
        if (reported++ < 10) {
          add(code::absolute_path, Severity::error, f.path,
              "line " + std::to_string(line_no) + ": absolute path " + p + " (bundles must be relocatable)");
        } else {
          ++more;
        }
      }
      if (folder_id) {
        for (const std::string& id : self_reference_ids(line, leaf, leaf == *folder_id, top_names)) {
          if (id != *folder_id && wrong_ids.insert(id).second) {
            add(code::id_mismatch, Severity::error, f.path,
                "line " + std::to_string(line_no) + ": refers to this bundle as " + id + ", but its folder says " +
                    *folder_id);
          }
        }
      }
    }
    if (more) add(code::absolute_path, Severity::error, f.path, std::to_string(more) + " more absolute paths");
  }
}

void Auditor::check_commands() {
  const std::string name(kCommandsName);
  const std::optional<std::string> text = read(name);
  if (!text) {
    add(code::required_missing, Severity::error, name, "no commands.txt: nothing says how this evidence was made");
    return;
  }
  std::size_t bad = 0, first_line = 0, line = 1;
  for (unsigned char c : *text) {
    if (c >= 0x80 && bad++ == 0) first_line = line;
    if (c == '\n') ++line;
  }
  if (bad) {
    add(code::non_ascii_commands, Severity::error, name,
        std::to_string(bad) + " non-ASCII bytes (first on line " + std::to_string(first_line) +
            "); commands must paste into any shell");
  }
  const CommandsFile f = parse_commands(*text);
  for (const auto& [l, msg] : f.problems) {
    add(code::commands_format, Severity::warning, name, "line " + std::to_string(l) + ": " + msg);
  }
  if (f.entries.empty()) {
    add(code::commands_format, Severity::warning, name,
        f.legacy_commands.empty()
            ? "no command recorded"
            : "hand-written: " + std::to_string(f.legacy_commands.size()) +
                  " commands without entry headers (no time, exit code or git sha); record them with nbbundle record");
  }
}

void Auditor::check_git_sha() {
  const std::string name(kGitShaName);
  const std::optional<std::string> text = read(name);
  if (!text) {
    add(code::git_sha, Severity::error, name, "missing");
    return;
  }
  std::string s = *text;
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.pop_back();
  std::string_view sha = s;
  if (sha.ends_with("-dirty")) sha.remove_suffix(6);
  const bool hex = !sha.empty() && std::all_of(sha.begin(), sha.end(), [](char c) {
    return std::isxdigit(static_cast<unsigned char>(c)) != 0;
  });
  if (!hex || sha.size() < 7 || sha.size() > 64) {
    std::string shown = s.substr(0, 60);
    for (char& c : shown) {
      if (c == '\n') c = ' ';
    }
    add(code::git_sha, Severity::error, name, "holds '" + shown + "', not a hex git sha");
  }
}

void Auditor::check_declared_ids(const std::optional<std::string>& folder_id) {
  std::vector<std::pair<std::string, std::string>> declared;  // file, id
  if (const auto c = read(std::string(kCommandsName))) {
    if (const auto id = parse_commands(*c).bundle_id) declared.emplace_back(std::string(kCommandsName), *id);
  }
  for (const std::string& name : {std::string(kEnvName), std::string("run_metadata.json")}) {
    const auto text = read(name);
    if (!text) continue;
    const json j = json::parse(*text, nullptr, false);
    if (j.is_object() && j.contains("bundle_id") && j["bundle_id"].is_string()) {
      declared.emplace_back(name, j["bundle_id"].get<std::string>());
    }
  }
  const std::string expected = folder_id ? *folder_id : declared.empty() ? "" : declared.front().second;
  for (const auto& [file, id] : declared) {
    if (id != expected) {
      add(code::id_mismatch, Severity::error, file,
          "bundle id " + id + " differs from " + expected + (folder_id ? " in the folder name" : " in " + declared.front().first));
    }
  }
}

struct TraceFile {
  std::string path;
  std::string tag;
  std::string text;
};

void Auditor::check_kind_and_metrics() {
  const std::optional<std::string> metrics_text = read("metrics.json");
  json metrics = metrics_text ? json::parse(*metrics_text, nullptr, false) : json();
  const bool scaling_metrics = metrics.is_object() && metrics.contains("factors") && metrics["factors"].is_object();
  json meta;
  if (const auto m = read("run_metadata.json")) meta = json::parse(*m, nullptr, false);
  const auto commands = read(std::string(kCommandsName));

  std::string kind = opt.kind;
  if (kind == "auto") {
    const bool by_meta = meta.is_object() && (meta.contains("c_trace") ||
                                              meta.value("tool", std::string()) == "compare_scaling_traces");
    const bool by_commands = commands && commands->find("compare_scaling_traces") != std::string::npos;
    kind = scaling_metrics || by_meta || by_commands ? "scaling" : "generic";
  }
  result.kind = kind;
  if (kind != "scaling") return;

  for (const char* name : {"metrics.json", "summary.md"}) {
    if (!present.count(name)) add(code::required_missing, Severity::error, name, "a scaling bundle needs it");
  }
  // Traces: logs with TRACE_<tag> lines; TRACE_C is the reference. The
  // names in run_metadata.json win when several logs qualify.
  std::vector<TraceFile> traces;
  for (const BundleFile& f : files) {
    if (f.unfollowable() || f.path == std::string(kCommandsName) || f.path == opt.manifest) continue;
    const std::string ext = fs::path(f.path).extension().string();
    if (ext != ".log" && ext != ".txt") continue;
    auto text = read(f.path);
    if (!text || text->find("TRACE_") == std::string::npos) continue;
    std::string tag = detect_tag(*text);
    if (!tag.empty()) traces.push_back({f.path, std::move(tag), std::move(*text)});
  }
  const auto pick = [&](bool reference, const char* meta_key) -> const TraceFile* {
    std::string wanted;
    if (meta.is_object() && meta.contains(meta_key) && meta[meta_key].is_string()) {
      wanted = fs::path(meta[meta_key].get<std::string>()).filename().string();
    }
    const TraceFile* best = nullptr;
    for (const TraceFile& t : traces) {
      if ((t.tag == "C") != reference) continue;
      if (!best || fs::path(t.path).filename() == wanted) best = &t;
    }
    return best;
  };
  const TraceFile* ref = pick(true, "c_trace");
  const TraceFile* test = pick(false, "py_trace");
  if (!ref || !test) {
    add(code::required_missing, Severity::error, "",
        std::string("a scaling bundle needs two traces: ") + (ref ? "" : "no C reference trace (TRACE_C lines)") +
            (!ref && !test ? "; " : "") + (test ? "" : "no test trace (TRACE_PY or TRACE_CPP lines)"));
  }
  if (!metrics_text) return;
  if (metrics.is_discarded()) {
    add(code::metrics_inconsistent, Severity::error, "metrics.json", "not valid JSON");
    return;
  }
  if (!scaling_metrics || !ref || !test) return;

  const double tol = metrics.value("tolerance_rel", 1e-6);
  const std::string label = test->tag == "PY" ? "PyTorch" : test->tag == "CPP" ? "C++" : test->tag;
  const Trace c = parse_trace(ref->text, ref->path, ParseOptions{ref->tag});
  const Trace t = parse_trace(test->text, test->path, ParseOptions{test->tag});
  const std::string recomputed = scaling_metrics_json(compare_scaling(c, t, tol, AliasTable::builtin(), label));
  if (recomputed == *metrics_text) return;

  // Say what differs: walk the recomputed document. Numbers may differ by
  // formatting (a few ulps), not more.
  const json fresh = json::parse(recomputed);
  std::vector<std::string> diffs;
  const std::function<void(const json&, const json&, const std::string&)> walk = [&](const json& want, const json& got,
                                                                                      const std::string& at) {
    if (want.is_object()) {
      for (auto it = want.begin(); it != want.end(); ++it) {
        const std::string key = at.empty() ? it.key() : at + "." + it.key();
        if (!got.is_object() || !got.contains(it.key())) diffs.push_back(key + " missing");
        else walk(it.value(), got[it.key()], key);
      }
    } else if (want.is_number() && got.is_number()) {
      const double a = want.get<double>(), b = got.get<double>();
      if (std::abs(a - b) > 1e-13 * std::max(std::abs(a), std::abs(b))) {
        diffs.push_back(at + " is " + got.dump() + ", traces give " + want.dump());
      }
    } else if (want != got) {
      diffs.push_back(at + " is " + got.dump() + ", traces give " + want.dump());
    }
  };
  walk(fresh, metrics, "");
  if (diffs.empty()) return;  // same values, different formatting
  std::string msg = "disagrees with " + ref->path + " and " + test->path + ": ";
  for (std::size_t i = 0; i < diffs.size() && i < 3; ++i) msg += (i ? "; " : "") + diffs[i];
  if (diffs.size() > 3) msg += "; and " + std::to_string(diffs.size() - 3) + " more";
  add(code::metrics_inconsistent, Severity::error, "metrics.json", msg);
}

}  // namespace

std::string_view severity_name(Severity s) noexcept { return s == Severity::error ? "error" : "warning"; }

std::size_t AuditResult::errors() const {
  return static_cast<std::size_t>(std::count_if(findings.begin(), findings.end(),
                                                [](const Finding& f) { return f.severity == Severity::error; }));
}

AuditResult audit_bundle(const AuditOptions& opt) {
  if (opt.kind != "auto" && opt.kind != "scaling" && opt.kind != "generic") {
    throw UsageError("--kind " + opt.kind + ": expected auto, scaling or generic");
  }
  Auditor a(opt);
  const std::optional<std::string> folder_id = bundle_id_from_path(a.root.canonical);
  a.check_manifest();
  a.check_commands();
  a.check_text_files(folder_id);
  a.check_git_sha();
  a.check_declared_ids(folder_id);
  a.check_kind_and_metrics();
  std::stable_sort(a.result.findings.begin(), a.result.findings.end(),
                   [](const Finding& x, const Finding& y) { return x.code < y.code; });
  return std::move(a.result);
}

std::string findings_json(const AuditResult& r) {
  json j;
  json list = json::array();
  for (const Finding& f : r.findings) {
    list.push_back({{"code", f.code}, {"severity", severity_name(f.severity)}, {"file", f.file}, {"message", f.message}});
  }
  j["findings"] = std::move(list);
  j["kind"] = r.kind;
  j["errors"] = r.errors();
  j["warnings"] = r.findings.size() - r.errors();
  return j.dump(2) + "\n";
}

}  // namespace nbtrace::bundle
