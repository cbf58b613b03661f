// commands.txt (format, parsing, appending), git state, child processes,
// and `nbbundle init` / `nbbundle record`.
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <ostream>
#include <sstream>

#include "bundle_internal.hpp"
#include "nbtrace/atomic_file.hpp"
#include "nbtrace/bundle.hpp"
#include "nbtrace/error.hpp"
#include "nbtrace/shell.hpp"
#include "nbtrace/version.hpp"

extern char** environ;

namespace nbtrace::bundle {

namespace {

constexpr std::string_view kHeaderPrefix = "# nbbundle commands.txt v1";
constexpr std::string_view kEntryPrefix = "## run";

bool printable_ascii(std::string_view s) {
  for (unsigned char c : s) {
    if (c < 0x20 || c > 0x7e) return false;
  }
  return true;
}

/// shell_quote, but the result is always printable ASCII: other bytes go
/// through printf octal escapes (POSIX sh), so commands.txt stays ASCII.
std::string quote_ascii(std::string_view arg) {
  if (printable_ascii(arg)) return shell_quote(arg);
  std::string fmt;
  for (unsigned char c : arg) {
    if (c == '%') fmt += "%%";
    else if (c == '\\') fmt += "\\\\";
    else if (c == '\'') fmt += "'\\''";
    else if (c >= 0x20 && c <= 0x7e) fmt += static_cast<char>(c);
    else {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\%03o", c);
      fmt += buf;
    }
  }
  return "\"$(printf '" + fmt + "')\"";
}

std::string join_ascii(const std::vector<std::string>& argv) {
  std::string out;
  for (const std::string& a : argv) {
    if (!out.empty()) out += ' ';
    out += quote_ascii(a);
  }
  return out;
}

/// Field values: bytes outside '!'..'~' and '%' become %XX, so a value never
/// holds a space and the header stays one ASCII line.
std::string encode_value(std::string_view v) {
  std::string out;
  for (unsigned char c : v) {
    if (c <= 0x20 || c >= 0x7f || c == '%') {
      char buf[4];
      std::snprintf(buf, sizeof buf, "%%%02X", c);
      out += buf;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out.empty() ? "%00" : out;
}

std::string decode_value(std::string_view v) {
  if (v == "%00") return "";
  std::string out;
  for (std::size_t i = 0; i < v.size(); ++i) {
    if (v[i] == '%' && i + 2 < v.size() && std::isxdigit(static_cast<unsigned char>(v[i + 1])) &&
        std::isxdigit(static_cast<unsigned char>(v[i + 2]))) {
      out += static_cast<char>(std::stoi(std::string(v.substr(i + 1, 2)), nullptr, 16));
      i += 2;
    } else {
      out += v[i];
    }
  }
  return out;
}

std::string collapse_ws(std::string_view s) {
  std::string out;
  bool space = false;
  for (char c : s) {
    if (c == ' ' || c == '\t') {
      space = !out.empty();
    } else {
      if (space) out += ' ';
      space = false;
      out += c;
    }
  }
  return out;
}

std::string format_duration(double s) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3f", s);
  return buf;
}

std::optional<std::string> read_if_exists(const fs::path& p) {
  std::error_code ec;
  if (!fs::exists(p, ec)) return std::nullopt;
  FILE* f = std::fopen(p.c_str(), "rb");
  if (!f) throw InputError(p.string() + ": cannot read: " + std::strerror(errno));
  std::string s;
  char buf[65536];
  for (std::size_t n; (n = std::fread(buf, 1, sizeof buf, f)) > 0;) s.append(buf, n);
  std::fclose(f);
  return s;
}

}  // namespace

FolderLock::FolderLock(const fs::path& dir) : fd_(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC)) {
  if (fd_ < 0) throw OutputError(dir.string() + ": cannot open: " + std::strerror(errno));
  while (::flock(fd_, LOCK_EX) != 0 && errno == EINTR) {
  }
}

FolderLock::~FolderLock() { ::close(fd_); }

// ---------------------------------------------------------------- processes

ProcessOutput run_capture(const std::vector<std::string>& argv) {
  ProcessOutput r;
  int pipefd[2];
  if (::pipe2(pipefd, O_CLOEXEC) != 0) return r;
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, pipefd[1], 1);
  posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0);
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = 0;
  const int rc = ::posix_spawnp(&pid, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  ::close(pipefd[1]);
  if (rc != 0) {
    ::close(pipefd[0]);
    r.exit_code = 127;
    return r;
  }
  char buf[4096];
  for (;;) {
    const ssize_t n = ::read(pipefd[0], buf, sizeof buf);
    if (n > 0) r.out.append(buf, static_cast<std::size_t>(n));
    else if (n == 0 || errno != EINTR) break;
  }
  ::close(pipefd[0]);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return r;
}

