#include "nbtrace/batch.hpp"

#include <atomic>
#include <chrono>
#include <filesystem>
#include <mutex>
#include <nlohmann/json.hpp>
#include <ostream>
#include <regex>
#include <set>
#include <sstream>
#include <thread>

#include "nbtrace/atomic_file.hpp"
#include "nbtrace/bundle.hpp"
#include "nbtrace/error.hpp"
#include "nbtrace/program_run.hpp"

namespace nbtrace {

namespace fs = std::filesystem;
using json = nlohmann::ordered_json;

std::vector<BatchJob> load_batch_jobs(const std::string& path) {
  const std::string text = read_text_file(path);
  std::vector<BatchJob> jobs;
  std::set<std::string> ids;
  static const std::regex kSafeId("[A-Za-z0-9._-]+");
  std::istringstream in(text);
  std::size_t lineno = 0;
  for (std::string line; std::getline(in, line);) {
    ++lineno;
    const auto first = line.find_first_not_of(" \t\r");
    if (first == std::string::npos || line[first] == '#') continue;
    const std::string where = path + ":" + std::to_string(lineno) + ": ";
    json j;
    try {
      j = json::parse(line);
    } catch (const json::parse_error& e) {
      throw InputError(where + "not a JSON object (" + std::string(e.what()) + ")");
    }
    if (!j.is_object()) throw InputError(where + "not a JSON object");
    if (!j.contains("id") || !j["id"].is_string()) throw InputError(where + "needs a string \"id\"");
    const std::string id = j["id"].get<std::string>();
    if (!std::regex_match(id, kSafeId) || id == "." || id == "..") {
      throw InputError(where + "id '" + id + "' must be letters, digits, '.', '_' or '-' (it names a folder)");
    }
    if (!ids.insert(id).second) throw InputError(where + "id '" + id + "' appears twice");
    if (!j.contains("args") || !j["args"].is_array()) throw InputError(where + "needs an \"args\" list of strings");
    BatchJob job;
    job.id = id;
    job.line = lineno;
    for (const auto& a : j["args"]) {
      if (!a.is_string()) throw InputError(where + "\"args\" must hold strings only");
      job.args.push_back(a.get<std::string>());
    }
    for (const auto& [k, v] : j.items()) {
      if (k != "id" && k != "args" && k != "parity") throw InputError(where + "unknown key '" + k + "'");
    }
    jobs.push_back(std::move(job));
  }
  if (jobs.empty()) throw InputError(path + ": no jobs");
  return jobs;
}

namespace {

struct JobResult {
  std::string status = "not done";  ///< ok, failed, skipped (resume), not done
  int exit_code = -1;
  double seconds = 0;
  std::string error;
  json stats = json::object();
};

/// nanoBragg's statistics lines: max_I, mean, rms, rmsd.
json parse_stats(const std::string& stdout_text) {
  json s = json::object();
  std::smatch m;
  static const std::regex kMax(R"(max_I = ([^ ]+))");
  static const std::regex kMean(R"(mean= ([^ ]+) rms= ([^ ]+) rmsd= ([^ \n]+))");
  if (std::regex_search(stdout_text, m, kMax)) s["max_I"] = std::stod(m[1].str());
  if (std::regex_search(stdout_text, m, kMean)) {
    s["mean"] = std::stod(m[1].str());
    s["rms"] = std::stod(m[2].str());
    s["rmsd"] = std::stod(m[3].str());
  }
  return s;
}

JobResult run_job(const BatchJob& job, const fs::path& dir, const fs::path& jobs_base, const std::string& bin) {
  JobResult r;
  const auto t0 = std::chrono::steady_clock::now();
  try {
    std::error_code ec;
    fs::remove_all(dir, ec);
    fs::create_directories(dir);
    // The bundle holds its inputs, so its command re-runs inside it.
    std::vector<std::string> args = stage_inputs(job.args, dir, jobs_base);
    bool has_floatfile = false;
    for (const std::string& a : args) has_floatfile = has_floatfile || a == "-floatfile" || a == "-floatimage";
    if (!has_floatfile) args.insert(args.end(), {"-floatfile", "image.bin"});
    std::ostringstream quiet;  // notes about the folder name: the job id names it
    bundle::ensure_bundle(dir, std::nullopt, quiet);
    std::vector<std::string> argv{bin};
    argv.insert(argv.end(), args.begin(), args.end());
    bundle::RunRecord rec;
    rec.cwd = fs::absolute(dir);
    rec.git = bundle::git_state(fs::current_path());
    rec.start_utc = bundle::utc_now_iso();
    const RunOutcome o = run_program(argv, dir, dir / "stdout.log", dir / "stderr.log");
    rec.argv = argv;
    rec.argv[0] = fs::path(bin).filename().string();
    rec.exit_code = o.exit_code;
    rec.duration_s = o.seconds;
    rec.stdout_file = "stdout.log";
    rec.stderr_file = "stderr.log";
    bundle::append_command(dir, rec);
    r.exit_code = o.exit_code;
    r.stats = parse_stats(o.stdout_text);
    if (o.exit_code == 0) {
      r.status = "ok";
    } else {
      r.status = "failed";
      std::string e = read_text_file(dir / "stderr.log");
      while (!e.empty() && (e.back() == '\n' || e.back() == '\r')) e.pop_back();
      r.error = e.substr(e.rfind('\n') == std::string::npos ? 0 : e.rfind('\n') + 1);
    }
    bundle::seal_bundle(bundle::SealOptions{dir.string(), 1});
  } catch (const std::exception& e) {
    r.status = "failed";
    r.error = e.what();
  }
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return r;
}

}  // namespace

int run_batch(const BatchOptions& opt, std::ostream& out, std::ostream& err) {
  // Every line is checked before any work starts.
  const std::vector<BatchJob> jobs = load_batch_jobs(opt.jobs_file);
  const std::string bin = opt.test_bin == "nbsim" ? sibling_tool("nbsim") : opt.test_bin;
  const fs::path out_dir(opt.out_dir);
  const fs::path jobs_base = fs::absolute(opt.jobs_file).parent_path();
  fs::create_directories(out_dir);
  std::vector<JobResult> results(jobs.size());
  if (opt.resume) {
    for (std::size_t i = 0; i < jobs.size(); ++i) {
      const fs::path d = out_dir / jobs[i].id;
      if (!fs::exists(d / bundle::kManifestName)) continue;
      try {
        const bundle::VerifyResult v = bundle::verify_manifest(d, bundle::kManifestName, 1, false);
        const std::string cmds = read_text_file(d / bundle::kCommandsName);
        if (v.all_ok() && cmds.find(" exit=0 ") != std::string::npos) {
          results[i].status = "skipped";
          results[i].exit_code = 0;
          results[i].stats = parse_stats(read_text_file(d / "stdout.log"));
        }
      } catch (const std::exception&) {
        // Unreadable or broken: run it again.
      }
    }
  }
  std::atomic<std::size_t> next{0};
  std::mutex print;
  auto worker = [&] {
    for (std::size_t i; (i = next++) < jobs.size();) {
      if (results[i].status == "skipped") continue;
      results[i] = run_job(jobs[i], out_dir / jobs[i].id, jobs_base, bin);
      std::lock_guard lock(print);
      err << "[" << results[i].status << "] " << jobs[i].id << (results[i].error.empty() ? "" : ": " + results[i].error)
          << "\n";
    }
  };
  std::vector<std::thread> pool;
  for (unsigned w = 1; w < std::max(1u, opt.workers); ++w) pool.emplace_back(worker);
  worker();
  for (auto& t : pool) t.join();

  json doc;
  doc["tool"] = "nbparity batch";
  doc["jobs_file"] = fs::path(opt.jobs_file).filename().string();
  doc["ranks"] = 1;
  doc["workers"] = std::max(1u, opt.workers);
  json arr = json::array();
  std::size_t ok = 0, failed = 0, skipped = 0;
  for (std::size_t i = 0; i < jobs.size(); ++i) {
    const JobResult& r = results[i];
    if (r.status == "ok") ++ok;
    else if (r.status == "skipped") ++skipped;
    else ++failed;
    arr.push_back({{"id", jobs[i].id},
                   {"line", jobs[i].line},
                   {"rank", 0},
                   {"device", "cpu"},
                   {"status", r.status},
                   {"exit_code", r.exit_code},
                   {"runtime_s", r.seconds},
                   {"error", r.error.empty() ? json(nullptr) : json(r.error)},
                   {"metrics", r.stats},
                   {"bundle", jobs[i].id}});
  }
  doc["jobs"] = arr;
  doc["ok"] = ok;
  doc["skipped"] = skipped;
  doc["failed"] = failed;
  bundle::ensure_bundle(out_dir, std::nullopt, err);
  write_file_atomic(out_dir / "batch.json", doc.dump(2) + "\n");
  bundle::RunRecord rec;
  rec.cwd = fs::current_path();
  rec.argv = relativize_paths(opt.argv, rec.cwd);
  rec.git = bundle::git_state(rec.cwd);
  rec.start_utc = bundle::utc_now_iso();
  rec.exit_code = failed ? exit_code::divergence : exit_code::ok;
  bundle::append_command(out_dir, rec);
  bundle::seal_bundle(bundle::SealOptions{out_dir.string(), 0});
  out << jobs.size() << " jobs: " << ok << " ok, " << skipped << " skipped (resume), " << failed << " failed; "
      << (out_dir / "batch.json").string() << "\n";
  return failed ? exit_code::divergence : exit_code::ok;
}

}  // namespace nbtrace
