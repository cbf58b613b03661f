#include "nbtrace/base/process.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>

#include "nbtrace/base/error.hpp"

extern char** environ;

namespace nbtrace {

namespace fs = std::filesystem;

namespace {

/// A descriptor closed when it goes out of scope (or earlier, by reset()).
class OwnedFd {
 public:
  OwnedFd() = default;
  explicit OwnedFd(int fd) : fd_(fd) {}
  ~OwnedFd() { reset(); }
  OwnedFd(OwnedFd&& o) noexcept : fd_(o.fd_) { o.fd_ = -1; }
  OwnedFd& operator=(OwnedFd&& o) noexcept {
    if (this != &o) {
      reset();
      fd_ = o.fd_;
      o.fd_ = -1;
    }
    return *this;
  }
  int get() const { return fd_; }
  void reset() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

 private:
  int fd_ = -1;
};

/// The spawn attributes and file actions of one child, destroyed on every path.
struct SpawnSetup {
  posix_spawn_file_actions_t actions;
  posix_spawnattr_t attr;
  SpawnSetup() {
    posix_spawn_file_actions_init(&actions);
    posix_spawnattr_init(&attr);
  }
  ~SpawnSetup() {
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attr);
  }
  SpawnSetup(const SpawnSetup&) = delete;
  SpawnSetup& operator=(const SpawnSetup&) = delete;
};

/// Points the child's `child_fd` at `t`. What the parent must keep open until
/// the spawn goes into `child_side`; the read end of a capture pipe is returned.
OwnedFd redirect(SpawnSetup& s, int child_fd, const StreamTarget& t, std::vector<OwnedFd>& child_side) {
  switch (t.kind) {
    case StreamTarget::Kind::inherit:
      break;
    case StreamTarget::Kind::null:
      posix_spawn_file_actions_addopen(&s.actions, child_fd, "/dev/null", O_WRONLY, 0);
      break;
    case StreamTarget::Kind::file: {
      OwnedFd f(::open(fs::absolute(t.path).c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
      if (f.get() < 0) throw OutputError(t.path.string() + ": cannot create: " + std::strerror(errno));
      posix_spawn_file_actions_adddup2(&s.actions, f.get(), child_fd);
      child_side.push_back(std::move(f));
      break;
    }
    case StreamTarget::Kind::fd:
      posix_spawn_file_actions_adddup2(&s.actions, t.fd, child_fd);
      break;
    case StreamTarget::Kind::capture: {
      int p[2];
      if (::pipe2(p, O_CLOEXEC) != 0) throw OutputError(std::string("cannot create a pipe: ") + std::strerror(errno));
      OwnedFd read_end(p[0]);
      child_side.emplace_back(p[1]);
      posix_spawn_file_actions_adddup2(&s.actions, p[1], child_fd);
      return read_end;
    }
  }
  return OwnedFd();
}

/// Reads both capture pipes until they close (poll, so that neither fills
/// up and stalls the child while the other is read).
void drain(OwnedFd& out_pipe, OwnedFd& err_pipe, ProcessResult& r) {
  struct Source {
    OwnedFd* fd;
    std::string* text;
  } sources[2] = {{&out_pipe, &r.out}, {&err_pipe, &r.err}};
  char buf[65536];
  for (;;) {
    pollfd fds[2];
    Source* owner[2];
    nfds_t n = 0;
    for (Source& s : sources) {
      if (s.fd->get() < 0) continue;
      fds[n] = {s.fd->get(), POLLIN, 0};
      owner[n++] = &s;
    }
    if (n == 0) return;
    if (::poll(fds, n, -1) < 0) {
      if (errno == EINTR) continue;
      return;
    }
    for (nfds_t i = 0; i < n; ++i) {
      if (!(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      const ssize_t got = ::read(fds[i].fd, buf, sizeof buf);
      if (got > 0) owner[i]->text->append(buf, static_cast<std::size_t>(got));
      else if (got == 0 || errno != EINTR) owner[i]->fd->reset();
    }
  }
}

/// Ignores SIGINT and SIGQUIT in this process for its lifetime.
class IgnoreInterrupts {
 public:
  explicit IgnoreInterrupts(bool active) : active_(active) {
    if (!active_) return;
    struct sigaction ignore {};
    ignore.sa_handler = SIG_IGN;
    ::sigaction(SIGINT, &ignore, &old_int_);
    ::sigaction(SIGQUIT, &ignore, &old_quit_);
  }
  ~IgnoreInterrupts() {
    if (!active_) return;
    ::sigaction(SIGINT, &old_int_, nullptr);
    ::sigaction(SIGQUIT, &old_quit_, nullptr);
  }
  IgnoreInterrupts(const IgnoreInterrupts&) = delete;
  IgnoreInterrupts& operator=(const IgnoreInterrupts&) = delete;

 private:
  bool active_;
  struct sigaction old_int_ {}, old_quit_ {};
};

int exit_status(int status) { return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status); }

}  // namespace

ProcessResult run_process(const std::vector<std::string>& argv, const ProcessOptions& options) {
  ProcessResult r;
  if (argv.empty() || argv[0].empty()) {
    r.exit_code = 127;
    r.start_error = "no program given";
    return r;
  }
  SpawnSetup setup;
  std::vector<OwnedFd> child_side;
  if (options.stdin_from_null) posix_spawn_file_actions_addopen(&setup.actions, 0, "/dev/null", O_RDONLY, 0);
  OwnedFd out_pipe = redirect(setup, 1, options.out, child_side);
  OwnedFd err_pipe = redirect(setup, 2, options.err, child_side);
  if (!options.cwd.empty()) posix_spawn_file_actions_addchdir_np(&setup.actions, options.cwd.c_str());
  if (options.pass_interrupts_to_child) {
    sigset_t defaults;
    sigemptyset(&defaults);
    sigaddset(&defaults, SIGINT);
    sigaddset(&defaults, SIGQUIT);
    posix_spawnattr_setsigdefault(&setup.attr, &defaults);
    posix_spawnattr_setflags(&setup.attr, POSIX_SPAWN_SETSIGDEF);
  }
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);

  const IgnoreInterrupts interrupts(options.pass_interrupts_to_child);
  const auto t0 = std::chrono::steady_clock::now();
  pid_t pid = 0;
  const int rc = ::posix_spawnp(&pid, args[0], &setup.actions, &setup.attr, args.data(), environ);
  child_side.clear();  // the child has its copies; a capture ends when the child's copy closes
  if (rc != 0) {
    r.exit_code = rc == ENOENT ? 127 : 126;
    r.start_error = std::strerror(rc);
    return r;
  }
  r.started = true;
  drain(out_pipe, err_pipe, r);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) {
      status = 0x7f00;  // lost track of it: report exit 127
      break;
    }
  }
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  r.exit_code = exit_status(status);
  return r;
}

RunOutcome run_program(const std::vector<std::string>& argv, const fs::path& cwd, const fs::path& out_file,
                       const fs::path& err_file) {
  ProcessOptions o;
  o.cwd = cwd;
  // stdout is both kept in memory and written to out_file, so a caller that
  // needs it never reads back the file this process wrote.
  o.out = StreamTarget::captured();
  o.err = StreamTarget::to_file(err_file);
  ProcessResult p = run_process(argv, o);
  RunOutcome r;
  std::ofstream out(out_file, std::ios::binary | std::ios::trunc);
  if (!out) throw OutputError(out_file.string() + ": cannot create");
  out << p.out;
  if (!out.flush()) throw OutputError(out_file.string() + ": write failed");
  if (!p.started) {
    r.exit_code = 127;
    std::ofstream(err_file, std::ios::app) << "cannot start " << argv[0] << ": " << p.start_error << "\n";
    return r;
  }
  r.exit_code = p.exit_code;
  r.seconds = p.seconds;
  r.stdout_text = std::move(p.out);
  return r;
}

}  // namespace nbtrace
