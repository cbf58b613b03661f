#pragma once
// What batch.cpp (the run) and batch_job_run.cpp (one job) share.
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "nbtrace/bundle/bundle.hpp"
#include "nbtrace/parity/batch.hpp"

namespace nbtrace::batch_detail {

/// What every job needs, the same on every rank.
struct JobContext {
  std::filesystem::path out_dir;
  std::filesystem::path jobs_base;  ///< the jobs file's folder: input paths are relative to it
  std::string test_bin;             ///< absolute or a PATH name
  bool test_is_nbsim = false;       ///< test_bin is the nbsim beside this tool
  std::string ref_bin;              ///< --ref-bin: absolute, or a bare name looked up on PATH; empty: none
  std::function<void(const std::filesystem::path& bundle)> parity_before_seal;  ///< BatchOptions'
  std::string device;               ///< cpu or cuda
  unsigned threads_per_job = 1;     ///< nbsim -nthreads on the CPU
  std::vector<std::string> gpus;    ///< with device cuda: the GPUs this rank's simulator sees, by index
  bundle::GitState git;
  std::string tool;                 ///< the tool running the batch, recorded in each bundle's env.json
};

/// The GPUs the simulator lists with -list_devices, by index: its "cuda I:
/// NAME" lines (the listing nbsim's -help describes).
std::vector<std::string> list_gpus(const std::string& test_bin);

/// One job on whichever rank and thread it landed, in out_dir/<id>/: never
/// throws; a failure is an outcome with status "failed".
JobOutcome run_job(const BatchJob& job, const JobContext& c, const WorkerSlot& slot);

/// The statistics a simulation job's bundle recorded (its stats.json), for
/// a job --resume keeps; nullopt when there are none.
std::optional<SimulationStatistics> recorded_statistics(const BatchJob& job, const std::filesystem::path& dir);

/// A job's "metrics" object in batch.json: {} for none.
nlohmann::json metrics_json(const JobOutcome& o);

}  // namespace nbtrace::batch_detail
