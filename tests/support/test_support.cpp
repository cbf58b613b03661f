#include "test_support.hpp"

#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <random>
#include <sstream>

#include "nbtrace/base/process.hpp"

namespace nbtest {

namespace {
/// $var when it names a folder, else the path compiled in (test binaries
/// copied to another machine or checkout are pointed at their tools and
/// sources through the environment).
fs::path dir_from_env(const char* var, const char* compiled_in) {
  if (const char* env = std::getenv(var)) {
    if (*env && fs::is_directory(env)) return fs::absolute(env);
  }
  return compiled_in;
}
}  // namespace

fs::path source_dir() { return dir_from_env("NB_TEST_SOURCE_DIR", NB_SOURCE_DIR); }
fs::path bin_dir() { return dir_from_env("NB_TEST_BIN_DIR", NB_BIN_DIR); }

fs::path shared_dir() {
  if (const char* env = std::getenv("NB_SHARED_DIR")) {
    if (fs::is_directory(env)) return env;
  }
  const fs::path p = NB_SHARED_DIR;
  return fs::is_directory(p / "golden") ? fs::weakly_canonical(p) : fs::path{};
}

int& skipped_count() {
  static int n = 0;
  return n;
}
int& entered_count() {
  static int n = 0;
  return n;
}

bool require_shared(const char* what) {
  ++entered_count();
  if (!shared_dir().empty()) return true;
  ++skipped_count();
  MESSAGE("SKIPPED (" << what << "): ../shared reference data not found");
  return false;
}

TempDir::TempDir() {
  std::random_device rd;
  path_ = fs::temp_directory_path() / ("nbtest-" + std::to_string(::getpid()) + "-" + std::to_string(rd()));
  fs::create_directories(path_);
}

TempDir::~TempDir() {
  std::error_code ec;
  fs::remove_all(path_, ec);
}

ProcessResult run_process(const std::vector<std::string>& argv, const fs::path& cwd) {
  nbtrace::ProcessOptions o;
  o.cwd = cwd;
  o.out = nbtrace::StreamTarget::captured();
  o.err = nbtrace::StreamTarget::captured();
  const nbtrace::ProcessResult p = nbtrace::run_process(argv, o);
  ProcessResult r;
  r.exit_code = p.started ? p.exit_code : -1;
  r.out = p.out;
  r.err = p.started ? p.err : "spawn failed: " + argv[0] + ": " + p.start_error;
  return r;
}

ProcessResult run_tool(const std::string& tool, const std::vector<std::string>& args, const fs::path& cwd) {
  std::vector<std::string> argv{(bin_dir() / tool).string()};
  argv.insert(argv.end(), args.begin(), args.end());
  return run_process(argv, cwd);
}

std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void write_file(const fs::path& p, const std::string& content) {
  if (p.has_parent_path()) fs::create_directories(p.parent_path());
  std::ofstream out(p, std::ios::binary);
  out << content;
}

std::vector<std::string> split_lines(const std::string& s) {
  std::vector<std::string> lines;
  std::istringstream in(s);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

void check_golden_text(const fs::path& expected_file, const std::string& actual) {
  const char* update = std::getenv("NB_UPDATE_GOLDEN");
  if (update && std::string(update) == "1") {
    write_file(expected_file, actual);
    MESSAGE("updated " << expected_file.string());
    return;
  }
  if (!fs::exists(expected_file)) {
    FAIL("expected file " << expected_file.string()
                          << " is missing; run with NB_UPDATE_GOLDEN=1 to create it from this run");
    return;
  }
  const std::string expected = read_file(expected_file);
  if (expected == actual) return;
  const auto e = split_lines(expected);
  const auto a = split_lines(actual);
  std::ostringstream diff;
  diff << "golden mismatch: " << expected_file.string() << " (- expected, + actual)\n";
  const std::size_t n = std::max(e.size(), a.size());
  int shown = 0;
  for (std::size_t i = 0; i < n && shown < 40; ++i) {
    const std::string* el = i < e.size() ? &e[i] : nullptr;
    const std::string* al = i < a.size() ? &a[i] : nullptr;
    if (el && al && *el == *al) continue;
    diff << "line " << (i + 1) << ":\n";
    if (el) diff << "  - " << *el << "\n";
    if (al) diff << "  + " << *al << "\n";
    ++shown;
  }
  diff << "(set NB_UPDATE_GOLDEN=1 to accept the new output)";
  FAIL(diff.str());
}

}  // namespace nbtest
