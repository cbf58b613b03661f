// nbparity batch: jobs spread by a WorkPool (MPI ranks or local threads);
// every job runs in its own bundle folder; rank 0 keeps DIR/batch.json up to
// date while the jobs finish, so a run that dies (a killed rank takes the MPI
// job down) leaves a record of what finished and what did not.
#include "nbtrace/parity/batch.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <exception>
#include <filesystem>
#include <fmt/format.h>
#include <functional>
#include <mutex>
#include <nlohmann/json.hpp>
#include <ostream>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "batch_internal.hpp"
#include "nbtrace/base/error.hpp"
#include "nbtrace/base/files.hpp"
#include "nbtrace/base/paths.hpp"
#include "nbtrace/base/periodic.hpp"
#include "nbtrace/base/progress.hpp"

namespace nbtrace {

namespace fs = std::filesystem;
using json = nlohmann::json;
using ordered = nlohmann::ordered_json;
using batch_detail::JobContext;

namespace {

/// A job's line in batch.json (root only).
struct Entry {
  JobOutcome outcome;  ///< status ok, failed, divergent, skipped, not done
  int rank = -1;       ///< where it ran or was running
  std::string text;    ///< its rendering in batch.json (render())
};

/// The job's object in batch.json, indented to sit in its "jobs" list.
/// Kept per job and redone only when the job changes, so a rewrite of
/// batch.json costs little more than writing it.
void render(const BatchJob& job, Entry& e) {
  ordered j;
  j["id"] = job.id;
  j["line"] = job.line;
  j["kind"] = job.parity ? "parity" : "simulation";
  const JobOutcome& o = e.outcome;
  j["status"] = o.status;
  j["rank"] = e.rank < 0 ? ordered(nullptr) : ordered(e.rank);
  j["device"] = o.device.empty() ? ordered(nullptr) : ordered(o.device);
  j["exit_code"] = o.exit_code;
  j["runtime_s"] = o.runtime_s;
  j["error"] = o.error.empty() ? ordered(nullptr) : ordered(o.error);
  // Sorted keys, as the metrics object has always been written.
  j["metrics"] = ordered::parse(batch_detail::metrics_json(o).dump());
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
    const std::string& status = e.outcome.status;
    if (status == "ok") ++counts.ok;
    else if (status == "skipped") ++counts.skipped;
    else if (status == "failed") ++counts.failed;
    else if (status == "divergent") ++counts.divergent;
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

}  // namespace

int run_batch(const BatchOptions& opt, std::ostream& out, std::ostream& err) {
  if (opt.tool.empty()) throw std::logic_error("run_batch: BatchOptions::tool names no tool");
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
    c.test_is_nbsim = opt.test_bin == "nbsim";
    c.test_bin = c.test_is_nbsim ? sibling_tool("nbsim") : opt.test_bin;
    if (c.test_bin.find('/') != std::string::npos) c.test_bin = fs::absolute(c.test_bin).string();
    // A bare name is looked up on PATH when run, a path is made absolute.
    c.ref_bin = opt.ref_bin.find('/') == std::string::npos ? opt.ref_bin : fs::absolute(opt.ref_bin).string();
    c.device = opt.device;
    c.threads_per_job = opt.threads_per_job ? opt.threads_per_job : pool->cpu_share();
    if (c.device == "cuda") c.gpus = batch_detail::list_gpus(c.test_bin);
    c.git = bundle::git_state(fs::current_path());
    c.tool = opt.tool;
    c.parity_before_seal = opt.parity_before_seal;
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
          JobOutcome& o = entries[i].outcome;
          o.status = "skipped";
          o.exit_code = exit_code::ok;  // the run its bundle recorded
          if (const auto stats = batch_detail::recorded_statistics(jobs[i], c.out_dir / jobs[i].id)) o.metrics = *stats;
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
  ProgressOptions meter_options;
  meter_options.label = "nbparity batch";
  meter_options.unit = "jobs";
  ProgressMeter meter(root ? opt.progress : ProgressMode::off, err, meter_options);
  if (root) {
    if (!opt.quiet)
      err << "nbparity batch: " << jobs.size() << " jobs (" << to_run << " to run) on " << pool->description()
          << (opt.device == "cuda" ? ", GPUs" : "") << "\n";
    write_progress(true);
    meter.start(to_run);
  }
  pool->run(
      todo,
      [&](std::size_t i, const WorkerSlot& slot) {
        if (i < jobs.size()) return json(batch_detail::run_job(jobs[i], c, slot));
        JobOutcome o;
        o.status = "failed";
        o.error = "no such job";
        return json(o);
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
          e.outcome.status = "failed";
          e.outcome.error = r["pool_error"].get<std::string>();
        } else {
          e.outcome = r.get<JobOutcome>();
        }
        render(jobs[i], e);
        ++finished_count;
        const JobOutcome& o = e.outcome;
        meter.advance();
        if (!opt.quiet)
          meter.note(fmt::format("[{}/{}] {} {} (rank {}, {}, {:.2f} s){}", finished_count, to_run, o.status,
                                 jobs[i].id, e.rank, o.device.empty() ? "-" : o.device, o.runtime_s,
                                 o.error.empty() ? "" : ": " + o.error));
        write_progress(false);
      });
  timer.stop();
  meter.finish();

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
    bundle::SealOptions seal{c.out_dir.string(), c.tool, 0, c.git};
    seal.reuse_subbundle_digests = true;  // the job bundles were sealed as they finished
    bundle::seal_bundle(seal);
    out << jobs.size() << " jobs: " << counts.ok << " ok, " << counts.skipped << " skipped (resume), " << counts.failed
        << " failed, " << counts.divergent << " divergent; " << (fs::path(opt.out_dir) / "batch.json").string()
        << " (" << pool->description() << ")\n";
  }
  return pool->share_from_root(code);
}

}  // namespace nbtrace