// ---------------------------------------------------------------- git

GitState git_state(const fs::path& cwd) {
  GitState g;
  const ProcessOutput head = run_capture({"git", "-C", cwd.string(), "rev-parse", "HEAD"});
  std::string sha = head.out;
  while (!sha.empty() && (sha.back() == '\n' || sha.back() == '\r')) sha.pop_back();
  if (head.exit_code == 0 && (sha.size() == 40 || sha.size() == 64)) {
    g.sha = sha;
    const ProcessOutput st =
        run_capture({"git", "-C", cwd.string(), "status", "--porcelain", "--untracked-files=no"});
    g.dirty = st.exit_code != 0 || !st.out.empty();
    return g;
  }
  // Not in a git tree (or no git): the sha the tools were built from.
  std::string built(build_git_sha());
  constexpr std::string_view suffix = "-dirty";
  if (built.size() > suffix.size() && built.ends_with(suffix)) {
    built.resize(built.size() - suffix.size());
    g.dirty = true;
  }
  g.sha = built;
  g.from_build = true;
  return g;
}

std::string git_sha_text(const GitState& g) { return g.sha + (g.dirty ? "-dirty" : "") + "\n"; }

// ---------------------------------------------------------------- commands.txt

std::string commands_header(std::string_view bundle_id) {
  return std::string(kHeaderPrefix) + " bundle=" + std::string(bundle_id) +
         "\n# Each entry: a '## run' line of key=value fields, then the command line.\n"
         "# Re-run a command from the folder that contains this bundle (see docs/bundles.md).\n\n";
}

CommandsFile parse_commands(std::string_view text) {
  CommandsFile f;
  std::vector<std::string> lines;
  for (std::size_t start = 0; start < text.size();) {
    const std::size_t nl = text.find('\n', start);
    std::string_view l = text.substr(start, nl == std::string_view::npos ? std::string_view::npos : nl - start);
    if (!l.empty() && l.back() == '\r') l.remove_suffix(1);
    lines.emplace_back(l);
    if (nl == std::string_view::npos) break;
    start = nl + 1;
  }
  for (std::size_t i = 0; i < lines.size(); ++i) {
    const std::string& l = lines[i];
    if (l.starts_with(kHeaderPrefix)) {
      const std::size_t at = l.find(" bundle=");
      if (at != std::string::npos) f.bundle_id = collapse_ws(l.substr(at + 8));
      continue;
    }
    if (l.starts_with(kEntryPrefix) && (l.size() == kEntryPrefix.size() || l[kEntryPrefix.size()] == ' ')) {
      CommandEntry e;
      e.line = i + 1;
      std::istringstream tokens(l.substr(kEntryPrefix.size()));
      for (std::string tok; tokens >> tok;) {
        const std::size_t eq = tok.find('=');
        if (eq == std::string::npos || eq == 0) {
          f.problems.emplace_back(i + 1, "field '" + tok + "' is not key=value");
          continue;
        }
        e.fields[tok.substr(0, eq)] = decode_value(tok.substr(eq + 1));
      }
      if (i + 1 < lines.size() && !lines[i + 1].empty() && lines[i + 1][0] != '#') {
        e.command = lines[++i];
      } else {
        f.problems.emplace_back(i + 1, "entry header without a command line after it");
      }
      for (const char* key : {"n", "start", "duration_s", "exit", "cwd", "git", "dirty", "run"}) {
        if (!e.fields.count(key)) f.problems.emplace_back(e.line, std::string("entry lacks field '") + key + "'");
      }
      f.entries.push_back(std::move(e));
      continue;
    }
    if (l.empty() || l[0] == '#') continue;
    // A hand-written command, possibly continued with trailing backslashes.
    std::string cmd = l;
    while (!cmd.empty() && cmd.back() == '\\' && i + 1 < lines.size()) {
      cmd.pop_back();
      cmd += ' ' + lines[++i];
    }
    f.legacy_commands.push_back(collapse_ws(cmd));
  }
  return f;
}

