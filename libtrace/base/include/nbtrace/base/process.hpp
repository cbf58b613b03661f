#pragma once
// The one place child processes are started (posix_spawn): the simulators
// a parity run compares, git for a bundle's state, the command `nbbundle
// record` keeps. Every caller gets the same PATH lookup, EINTR handling and
// exit-status mapping.
#include <filesystem>
#include <string>
#include <vector>

namespace nbtrace {

/// Where one standard stream of the child goes.
struct StreamTarget {
  enum class Kind {
    inherit,  ///< this process's own stream
    null,     ///< /dev/null
    file,     ///< created or truncated at `path`
    capture,  ///< read into ProcessResult::out / ::err
    fd,       ///< an already open descriptor
  };
  Kind kind = Kind::inherit;
  std::filesystem::path path;
  int fd = -1;

  static StreamTarget inherited() { return {}; }
  static StreamTarget discarded() { return {Kind::null, {}, -1}; }
  static StreamTarget to_file(std::filesystem::path p) { return {Kind::file, std::move(p), -1}; }
  static StreamTarget captured() { return {Kind::capture, {}, -1}; }
  static StreamTarget to_fd(int descriptor) { return {Kind::fd, {}, descriptor}; }
};

struct ProcessOptions {
  std::filesystem::path cwd;  ///< empty: this process's working folder
  bool stdin_from_null = true;  ///< false: the child reads this process's stdin
  StreamTarget out = StreamTarget::inherited();
  StreamTarget err = StreamTarget::inherited();
  /// While the child runs this process ignores SIGINT and SIGQUIT and the
  /// child gets their default action, so a Ctrl-C stops the child and the
  /// caller still sees (and can record) how it ended.
  bool pass_interrupts_to_child = false;
};

struct ProcessResult {
  /// The child's exit status; 128+N when killed by signal N; 127 when it
  /// could not be started because the program was not found, 126 when it
  /// was found but could not be started (as sh reports them).
  int exit_code = -1;
  bool started = false;
  std::string start_error;  ///< why it could not be started ("" when started)
  double seconds = 0;       ///< wall time
  std::string out, err;     ///< captured streams (StreamTarget::captured)
};

/// Runs argv (argv[0] looked up on PATH when it has no '/') and waits for it.
/// Never throws for a program that fails or cannot start: that is in the
/// result. Throws OutputError when a redirection file cannot be created.
ProcessResult run_process(const std::vector<std::string>& argv, const ProcessOptions& options = {});

/// A simulator run for parity work: stdin from /dev/null, stdout and stderr
/// into the given files, in `cwd`. A program that cannot start gets
/// "cannot start PROG: why" appended to `err_file` and exit code 127.
struct RunOutcome {
  int exit_code = -1;  ///< 127 when it could not start, 128+N when killed by signal N
  double seconds = 0;  ///< wall time
  std::string stdout_text;  ///< what it printed (also written to out_file)
};
RunOutcome run_program(const std::vector<std::string>& argv, const std::filesystem::path& cwd,
                       const std::filesystem::path& out_file, const std::filesystem::path& err_file);

}  // namespace nbtrace
