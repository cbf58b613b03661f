// One batch job: a simulation (nbsim in its bundle folder) or a parity check
// (nbparity run's bundle); what it reports, as a type and as JSON.
#include <chrono>
#include <fmt/printf.h>
#include <sstream>

#include "batch_internal.hpp"
#include "nbtrace/base/error.hpp"
#include "nbtrace/base/files.hpp"
#include "nbtrace/base/numbers.hpp"
#include "nbtrace/base/process.hpp"
#include "nbtrace/parity/image_json.hpp"
#include "nbtrace/parity/simulator_args.hpp"

namespace nbtrace {

namespace fs = std::filesystem;
using json = nlohmann::json;

namespace batch_detail {

namespace {

/// The run summary nbsim writes for a simulation job (-stats_json).
constexpr const char* kStatsFile = "stats.json";

bool has_flag(const std::vector<std::string>& args, std::initializer_list<const char*> names) {
  for (const std::string& a : args)
    for (const char* n : names)
      if (a == n) return true;
  return false;
}

/// Where a simulation job's run summary goes: the job's own -stats_json, or stats.json.
std::string stats_file(const std::vector<std::string>& args) {
  std::string file = kStatsFile;
  for (std::size_t i = 0; i + 1 < args.size(); ++i)
    if (args[i] == "-stats_json") file = args[i + 1];
  return file;
}

/// A statistic as nbsim prints it (%g: 6 significant digits). batch.json
/// keeps these values rather than stats.json's full precision because they
/// are what the reference's printed statistics lines (nanoBragg.c's max_I,
/// mean, rms, rmsd) give, so a job's metrics compare with a nanoBragg.c run's.
double as_printed(double v) { return parse_double(fmt::sprintf("%g", v)).value_or(v); }

SimulationStatistics printed_statistics(const nbsim::RunSummary& s) {
  return {as_printed(s.statistics.max_I), as_printed(s.statistics.mean), as_printed(s.statistics.rms),
          as_printed(s.statistics.rmsd)};
}

std::string last_line(std::string text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
  const auto nl = text.rfind('\n');
  return nl == std::string::npos ? text : text.substr(nl + 1);
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

/// A simulation job: nbsim in DIR/<id>/ on staged copies of its inputs.
JobOutcome run_simulation_job(const BatchJob& job, const fs::path& dir, const JobContext& c, const Placement& where) {
  std::vector<std::string> args = stage_inputs(job.args, dir, c.jobs_base);
  if (!has_flag(args, {"-floatfile", "-floatimage"})) args.insert(args.end(), {"-floatfile", "image.bin"});
  if (!has_flag(args, {"-stats_json"})) args.insert(args.end(), {"-stats_json", kStatsFile});
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
  bundle::seal_bundle(bundle::SealOptions{dir.string(), c.tool, 1, c.git});
  JobOutcome out;
  out.status = o.exit_code == exit_code::ok ? "ok" : "failed";
  out.exit_code = o.exit_code;
  out.device = where.device;
  if (o.exit_code != exit_code::ok) out.error = last_line(read_text_file(dir / "stderr.log"));
  if (const auto stats = recorded_statistics(job, dir)) out.metrics = *stats;
  return out;
}

ParityJobSummary summary_of(const ParityResult& r) {
  ParityJobSummary s;
  s.verdict = verdict_name(r.verdict);
  if (r.images) {
    const image::Metrics& m = r.images->metrics;
    s.image = ParityJobSummary::Image{m.correlation, m.sum_ratio, m.max_abs_diff, r.images->max_abs_diff_rel,
                                      r.images->failed_checks};
  }
  s.traced_pixels = r.pixels.size();
  for (const PixelResult& p : r.pixels) {
    if (p.pass()) continue;
    ++s.divergent_pixels;
    if (!s.first_divergence) s.first_divergence = p.first_divergence;
  }
  return s;
}

/// A parity job: nbparity run's bundle with the job's thresholds, in DIR/<id>/.
JobOutcome run_parity_job(const BatchJob& job, const fs::path& dir, const JobContext& c, const Placement& where) {
  const BatchParity& par = *job.parity;
  ParityRunOptions o;
  o.tool = c.tool;
  o.ref_bin = !par.ref_bin.empty() ? par.ref_bin : c.ref_bin;
  if (o.ref_bin.empty())
    throw UsageError("job " + job.id + " has a parity check but names no ref_bin, and --ref-bin was not given");
  if (o.ref_bin.find('/') != std::string::npos && fs::path(o.ref_bin).is_relative())
    o.ref_bin = (c.jobs_base / o.ref_bin).lexically_normal().string();
  o.test_bin = c.test_is_nbsim ? "nbsim" : c.test_bin;
  o.pixels = par.pixels;
  o.auto_pixels = par.auto_pixels;
  o.thresholds = par.thresholds;
  o.bundle_dir = dir.string();
  o.before_seal = c.parity_before_seal;
  o.args = absolutize_inputs(job.args, c.jobs_base);
  o.test_extra_args = where.args;
  // The command that redoes this job on its own.
  o.argv = {"nbparity", "run", "--ref-bin", fs::path(o.ref_bin).filename().string(), "--mode", par.thresholds.mode};
  for (const TracedPixel& p : par.pixels)
    o.argv.insert(o.argv.end(), {"--pixels", std::to_string(p.slow) + "," + std::to_string(p.fast)});
  if (par.auto_pixels) o.argv.insert(o.argv.end(), {"--auto-pixels", std::to_string(par.auto_pixels)});
  o.argv.push_back("--");
  o.argv.insert(o.argv.end(), job.args.begin(), job.args.end());
  std::ostringstream quiet;  // notes about the folder name: the job id names it
  const ParityResult r = run_parity(o, {}, quiet).result;
  const ParityJobSummary s = summary_of(r);
  JobOutcome out;
  out.exit_code = r.exit_code();
  out.status = r.verdict == Verdict::pass ? "ok" : (r.verdict == Verdict::divergent ? "divergent" : "failed");
  out.device = where.device;
  if (r.verdict != Verdict::pass) {
    out.error = "parity " + s.verdict;
    if (!r.failures.empty()) out.error += ": " + r.failures.front().what;
    if (s.image && !s.image->failed_checks.empty()) {
      out.error += " (image checks failed:";
      for (const std::string& f : s.image->failed_checks) out.error += " " + f;
      out.error += ")";
    }
    if (s.divergent_pixels)
      out.error += fmt::format(" ({} traced pixel(s) diverge, first at {})", s.divergent_pixels, s.first_divergence.value_or(""));
    if (r.verdict == Verdict::not_compared) out.error += " (too little compared to call it agreement)";
  }
  out.metrics = s;
  return out;
}

}  // namespace

std::vector<std::string> list_gpus(const std::string& test_bin) {
  ScratchDir scratch("nbparity-devices-");
  const RunOutcome o =
      run_program({test_bin, "-list_devices"}, scratch.path(), scratch.path() / "out.txt", scratch.path() / "err.txt");
  std::vector<std::string> names;
  std::istringstream in(o.stdout_text);
  for (std::string line; std::getline(in, line);) {
    // "cuda I: NAME", I counting from 0.
    if (line.rfind("cuda ", 0) != 0) continue;
    const std::size_t colon = line.find(": ");
    if (colon == std::string::npos || line.substr(5, colon - 5) != std::to_string(names.size())) continue;
    names.push_back(line.substr(colon + 2));
  }
  return names;
}

std::optional<SimulationStatistics> recorded_statistics(const BatchJob& job, const fs::path& dir) {
  if (job.parity) return std::nullopt;
  const fs::path file = dir / stats_file(job.args);
  std::error_code ec;
  if (!fs::exists(file, ec)) return std::nullopt;
  return printed_statistics(nbsim::read_summary(file.string()));
}

JobOutcome run_job(const BatchJob& job, const JobContext& c, const WorkerSlot& slot) {
  const auto t0 = std::chrono::steady_clock::now();
  const fs::path dir = c.out_dir / job.id;
  JobOutcome r;
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
    r = JobOutcome{};
    r.status = "failed";
    r.error = error;
    r.device = device;
    // Still a sealed bundle, holding the reason.
    try {
      std::ostringstream quiet;
      bundle::ensure_bundle(dir, std::nullopt, quiet);
      write_file_atomic(dir / "error.log", error + "\n");
      bundle::seal_bundle(bundle::SealOptions{dir.string(), c.tool, 1, c.git});
    } catch (const std::exception&) {
      // The folder itself is unusable; batch.json has the error.
    }
  }
  r.runtime_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return r;
}

json metrics_json(const JobOutcome& o) {
  return std::visit(
      [](const auto& m) -> json {
        if constexpr (std::is_same_v<std::decay_t<decltype(m)>, std::monostate>) return json::object();
        else return json(m);
      },
      o.metrics);
}

}  // namespace batch_detail

void to_json(json& j, const SimulationStatistics& s) {
  j = json{{"max_I", s.max_I}, {"mean", s.mean}, {"rms", s.rms}, {"rmsd", s.rmsd}};
}

void from_json(const json& j, SimulationStatistics& s) {
  j.at("max_I").get_to(s.max_I);
  j.at("mean").get_to(s.mean);
  j.at("rms").get_to(s.rms);
  j.at("rmsd").get_to(s.rmsd);
}

void to_json(json& j, const ParityJobSummary& s) {
  j = json::object();
  j["verdict"] = s.verdict;
  if (s.image) {
    j["correlation"] = image::optional_number<json>(s.image->correlation);
    j["sum_ratio"] = image::optional_number<json>(s.image->sum_ratio);
    j["max_abs_diff"] = s.image->max_abs_diff;
    j["max_abs_diff_rel"] = s.image->max_abs_diff_rel;
    j["failed_checks"] = s.image->failed_checks;
  }
  j["traced_pixels"] = s.traced_pixels;
  j["divergent_pixels"] = s.divergent_pixels;
  j["first_divergence"] = s.first_divergence ? json(*s.first_divergence) : json(nullptr);
}

void from_json(const json& j, ParityJobSummary& s) {
  s = ParityJobSummary{};
  j.at("verdict").get_to(s.verdict);
  if (j.contains("failed_checks")) {
    ParityJobSummary::Image im;
    im.correlation = image::read_optional_number(j.at("correlation"));
    im.sum_ratio = image::read_optional_number(j.at("sum_ratio"));
    j.at("max_abs_diff").get_to(im.max_abs_diff);
    j.at("max_abs_diff_rel").get_to(im.max_abs_diff_rel);
    j.at("failed_checks").get_to(im.failed_checks);
    s.image = std::move(im);
  }
  j.at("traced_pixels").get_to(s.traced_pixels);
  j.at("divergent_pixels").get_to(s.divergent_pixels);
  if (j.at("first_divergence").is_string()) s.first_divergence = j["first_divergence"].get<std::string>();
}

void to_json(json& j, const JobOutcome& o) {
  j = json{{"status", o.status},   {"exit_code", o.exit_code}, {"runtime_s", o.runtime_s},
           {"error", o.error},     {"device", o.device},       {"metrics", batch_detail::metrics_json(o)}};
}

void from_json(const json& j, JobOutcome& o) {
  o = JobOutcome{};
  j.at("status").get_to(o.status);
  j.at("exit_code").get_to(o.exit_code);
  j.at("runtime_s").get_to(o.runtime_s);
  j.at("error").get_to(o.error);
  j.at("device").get_to(o.device);
  const json& m = j.at("metrics");
  if (m.contains("verdict")) o.metrics = m.get<ParityJobSummary>();
  else if (m.contains("max_I")) o.metrics = m.get<SimulationStatistics>();
}

}  // namespace nbtrace