std::string recorded_command_line(const fs::path& bundle, const RunRecord& run) {
  const fs::path parent = fs::weakly_canonical(fs::absolute(bundle)).parent_path();
  const fs::path rel = fs::weakly_canonical(run.cwd).lexically_relative(parent);
  const std::string cmd = join_ascii(run.argv);
  if (rel.empty() || rel == ".") return cmd;
  return "(cd " + quote_ascii(rel.generic_string()) + " && " + cmd + ")";
}

AppendResult append_command(const fs::path& bundle, const RunRecord& run) {
  const FolderLock lock(bundle);
  const fs::path path = bundle / kCommandsName;
  const std::string old = read_if_exists(path).value_or("");
  const CommandsFile parsed = parse_commands(old);

  AppendResult r;
  r.command_line = recorded_command_line(bundle, run);
  r.number = parsed.entries.size() + 1;
  for (const CommandEntry& e : parsed.entries) {
    if (e.command == r.command_line) {
      r.rerun = true;
      if (auto n = e.fields.find("n"); n != e.fields.end()) r.rerun_of = std::strtoul(n->second.c_str(), nullptr, 10);
      break;
    }
  }
  if (!r.rerun) {
    const std::string flat = collapse_ws(r.command_line);
    for (const std::string& c : parsed.legacy_commands) r.rerun = r.rerun || c == flat;
  }

  const fs::path bundle_abs = fs::weakly_canonical(fs::absolute(bundle));
  const fs::path cwd_rel = fs::weakly_canonical(run.cwd).lexically_relative(bundle_abs);
  std::string entry = std::string(kEntryPrefix) + " n=" + std::to_string(r.number) + " start=" +
                      encode_value(run.start_utc) + " duration_s=" + format_duration(run.duration_s) +
                      " exit=" + std::to_string(run.exit_code) +
                      " cwd=" + encode_value(cwd_rel.empty() ? "." : cwd_rel.generic_string()) +
                      " git=" + encode_value(run.git.sha) + " dirty=" + (run.git.dirty ? "yes" : "no") +
                      " git_from=" + (run.git.from_build ? "build" : "cwd") + " run=" + (r.rerun ? "rerun" : "first");
  if (r.rerun_of) entry += " of=" + std::to_string(*r.rerun_of);
  if (!run.stdout_file.empty()) entry += " stdout=" + encode_value(run.stdout_file);
  if (!run.stderr_file.empty()) entry += " stderr=" + encode_value(run.stderr_file);
  entry += "\n" + r.command_line + "\n\n";

  std::string content = old;
  if (content.empty()) content = commands_header(bundle_id_from_path(bundle).value_or(bundle_id_now()));
  else if (!content.ends_with("\n\n")) content += content.ends_with('\n') ? "\n" : "\n\n";
  content += entry;
  write_file_atomic(path, content);
  return r;
}

std::string ensure_bundle(const fs::path& dir, std::optional<std::string> id, std::ostream& err) {
  if (id && !is_bundle_id(*id)) throw UsageError("--id " + *id + ": expected a UTC time as YYYYMMDDTHHMMSSZ");
  const std::optional<std::string> path_id = bundle_id_from_path(dir);
  if (id && path_id && *id != *path_id) {
    throw UsageError("--id " + *id + " contradicts the id " + *path_id + " in the folder name " + dir.string());
  }
  std::error_code ec;
  if (fs::exists(dir, ec) && !fs::is_directory(dir, ec)) throw UsageError(dir.string() + ": exists and is not a folder");
  const fs::path cmds = dir / kCommandsName;
  if (const auto existing = read_if_exists(cmds)) {
    const CommandsFile f = parse_commands(*existing);
    if (f.bundle_id && id && *f.bundle_id != *id) {
      throw UsageError(dir.string() + " is already bundle " + *f.bundle_id + " (--id " + *id + ")");
    }
    return f.bundle_id ? *f.bundle_id : id ? *id : path_id ? *path_id : bundle_id_now();
  }
  const std::string chosen = id ? *id : path_id ? *path_id : bundle_id_now();
  fs::create_directories(dir, ec);
  if (ec) throw OutputError(dir.string() + ": cannot create folder: " + ec.message());
  write_file_atomic(cmds, commands_header(chosen));
  if (!path_id) {
    err << "nbbundle: note: " << dir.string() << ": the folder name carries no bundle id; audit matches ids "
        << "against the folder name (e.g. name it .../" << chosen << ")\n";
  }
  return chosen;
}

