// nbparity batch: jobs spread by a WorkPool (MPI ranks or local threads);
// every job runs in its own bundle folder; rank 0 keeps DIR/batch.json up to
// date while the jobs finish, so a run that dies (a killed rank takes the MPI
// job down) leaves a record of what finished and what did not.
#include "nbtrace/parity/batch.hpp"


#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <functional>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <ostream>
#include <regex>
#include <sstream>
#include <thread>

#include "nbtrace/base/files.hpp"
#include "nbtrace/bundle/bundle.hpp"
#include "nbtrace/base/error.hpp"
#include "nbtrace/base/files.hpp"
#include "nbtrace/base/paths.hpp"
#include "nbtrace/base/process.hpp"
#include "nbtrace/parity/simulator_args.hpp"

namespace nbtrace {

namespace fs = std::filesystem;
using json = nlohmann::json;
using ordered = nlohmann::ordered_json;

namespace {

/// What every job needs, the same on every rank.
struct JobContext {
  fs::path out_dir;
  fs::path jobs_base;        ///< the jobs file's folder: input paths are relative to it
  std::string test_bin;      ///< absolute or a PATH name
  std::string ref_bin;       ///< --ref-bin: absolute, or a bare name looked up on PATH; empty: none
  std::string device;        ///< cpu or cuda
  unsigned threads_per_job;  ///< nbsim -nthreads on the CPU
  std::vector<std::string> gpus;  ///< with device cuda: the GPUs this rank's simulator sees
  bundle::GitState git;
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

std::string last_line(std::string text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
  const auto nl = text.rfind('\n');
  return nl == std::string::npos ? text : text.substr(nl + 1);
}

/// The GPUs the simulator sees (its -list_devices), by index.
std::vector<std::string> list_gpus(const std::string& test_bin) {
  ScratchDir scratch("nbparity-devices-");
  const RunOutcome o =
      run_program({test_bin, "-list_devices"}, scratch.path(), scratch.path() / "out.txt", scratch.path() / "err.txt");
  std::vector<std::string> names;
  std::istringstream in(o.stdout_text);
  static const std::regex kGpu(R"(^cuda (\d+): (.*)$)");
  std::smatch m;
  for (std::string line; std::getline(in, line);)
    if (std::regex_match(line, m, kGpu)) names.push_back(m[2].str());
  return names;
}

bool has_flag(const std::vector<std::string>& args, std::initializer_list<const char*> names) {
  for (const std::string& a : args)
    for (const char* n : names)
      if (a == n) return true;
  return false;
}

/// The simulator arguments that put a job on its worker's device, and how
/// batch.json names that device.
struct Placement {
  std::vector<std::string> args;
  std::string device;
};

Placement place(const JobContext& c, const WorkerSlot& where, const std::vector<std::string>& job_args) {
  Placement p;
  if (c.device == "cuda") {
    const std::vector<std::string>& gpus = c.gpus;
    if (gpus.empty())
      throw std::runtime_error("--device cuda: rank " + std::to_string(where.rank) + " sees no CUDA GPU (" +
                               fs::path(c.test_bin).filename().string() + " -list_devices lists none)");
    const unsigned gpu = where.node_slot % static_cast<unsigned>(gpus.size());
    p.args = {"-device", "cuda", "-cuda_device", std::to_string(gpu)};
    p.device = "cuda:" + std::to_string(gpu) + " " + gpus[gpu];
  } else {
    unsigned threads = c.threads_per_job;
    if (!has_flag(job_args, {"-nthreads", "-threads"})) p.args = {"-nthreads", std::to_string(threads)};
    else threads = 0;
    p.device = threads ? "cpu (" + std::to_string(threads) + (threads == 1 ? " thread)" : " threads)") : "cpu";
  }
  return p;
}

json result_json(const std::string& status, int exit_code, double seconds, const std::string& error,
                 const std::string& device, json metrics) {
  return json{{"status", status},
              {"exit_code", exit_code},
              {"runtime_s", seconds},
              {"error", error},
              {"device", device},
              {"metrics", std::move(metrics)}};
}

/// A simulation job: nbsim in DIR/<id>/ on staged copies of its inputs.
json run_simulation_job(const BatchJob& job, const fs::path& dir, const JobContext& c, const Placement& where) {
  std::vector<std::string> args = stage_inputs(job.args, dir, c.jobs_base);
  if (!has_flag(args, {"-floatfile", "-floatimage"})) args.insert(args.end(), {"-floatfile", "image.bin"});
  args.insert(args.end(), where.args.begin(), where.args.end());
  std::vector<std::string> argv{c.test_bin};
  argv.insert(argv.end(), args.begin(), args.end());
  bundle::RunRecord rec;
  rec.cwd = fs::absolute(dir);
  rec.git = c.git;
  rec.start_utc = bundle::utc_now_iso();
  const RunOutcome o = run_program(argv, dir, dir / "stdout.log", dir / "stderr.log");
  rec.argv = argv;
  rec.argv[0] = fs::path(c.test_bin).filename().string();
  rec.exit_code = o.exit_code;
  rec.duration_s = o.seconds;
  rec.stdout_file = "stdout.log";
  rec.stderr_file = "stderr.log";
  bundle::append_command(dir, rec);
  bundle::seal_bundle(bundle::SealOptions{dir.string(), 1, c.git});
  const std::string error = o.exit_code == 0 ? "" : last_line(read_text_file(dir / "stderr.log"));
  return result_json(o.exit_code == 0 ? "ok" : "failed", o.exit_code, 0, error, where.device,
                     parse_stats(o.stdout_text));
}

/// A parity job: nbparity run's engine with the job's thresholds, its
/// bundle in DIR/<id>/.
json run_parity_job(const BatchJob& job, const fs::path& dir, const JobContext& c, const Placement& where) {
  const BatchParity& par = *job.parity;
  ParityRunOptions o;
  o.ref_bin = !par.ref_bin.empty() ? par.ref_bin : c.ref_bin;
  if (o.ref_bin.empty())
    throw UsageError("job " + job.id + " has a parity check but names no ref_bin, and --ref-bin was not given");
  if (o.ref_bin.find('/') != std::string::npos && fs::path(o.ref_bin).is_relative())
    o.ref_bin = (c.jobs_base / o.ref_bin).lexically_normal().string();
  o.test_bin = c.test_bin;
  o.pixels = par.pixels;
  o.auto_pixels = par.auto_pixels;
  o.thresholds = par.thresholds;
  o.bundle_dir = dir.string();
  o.args = absolutize_inputs(job.args, c.jobs_base);
  o.test_extra_args = where.args;
  // The command that redoes this job on its own.
  o.argv = {"nbparity", "run", "--ref-bin", fs::path(o.ref_bin).filename().string(), "--mode", par.thresholds.mode};
  for (const TracedPixel& p : par.pixels)
    o.argv.insert(o.argv.end(), {"--pixels", std::to_string(p.slow) + "," + std::to_string(p.fast)});
  if (par.auto_pixels) o.argv.insert(o.argv.end(), {"--auto-pixels", std::to_string(par.auto_pixels)});
  o.argv.push_back("--");
  o.argv.insert(o.argv.end(), job.args.begin(), job.args.end());
  std::ostringstream quiet;
  const int code = run_parity(o, quiet, quiet);
  const json m = json::parse(read_text_file(dir / "metrics.json"));
  json metrics = json::object();
  metrics["verdict"] = m.value("verdict", "");
  if (m.contains("image")) {
    for (const char* k : {"correlation", "sum_ratio", "max_abs_diff", "max_abs_diff_rel", "failed_checks"})
      if (m["image"].contains(k)) metrics[k] = m["image"][k];
  }
  std::size_t divergent = 0;
  std::string first;
  for (const auto& p : m.value("pixels", json::array())) {
    if (p.value("num_divergent", 0) > 0) {
      ++divergent;
      if (first.empty() && p["first_divergence"].is_string()) first = p["first_divergence"].get<std::string>();
    }
  }
  metrics["traced_pixels"] = m.value("pixels", json::array()).size();
  metrics["divergent_pixels"] = divergent;
  metrics["first_divergence"] = first.empty() ? json(nullptr) : json(first);
  std::string error;
  if (code != 0) {
    error = "parity " + metrics["verdict"].get<std::string>();
    if (m.contains("failures")) error += ": " + m["failures"][0].get<std::string>();
    if (metrics.contains("failed_checks") && !metrics["failed_checks"].empty()) {
      error += " (image checks failed:";
      for (const auto& f : metrics["failed_checks"]) error += " " + f.get<std::string>();
      error += ")";
    }
    if (divergent) error += " (" + std::to_string(divergent) + " traced pixel(s) diverge, first at " + first + ")";
  }
  const std::string status = code == 0 ? "ok" : (code == exit_code::divergence ? "divergent" : "failed");
  return result_json(status, code, 0, error, where.device, metrics);
}

/// One job on whichever rank and thread it landed: never throws; a failure
/// is a result with status "failed".
json run_job(const BatchJob& job, const JobContext& c, const WorkerSlot& slot) {
  const auto t0 = std::chrono::steady_clock::now();
  const fs::path dir = c.out_dir / job.id;
  json r;
  std::string device;
  try {
    std::error_code ec;
    fs::remove_all(dir, ec);
    fs::create_directories(dir);
    const Placement where = place(c, slot, job.args);
    device = where.device;
    if (job.parity) {
      r = run_parity_job(job, dir, c, where);
    } else {
      std::ostringstream quiet;  // notes about the folder name: the job id names it
      bundle::ensure_bundle(dir, std::nullopt, quiet);
      r = run_simulation_job(job, dir, c, where);
    }
  } catch (const std::exception& e) {
    // batch.json stays relocatable: paths of this machine become relative.
    std::string error = e.what();
    for (const fs::path& base : {c.jobs_base, c.out_dir}) {
      const std::string prefix = base.string() + "/";
      for (std::size_t at; (at = error.find(prefix)) != std::string::npos;) error.erase(at, prefix.size());
    }
    r = result_json("failed", -1, 0, error, device, json::object());
    // Still a sealed bundle, holding the reason.
    try {
      std::ostringstream quiet;
      bundle::ensure_bundle(dir, std::nullopt, quiet);
      write_file_atomic(dir / "error.log", error + "\n");
      bundle::seal_bundle(bundle::SealOptions{dir.string(), 1, c.git});
    } catch (const std::exception&) {
      // The folder itself is unusable; batch.json has the error.
    }
  }
  r["runtime_s"] = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return r;
}

/// Calls `task` every `period` on a thread of its own until stopped (or
/// destroyed, exceptions included); does nothing when not `enabled`.
class PeriodicTask {
 public:
  PeriodicTask(bool enabled, std::chrono::milliseconds period, std::function<void()> task) {
    if (!enabled) return;
    thread_ = std::thread([this, period, task = std::move(task)] {
      std::unique_lock hold(mutex_);
      while (!wake_.wait_for(hold, period, [this] { return stop_; })) task();
    });
  }
  ~PeriodicTask() { stop(); }
  PeriodicTask(const PeriodicTask&) = delete;
  PeriodicTask& operator=(const PeriodicTask&) = delete;
  void stop() {
    if (!thread_.joinable()) return;
    {
      std::lock_guard g(mutex_);
      stop_ = true;
    }
    wake_.notify_one();
    thread_.join();
  }

