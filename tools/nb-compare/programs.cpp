#include "programs.hpp"

#include <cstdlib>
#include <filesystem>

#include "nbtrace/base/error.hpp"
#include "nbtrace/base/paths.hpp"
#include "nbtrace/base/process.hpp"
#include "nbtrace/base/shell.hpp"

namespace nbtrace {

namespace fs = std::filesystem;

namespace {

bool is_file(const fs::path& p) {
  std::error_code ec;
  return fs::is_regular_file(p, ec);
}

/// An environment variable, empty when unset (an empty one counts as unset).
std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

/// python, else python3, on $PATH; empty when neither is there.
fs::path python() {
  fs::path p = find_on_path("python");
  return p.empty() ? find_on_path("python3") : p;
}

}  // namespace

ResolvedProgram program_from_value(const std::string& value, const std::string& source, bool python_for_py) {
  std::vector<std::string> words = command_line_argv(value, source);
  const std::string& prog = words[0];
  if (python_for_py && fs::path(prog).extension() == ".py") {
    const fs::path py = python();
    if (py.empty()) throw ProgramNotFound(source + ": " + prog + ": no python on PATH to run it");
    words.insert(words.begin(), py.string());
  }
  return {std::move(words), source};
}

ResolvedProgram find_c_program(const std::string& flag) {
  if (!flag.empty()) return program_from_value(flag, "--c-bin", false);
  if (const std::string v = env("NB_C_BIN"); !v.empty()) return program_from_value(v, "NB_C_BIN", false);
  for (const char* p : {"./golden_suite_generator/nanoBragg", "./nanoBragg"}) {
    if (is_file(p)) return program_from_value(p, p, false);
  }
  throw UsageError(
      "no C program: give --c-bin PATH, set NB_C_BIN, or have ./nanoBragg or ./golden_suite_generator/nanoBragg");
}

ResolvedProgram find_py_program(const std::string& flag) {
  if (!flag.empty()) return program_from_value(flag, "--py-bin", true);
  if (const std::string v = env("NB_PY_BIN"); !v.empty()) return program_from_value(v, "NB_PY_BIN", true);
  if (const fs::path p = find_on_path("nanoBragg"); !p.empty()) return {{p.string()}, "nanoBragg on PATH"};
  if (const fs::path py = python(); !py.empty()) {
    // find_spec locates the package without importing it (nor torch).
    ProcessOptions quiet;
    quiet.out = StreamTarget::discarded();
    quiet.err = StreamTarget::discarded();
    const ProcessResult r = run_process(
        {py.string(), "-c", "import importlib.util, sys; sys.exit(importlib.util.find_spec('nanobrag_torch') is None)"},
        quiet);
    if (r.exit_code == 0) return {{py.string(), "-m", "nanobrag_torch"}, "python -m nanobrag_torch"};
  }
  const std::string nbsim = sibling_tool("nbsim");
  return program_from_value(nbsim, "nbsim beside nb-compare", false);
}

}  // namespace nbtrace
