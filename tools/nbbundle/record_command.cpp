// nbbundle record DIR -- CMD...: run a command and append it to commands.txt.
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <memory>
#include <optional>

#include <fmt/format.h>

#include "commands.hpp"
#include "nbtrace/base/error.hpp"
#include "nbtrace/base/files.hpp"
#include "nbtrace/base/process.hpp"
#include "nbtrace/bundle/bundle.hpp"

namespace {

namespace fs = std::filesystem;
using namespace nbtrace::bundle;
using nbtrace::OutputError;
using nbtrace::UsageError;

struct RecordOptions {
  std::string dir;
  std::vector<std::string> argv;
  std::string capture;  ///< NAME: NAME.stdout.log / NAME.stderr.log in the bundle
};

std::string seconds_text(double s) { return fmt::format("{:.3f}", s); }

/// Validates --capture NAME: a relative path inside the bundle.
void check_capture_name(const std::string& name) {
  if (name.empty()) throw UsageError("--capture needs a NAME");
  if (name.front() == '/') throw UsageError("--capture " + name + ": must be relative to the bundle");
  for (const auto& part : fs::path(name)) {
    if (part == "..") throw UsageError("--capture " + name + ": must stay inside the bundle");
  }
}

/// A capture file: written in the bundle's staging folder while the command
/// runs (never sealed if this process is killed), renamed into place by
/// commit(); removed if never committed.
class Capture {
 public:
  Capture(const fs::path& bundle, std::string rel) : rel_(std::move(rel)), final_(bundle / rel_) {
    std::error_code ec;
    fs::create_directories(final_.parent_path(), ec);
    temp_ = nbtrace::staging_path_for(final_);
    fd_ = ::open(temp_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd_ < 0) throw OutputError(temp_.string() + ": cannot create: " + std::strerror(errno));
  }
  ~Capture() {
    if (fd_ >= 0) ::close(fd_);
    if (!committed_) ::unlink(temp_.c_str());
    nbtrace::remove_empty_staging(final_);
  }
  Capture(const Capture&) = delete;
  Capture& operator=(const Capture&) = delete;

  int fd() const { return fd_; }
  const std::string& rel() const { return rel_; }
  void commit() {
    ::fsync(fd_);
    ::close(fd_);
    fd_ = -1;
    if (::rename(temp_.c_str(), final_.c_str()) != 0) {
      throw OutputError(final_.string() + ": cannot replace: " + std::strerror(errno));
    }
    committed_ = true;
  }

 private:
  std::string rel_;
  fs::path final_, temp_;
  int fd_ = -1;
  bool committed_ = false;
};

/// Runs the command, appends its entry, returns its exit code (127 when it
/// cannot be started, 128+N when killed by signal N).
int run_record(const RecordOptions& opt) {
  std::ostream& err = std::cerr;
  if (opt.dir.empty()) throw UsageError("DIR is required");
  if (opt.argv.empty()) throw UsageError("no command given (nbbundle record DIR -- CMD ARGS...)");
  if (!opt.capture.empty()) check_capture_name(opt.capture);
  const fs::path bundle(opt.dir);
  ensure_bundle(bundle, std::nullopt, err);
  for (const std::string& a : opt.argv) {
    for (const std::string& p : machine_paths(a)) {
      err << "nbbundle: warning: " << p << " is an absolute path; the entry will not re-run on another machine "
          << "and audit reports it (B005)\n";
    }
  }

  RunRecord run;
  run.argv = opt.argv;
  run.cwd = fs::current_path();
  run.git = git_state(run.cwd);
  run.start_utc = utc_now_iso();
  std::optional<Capture> cap_out, cap_err;
  if (!opt.capture.empty()) {
    cap_out.emplace(bundle, opt.capture + ".stdout.log");
    cap_err.emplace(bundle, opt.capture + ".stderr.log");
    run.stdout_file = cap_out->rel();
    run.stderr_file = cap_err->rel();
  }
  // stdin stays the user's; a Ctrl-C stops the command and is still recorded.
  nbtrace::ProcessOptions how;
  how.stdin_from_null = false;
  how.pass_interrupts_to_child = true;
  if (cap_out) how.out = nbtrace::StreamTarget::to_fd(cap_out->fd());
  if (cap_err) how.err = nbtrace::StreamTarget::to_fd(cap_err->fd());
  const nbtrace::ProcessResult ran = nbtrace::run_process(opt.argv, how);
  if (!ran.started) err << "nbbundle: error: cannot run " << opt.argv[0] << ": " << ran.start_error << "\n";
  run.exit_code = ran.exit_code;
  run.duration_s = ran.seconds;
  if (cap_out) cap_out->commit();
  if (cap_err) cap_err->commit();

  const AppendResult r = append_command(bundle, run);
  err << "nbbundle: recorded entry " << r.number << " in " << (bundle / kCommandsName).string() << " ("
      << (r.rerun ? "rerun" : "first run") << ", exit " << run.exit_code << ", " << seconds_text(run.duration_s)
      << " s)\n";
  return run.exit_code;
}

}  // namespace

std::function<int()> setup_record(CLI::App& app) {
  auto opt = std::make_shared<RecordOptions>();
  CLI::App* cmd = app.add_subcommand(
      "record",
      "Run a command and append it to the bundle's commands.txt (UTC start, duration, exit code, command line, "
      "working folder, git sha, first run or rerun). Returns the command's exit code.");
  cmd->add_option("DIR", opt->dir, "bundle folder (created if needed)")->required();
  cmd->add_option("--capture", opt->capture,
                  "save the command's stdout and stderr as NAME.stdout.log and NAME.stderr.log in the bundle")
      ->type_name("NAME");
  cmd->add_option("CMD", opt->argv, "the command and its arguments, after --")->required();
  cmd->footer("Example: nbbundle record runs/20251008T212459Z --capture c_trace -- ./nanoBragg -trace_pixel 685 1039");
  return [=] { return run_record(*opt); };
}