 private:
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stop_ = false;
  std::thread thread_;
};

/// A job's line in batch.json (root only).
struct Entry {
  std::string status = "not done";  ///< ok, failed, divergent, skipped, not done
  int rank = -1;                    ///< where it ran or was running
  std::string device;
  int exit_code = -1;
  double runtime_s = 0;
  std::string error;
  json metrics = json::object();
  std::string text;  ///< its rendering in batch.json (render())
};

/// The job's object in batch.json, indented to sit in its "jobs" list.
/// Kept per job and redone only when the job changes, so a rewrite of
/// batch.json costs little more than writing it.
void render(const BatchJob& job, Entry& e) {
  ordered j;
  j["id"] = job.id;
  j["line"] = job.line;
  j["kind"] = job.parity ? "parity" : "simulation";
  j["status"] = e.status;
  j["rank"] = e.rank < 0 ? ordered(nullptr) : ordered(e.rank);
  j["device"] = e.device.empty() ? ordered(nullptr) : ordered(e.device);
  j["exit_code"] = e.exit_code;
  j["runtime_s"] = e.runtime_s;
  j["error"] = e.error.empty() ? ordered(nullptr) : ordered(e.error);
  j["metrics"] = ordered::parse(e.metrics.dump());
  j["bundle"] = job.id;
  const std::string flat = j.dump(2);
  e.text = "    ";
  for (char ch : flat) {
    e.text += ch;
    if (ch == '\n') e.text += "    ";
  }
}

struct StatusCounts {
  std::size_t ok = 0, skipped = 0, failed = 0, divergent = 0, not_done = 0;
  bool all_good() const { return failed == 0 && divergent == 0 && not_done == 0; }
};

/// batch.json's text: the run's fields and counts, then every job's object.
std::string batch_document(const BatchOptions& opt, const WorkPool& pool, const std::vector<Entry>& entries,
                           bool complete, StatusCounts& counts) {
  counts = {};
  for (const Entry& e : entries) {
    if (e.status == "ok") ++counts.ok;
    else if (e.status == "skipped") ++counts.skipped;
    else if (e.status == "failed") ++counts.failed;
    else if (e.status == "divergent") ++counts.divergent;
    else ++counts.not_done;
  }
  ordered doc;
  doc["tool"] = "nbparity batch";
  doc["jobs_file"] = fs::path(opt.jobs_file).filename().string();
  doc["distribution"] = pool.description();
  doc["ranks"] = pool.ranks();
  doc["device"] = opt.device;
  doc["complete"] = complete;
  doc["divergent"] = counts.divergent;
  doc["failed"] = counts.failed;
  doc["not_done"] = counts.not_done;
  doc["ok"] = counts.ok;
  doc["skipped"] = counts.skipped;
  std::string text = doc.dump(2);  // ends "\n}"
  text.resize(text.size() - 2);
  text += ",\n  \"jobs\": [\n";
  for (std::size_t i = 0; i < entries.size(); ++i) {
    text += entries[i].text;
    text += i + 1 < entries.size() ? ",\n" : "\n";
  }
  return text + "  ]\n}\n";
}

/// Whether a job's bundle from an earlier run verifies and recorded success.
bool finished_before(const fs::path& dir) {
  if (!fs::exists(dir / bundle::kManifestName)) return false;
  try {
    const bundle::VerifyResult v = bundle::verify_manifest(dir, bundle::kManifestName, 1, false);
    const std::string cmds = read_text_file(dir / bundle::kCommandsName);
    return v.all_ok() && cmds.find(" exit=0 ") != std::string::npos;
  } catch (const std::exception&) {
    return false;  // unreadable or broken: run it again
  }
}

int code_of(const std::exception_ptr& failure) {
  try {
    std::rethrow_exception(failure);
  } catch (const InputError&) {
    return exit_code::input;
  } catch (...) {
    return exit_code::failure;
  }
}

std::string seconds_text(double s) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f s", s);
  return buf;
}

}  // namespace

int run_batch(const BatchOptions& opt, std::ostream& out, std::ostream& err) {
  if (opt.device != "cpu" && opt.device != "cuda") throw UsageError("--device: expected cpu or cuda, got '" + opt.device + "'");
  const std::unique_ptr<WorkPool> pool = make_work_pool(opt.distribution, opt.workers);
  const bool root = pool->is_root();

  // Every rank reads the jobs (the same file: the same outcome); rank 0 also
  // prepares DIR. Any failure is reported by rank 0 alone, before any work.
  std::vector<BatchJob> jobs;
  std::vector<Entry> entries;
  std::vector<bool> todo;
  JobContext c;
  std::exception_ptr failure;
  try {
    jobs = load_batch_jobs(opt.jobs_file);
    c.out_dir = fs::absolute(opt.out_dir);
    c.jobs_base = fs::absolute(opt.jobs_file).parent_path();
    c.test_bin = opt.test_bin == "nbsim" ? sibling_tool("nbsim") : opt.test_bin;
    if (c.test_bin.find('/') != std::string::npos) c.test_bin = fs::absolute(c.test_bin).string();
    // A bare name is looked up on PATH when run, a path is made absolute.
    c.ref_bin = opt.ref_bin.find('/') == std::string::npos ? opt.ref_bin : fs::absolute(opt.ref_bin).string();
    c.device = opt.device;
    c.threads_per_job = opt.threads_per_job ? opt.threads_per_job : pool->cpu_share();
    if (c.device == "cuda") c.gpus = list_gpus(c.test_bin);
    c.git = bundle::git_state(fs::current_path());
    entries.resize(jobs.size());
    todo.assign(jobs.size(), true);
    if (root) {
      for (const BatchJob& j : jobs)
        if (j.parity && j.parity->ref_bin.empty() && opt.ref_bin.empty())
          throw UsageError(opt.jobs_file + ":" + std::to_string(j.line) + ": job " + j.id +
                           " has a parity check but names no ref_bin, and --ref-bin was not given");
      fs::create_directories(c.out_dir);
      // DIR is about to change: an old seal must not vouch for it meanwhile.
      std::error_code ec;
      fs::remove(c.out_dir / bundle::kManifestName, ec);
      if (opt.resume) {
        // Verifying earlier bundles re-hashes their files: all cores at it.
        std::vector<char> done(jobs.size(), 0);
        std::atomic<std::size_t> next{0};
        auto check = [&] {
          for (std::size_t i; (i = next++) < jobs.size();) done[i] = finished_before(c.out_dir / jobs[i].id);
        };
        std::vector<std::thread> checkers;
        for (unsigned t = 1; t < std::min<std::size_t>(usable_cpus(), jobs.size()); ++t) checkers.emplace_back(check);
        check();
        for (auto& t : checkers) t.join();
        for (std::size_t i = 0; i < jobs.size(); ++i) {
          if (!done[i]) continue;
          todo[i] = false;
          entries[i].status = "skipped";
          entries[i].exit_code = 0;
          const fs::path d = c.out_dir / jobs[i].id;
          if (fs::exists(d / "stdout.log")) entries[i].metrics = parse_stats(read_text_file(d / "stdout.log"));
        }
      }
    }
  } catch (...) {
    failure = std::current_exception();
  }
  const int setup_code = pool->share_from_root(failure ? code_of(failure) : 0);
  if (setup_code != 0) {
    if (root && failure) std::rethrow_exception(failure);
    return setup_code;
  }

  std::size_t finished_count = 0;
  const std::size_t to_run = static_cast<std::size_t>(std::count(todo.begin(), todo.end(), true));
  if (root)
    for (std::size_t i = 0; i < jobs.size(); ++i) render(jobs[i], entries[i]);
  // Rewritten after each change, unless rewriting would take more than
  // about 5% of the time (large batches): what finished is on disk if the
  // run dies, and the scheduler (which waits for the rewrite) keeps going.
  // A change held back is written by the next change or, in a quiet
  // stretch (long jobs), by a timer within about a second.
  using clock = std::chrono::steady_clock;
  clock::time_point last_write_end{};
  clock::duration last_write_cost{};
  bool pending = false;
  std::mutex record;  // entries and batch.json: the pool's callbacks and the timer
  auto write_progress = [&](bool force) {
    const auto start = clock::now();
    if (!force && start - last_write_end < 20 * last_write_cost) {
      pending = true;
      return;
    }
    StatusCounts counts;
    write_file_atomic(c.out_dir / "batch.json", batch_document(opt, *pool, entries, false, counts));
    last_write_end = clock::now();
    last_write_cost = last_write_end - start;
    pending = false;
  };
  PeriodicTask timer(root, std::chrono::seconds(1), [&] {
    std::lock_guard g(record);
    if (pending) write_progress(false);
  });
  if (root) {
    err << "nbparity batch: " << jobs.size() << " jobs (" << to_run << " to run) on " << pool->description()
        << (opt.device == "cuda" ? ", GPUs" : "") << "\n";
    write_progress(true);
  }
  pool->run(
      todo,
      [&](std::size_t i, const WorkerSlot& slot) {
        if (i >= jobs.size()) return result_json("failed", -1, 0, "no such job", "", json::object());
        return run_job(jobs[i], c, slot);
      },
      [&](std::size_t i, const WorkerSlot& slot) {
        std::lock_guard g(record);
        entries[i].rank = slot.rank;
        render(jobs[i], entries[i]);
        write_progress(false);
      },
      [&](std::size_t i, const WorkerSlot& slot, json r) {
        std::lock_guard g(record);
        Entry& e = entries[i];
        e.rank = slot.rank;
        if (r.contains("pool_error")) {
          e.status = "failed";
          e.error = r["pool_error"].get<std::string>();
        } else {
          e.status = r.value("status", "failed");
          e.exit_code = r.value("exit_code", -1);
          e.runtime_s = r.value("runtime_s", 0.0);
          e.error = r.value("error", "");
          e.device = r.value("device", "");
          e.metrics = r.value("metrics", json::object());
        }
        render(jobs[i], e);
        ++finished_count;
        err << "[" << finished_count << "/" << to_run << "] " << e.status << " " << jobs[i].id << " (rank " << e.rank
            << ", " << (e.device.empty() ? "-" : e.device) << ", " << seconds_text(e.runtime_s) << ")"
            << (e.error.empty() ? "" : ": " + e.error) << "\n";
        write_progress(false);
      });
  timer.stop();

  int code = exit_code::ok;
  if (root) {
    StatusCounts counts;
    const std::string doc = batch_document(opt, *pool, entries, true, counts);
    std::ostringstream quiet;  // notes about the folder name: the user chose it
    bundle::ensure_bundle(c.out_dir, std::nullopt, quiet);
    write_file_atomic(c.out_dir / "batch.json", doc);
    code = counts.all_good() ? exit_code::ok : exit_code::divergence;
    bundle::RunRecord rec;
    rec.cwd = fs::current_path();
    rec.argv = relativize_paths(opt.argv, rec.cwd);
    rec.git = c.git;
    rec.start_utc = bundle::utc_now_iso();
    rec.exit_code = code;
    bundle::append_command(c.out_dir, rec);
    bundle::SealOptions seal{c.out_dir.string(), 0, c.git};
    seal.reuse_subbundle_digests = true;  // the job bundles were sealed as they finished
    bundle::seal_bundle(seal);
    out << jobs.size() << " jobs: " << counts.ok << " ok, " << counts.skipped << " skipped (resume), " << counts.failed
        << " failed, " << counts.divergent << " divergent; " << (fs::path(opt.out_dir) / "batch.json").string()
        << " (" << pool->description() << ")\n";
  }
  return pool->share_from_root(code);
}

}  // namespace nbtrace
