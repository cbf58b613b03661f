#pragma once
// Helpers shared by the test suites: paths, skipping, running tools,
// temporary folders and golden-file comparison.
#include <doctest/doctest.h>

#include <filesystem>
#include <string>
#include <vector>

namespace nbtest {

namespace fs = std::filesystem;

/// The repository (NB_TEST_SOURCE_DIR overrides the path compiled in).
fs::path source_dir();
/// The built tools (NB_TEST_BIN_DIR overrides the path compiled in).
fs::path bin_dir();
/// ../shared, or empty when it is absent.
fs::path shared_dir();

/// Counters behind the "all skipped → exit 77" rule.
int& skipped_count();
int& entered_count();

/// Call at the top of a test that needs ../shared: returns false (and
/// records a skip with a message) when it is absent.
bool require_shared(const char* what);

/// The message of the exception `f` throws as E ("" when it throws nothing).
template <typename E, typename F>
std::string message_of(F&& f) {
  try {
    f();
  } catch (const E& e) {
    return e.what();
  }
  return "";
}

/// A fresh temporary folder, removed on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const fs::path& path() const { return path_; }
  fs::path operator/(const std::string& name) const { return path_ / name; }

 private:
  fs::path path_;
};

struct ProcessResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};

/// Runs a program (argv[0] is a path) with stdout and stderr captured.
ProcessResult run_process(const std::vector<std::string>& argv, const fs::path& cwd = {});
/// Runs a tool from build/bin.
ProcessResult run_tool(const std::string& tool, const std::vector<std::string>& args, const fs::path& cwd = {});

std::string read_file(const fs::path& p);
void write_file(const fs::path& p, const std::string& content);
/// The lines of `s`, without their newlines.
std::vector<std::string> split_lines(const std::string& s);

/// Compares `actual` with the expected file; on a mismatch fails with a
/// line diff. With NB_UPDATE_GOLDEN=1 in the environment it rewrites the
/// expected file instead.
void check_golden_text(const fs::path& expected_file, const std::string& actual);

}  // namespace nbtest
