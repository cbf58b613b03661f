// compare_scaling_traces --bundle: the scaling comparison as a recorded,
// self-contained bundle run.
#include <cerrno>
#include <chrono>
#include <cstring>
#include <exception>
#include <fstream>
#include <ostream>
#include <sstream>

#include "bundle_internal.hpp"
#include "nbtrace/atomic_file.hpp"
#include "nbtrace/bundle.hpp"
#include "nbtrace/commands.hpp"
#include "nbtrace/error.hpp"

namespace nbtrace::bundle {

namespace {

/// The path of `trace` inside the bundle: as is when it is already there,
/// else a copy under its file name (a scaling bundle must hold its traces).
std::string bring_into_bundle(const fs::path& bundle, const std::string& trace) {
  std::error_code ec;
  const fs::path src = fs::weakly_canonical(fs::absolute(trace), ec);
  if (is_within(fs::weakly_canonical(fs::absolute(bundle)), src)) return trace;
  std::ifstream in(trace, std::ios::binary);
  if (!in) throw InputError(trace + ": cannot read: " + std::strerror(errno));
  std::ostringstream content;
  content << in.rdbuf();
  const fs::path dest = bundle / fs::path(trace).filename();
  if (fs::exists(dest, ec)) {
    std::ifstream old(dest, std::ios::binary);
    std::ostringstream old_content;
    old_content << old.rdbuf();
    if (old_content.str() != content.str()) {
      throw UsageError(dest.string() + ": the bundle already holds a different " + dest.filename().string() +
                       "; use a new bundle or rename the trace");
    }
    return dest.string();
  }
  write_file_atomic(dest, content.str());
  return dest.string();
}

}  // namespace

int run_compare_scaling_in_bundle(const CompareScalingOptions& opt, std::ostream& out, std::ostream& err) {
  const fs::path bundle(opt.bundle_dir);
  const std::string id = ensure_bundle(bundle, std::nullopt, err);
  RunRecord run;
  run.argv = opt.argv;
  run.cwd = fs::current_path();
  run.git = git_state(run.cwd);
  run.start_utc = utc_now_iso();
  const auto t0 = std::chrono::steady_clock::now();

  CompareScalingOptions inner = opt;
  inner.bundle_dir.clear();
  inner.seal = false;
  inner.out_summary = (bundle / "summary.md").string();
  inner.bundle_id = id;
  std::exception_ptr failure;
  try {
    inner.c_trace = bring_into_bundle(bundle, opt.c_trace);
    inner.test_trace = bring_into_bundle(bundle, opt.test_trace);
    run.exit_code = run_compare_scaling(inner, out, err);
  } catch (const InputError&) {
    run.exit_code = exit_code::input;
    failure = std::current_exception();
  } catch (...) {
    run.exit_code = exit_code::failure;
    failure = std::current_exception();
  }
  run.duration_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  // Failed runs are evidence too: record before reporting the error.
  const AppendResult r = append_command(bundle, run);
  out << "Recorded as entry " << r.number << (r.rerun ? " (rerun)" : "") << " in "
      << (bundle / kCommandsName).string() << "\n";
  if (failure) std::rethrow_exception(failure);
  if (opt.seal) run_seal(SealOptions{opt.bundle_dir, 0}, out, err);
  return run.exit_code;
}

}  // namespace nbtrace::bundle
