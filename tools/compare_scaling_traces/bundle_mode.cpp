// compare_scaling_traces --bundle: the scaling comparison as a recorded,
// self-contained bundle run.
#include <cerrno>
#include <chrono>
#include <cstring>
#include <exception>
#include <fstream>
#include <ostream>
#include <sstream>

#include "compare_scaling.hpp"
#include "nbtrace/base/error.hpp"
#include "nbtrace/base/files.hpp"
#include "nbtrace/base/paths.hpp"
#include "nbtrace/bundle/bundle.hpp"

using namespace nbtrace;
using namespace nbtrace::bundle;
namespace fs = std::filesystem;

namespace {

/// The path of `trace` inside the bundle: as is when it is already there,
/// else a copy under its file name (a scaling bundle must hold its traces).
std::string bring_into_bundle(const fs::path& bundle, const std::string& trace) {
  std::error_code ec;
  const fs::path src = fs::weakly_canonical(fs::absolute(trace), ec);
  const fs::path inside = src.lexically_relative(fs::weakly_canonical(fs::absolute(bundle), ec));
  if (!inside.empty() && *inside.begin() != "..") return trace;
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

/// The command line as recorded: the trace options point at the copies in
/// the bundle and every path option is relative to the working folder, so
/// the bundle stays relocatable and the entry re-runs from its own files.
std::vector<std::string> recorded_argv(const std::vector<std::string>& argv, const fs::path& cwd,
                                       const std::string& c_copy, const std::string& test_copy) {
  std::vector<std::string> out;
  for (std::size_t i = 0; i < argv.size(); ++i) {
    const std::string& a = argv[i];
    const auto eq = a.find('=');
    const std::string flag = a.substr(0, eq);
    std::string replacement;
    if (flag == "--c") replacement = relative_path(c_copy, cwd);
    else if (flag == "--py" || flag == "--cpp") replacement = relative_path(test_copy, cwd);
    else if (flag == "--bundle") replacement = "";  // filled from the value below
    else {
      out.push_back(a);
      continue;
    }
    const bool inline_value = eq != std::string::npos;
    const std::string value = inline_value ? a.substr(eq + 1) : (i + 1 < argv.size() ? argv[i + 1] : "");
    if (flag == "--bundle") replacement = relative_path(value, cwd);
    if (inline_value) {
      out.push_back(flag + "=" + replacement);
    } else {
      out.push_back(flag);
      out.push_back(replacement);
      ++i;
    }
  }
  return out;
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
    run.argv = recorded_argv(opt.argv, run.cwd, inner.c_trace, inner.test_trace);
    inner.argv = run.argv;
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
  if (opt.seal) out << seal_report(opt.bundle_dir, seal_bundle(SealOptions{opt.bundle_dir, "compare_scaling_traces", 0}));
  return run.exit_code;
}