int run_init(const InitOptions& opt, std::ostream& out, std::ostream& err) {
  if (opt.dir.empty()) throw UsageError("DIR is required");
  const bool existed = fs::exists(fs::path(opt.dir) / kCommandsName);
  const std::string id = ensure_bundle(opt.dir, opt.id.empty() ? std::nullopt : std::optional(opt.id), err);
  out << (existed ? "bundle " : "initialized bundle ") << opt.dir << " (id " << id << ")"
      << (existed ? " already exists" : "") << "\n";
  return 0;
}

// ---------------------------------------------------------------- record

namespace {

/// Validates --capture NAME: a relative path inside the bundle.
void check_capture_name(const std::string& name) {
  if (name.empty()) throw UsageError("--capture needs a NAME");
  if (name.front() == '/') throw UsageError("--capture " + name + ": must be relative to the bundle");
  for (const auto& part : fs::path(name)) {
    if (part == "..") throw UsageError("--capture " + name + ": must stay inside the bundle");
  }
}

/// A capture file: written under a temporary name while the command runs,
/// renamed into place by commit(); removed if never committed.
class Capture {
 public:
  Capture(const fs::path& bundle, std::string rel) : rel_(std::move(rel)), final_(bundle / rel_) {
    std::error_code ec;
    fs::create_directories(final_.parent_path(), ec);
    temp_ = final_;
    temp_ += ".tmp." + std::to_string(::getpid());
    fd_ = ::open(temp_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd_ < 0) throw OutputError(temp_.string() + ": cannot create: " + std::strerror(errno));
  }
  ~Capture() {
    if (fd_ >= 0) ::close(fd_);
    if (!committed_) ::unlink(temp_.c_str());
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

/// Runs argv with stdin inherited and stdout/stderr to the given fds (-1:
/// inherited). While it runs, this process ignores SIGINT/SIGQUIT so that
/// a Ctrl-C reaches the child and its exit is still recorded.
int spawn_and_wait(const std::vector<std::string>& argv, int out_fd, int err_fd, std::ostream& err) {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  if (out_fd >= 0) posix_spawn_file_actions_adddup2(&actions, out_fd, 1);
  if (err_fd >= 0) posix_spawn_file_actions_adddup2(&actions, err_fd, 2);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t def;
  sigemptyset(&def);
  sigaddset(&def, SIGINT);
  sigaddset(&def, SIGQUIT);
  posix_spawnattr_setsigdefault(&attr, &def);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGDEF);
  struct sigaction ignore {}, old_int {}, old_quit {};
  ignore.sa_handler = SIG_IGN;
  ::sigaction(SIGINT, &ignore, &old_int);
  ::sigaction(SIGQUIT, &ignore, &old_quit);
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = 0;
  const int rc = ::posix_spawnp(&pid, args[0], &actions, &attr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  int code = 0;
  if (rc != 0) {
    err << "nbbundle: error: cannot run " << argv[0] << ": " << std::strerror(rc) << "\n";
    code = rc == ENOENT ? 127 : 126;  // as sh reports it
  } else {
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }
  ::sigaction(SIGINT, &old_int, nullptr);
  ::sigaction(SIGQUIT, &old_quit, nullptr);
  return code;
}

}  // namespace

int run_record(const RecordOptions& opt, std::ostream& out, std::ostream& err) {
  (void)out;
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
  const auto t0 = std::chrono::steady_clock::now();
  run.exit_code = spawn_and_wait(opt.argv, cap_out ? cap_out->fd() : -1, cap_err ? cap_err->fd() : -1, err);
  run.duration_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (cap_out) cap_out->commit();
  if (cap_err) cap_err->commit();

  const AppendResult r = append_command(bundle, run);
  err << "nbbundle: recorded entry " << r.number << " in " << (bundle / kCommandsName).string() << " ("
      << (r.rerun ? "rerun" : "first run") << ", exit " << run.exit_code << ", " << format_duration(run.duration_s)
      << " s)\n";
  return run.exit_code;
}

}  // namespace nbtrace::bundle
