// The one process runner: streams, working folder, exit statuses, programs
// that cannot start.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>

#include "nbtrace/base/error.hpp"
#include "nbtrace/base/paths.hpp"
#include "nbtrace/base/process.hpp"
#include "test_support.hpp"

using namespace nbtrace;
namespace fs = std::filesystem;

namespace {

ProcessOptions capturing() {
  ProcessOptions o;
  o.out = StreamTarget::captured();
  o.err = StreamTarget::captured();
  return o;
}

}  // namespace

TEST_CASE("captures stdout and stderr apart, with the exit code and the wall time") {
  const ProcessResult r = run_process({"/bin/sh", "-c", "printf 'out\\n'; printf 'err\\n' >&2; exit 7"}, capturing());
  CHECK(r.started);
  CHECK(r.exit_code == 7);
  CHECK(r.out == "out\n");
  CHECK(r.err == "err\n");
  CHECK(r.seconds > 0);
  CHECK(r.seconds < 30);
}

TEST_CASE("large outputs on both streams do not stall the child") {
  // 1 MiB on each stream: more than a pipe holds, so both must be read at once.
  const ProcessResult r = run_process(
      {"/bin/sh", "-c", "head -c 1048576 /dev/zero; head -c 1048576 /dev/zero >&2; echo done >&2"}, capturing());
  CHECK(r.exit_code == 0);
  CHECK(r.out.size() == 1048576);
  CHECK(r.err.size() == 1048576 + 5);
}

TEST_CASE("a program is looked up on PATH, runs in the given folder, and reads /dev/null") {
  nbtest::TempDir dir;
  ProcessOptions o = capturing();
  o.cwd = dir.path();
  const ProcessResult r = run_process({"sh", "-c", "pwd; cat"}, o);
  CHECK(r.exit_code == 0);
  CHECK(std::filesystem::equivalent(r.out.substr(0, r.out.size() - 1), dir.path()));
}

TEST_CASE("killed by a signal is 128+N; not found is 127; not executable is 126") {
  CHECK(run_process({"/bin/sh", "-c", "kill -TERM $$"}, capturing()).exit_code == 128 + 15);
  const ProcessResult missing = run_process({"nbtest-no-such-program"}, capturing());
  CHECK_FALSE(missing.started);
  CHECK(missing.exit_code == 127);
  CHECK(missing.start_error.find("No such file") != std::string::npos);
  nbtest::TempDir dir;
  nbtest::write_file(dir / "plain.txt", "not a program\n");
  const ProcessResult denied = run_process({(dir / "plain.txt").string()}, capturing());
  CHECK_FALSE(denied.started);
  CHECK(denied.exit_code == 126);
  CHECK(run_process({}, capturing()).exit_code == 127);
}

TEST_CASE("streams to files and to descriptors; a file that cannot be created is an OutputError") {
  nbtest::TempDir dir;
  ProcessOptions o;
  o.out = StreamTarget::to_file(dir / "out.log");
  const int fd = ::open((dir / "err.log").c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  REQUIRE(fd >= 0);
  o.err = StreamTarget::to_fd(fd);
  CHECK(run_process({"/bin/sh", "-c", "echo to-out; echo to-err >&2"}, o).exit_code == 0);
  ::close(fd);
  CHECK(nbtest::read_file(dir / "out.log") == "to-out\n");
  CHECK(nbtest::read_file(dir / "err.log") == "to-err\n");
  o.out = StreamTarget::to_file(dir / "no/such/folder/out.log");
  CHECK_THROWS_AS(run_process({"/bin/true"}, o), OutputError);
}

TEST_CASE("run_program: files for both streams; a program that cannot start says so in the stderr file") {
  nbtest::TempDir dir;
  const RunOutcome ok = run_program({"/bin/sh", "-c", "echo hi; echo oops >&2; exit 3"}, dir.path(), dir / "o.log", dir / "e.log");
  CHECK(ok.exit_code == 3);
  CHECK(ok.stdout_text == "hi\n");
  CHECK(nbtest::read_file(dir / "e.log") == "oops\n");
  const RunOutcome bad = run_program({"nbtest-no-such-program", "-x"}, dir.path(), dir / "o2.log", dir / "e2.log");
  CHECK(bad.exit_code == 127);
  CHECK(nbtest::read_file(dir / "e2.log").find("cannot start nbtest-no-such-program: ") == 0);
}

TEST_CASE("find_on_path finds what the process runner would run, and nothing else") {
  CHECK(find_on_path("sh").is_absolute());
  CHECK(fs::equivalent(find_on_path("sh"), find_on_path("sh")));
  CHECK(find_on_path("no-such-program-nbtest").empty());
  CHECK(find_on_path("/bin/sh").empty());  // a path is not looked up
  CHECK(find_on_path("").empty());
  nbtest::TempDir dir;
  nbtest::write_file(dir / "bin/tool", "#!/bin/sh\necho found\n");
  nbtest::write_file(dir / "bin/plain", "not executable\n");
  ::chmod((dir / "bin/tool").c_str(), 0755);
  fs::create_directories(dir / "bin/folder");
  const char* old = std::getenv("PATH");
  const std::string saved = old ? old : "";
  ::setenv("PATH", (dir.path().string() + "/none:" + (dir / "bin").string()).c_str(), 1);
  const fs::path tool = find_on_path("tool");
  const fs::path plain = find_on_path("plain");
  const fs::path folder = find_on_path("folder");
  const ProcessResult r = run_process({"tool"}, capturing());
  ::setenv("PATH", saved.c_str(), 1);
  CHECK(tool == dir / "bin/tool");
  CHECK(plain.empty());
  CHECK(folder.empty());
  CHECK(r.out == "found\n");
}
