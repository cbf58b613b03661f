#include "nbtrace/base/paths.hpp"

#include "nbtrace/base/error.hpp"
#include "nbtrace/base/shell.hpp"

#include <unistd.h>

#include <cstdlib>
#include <string_view>

namespace nbtrace {

namespace fs = std::filesystem;

fs::path tool_dir() {
  std::error_code ec;
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  return ec ? fs::path() : exe.parent_path();
}

std::string sibling_tool(const std::string& name) {
  const fs::path beside = tool_dir() / name;
  std::error_code ec;
  return fs::exists(beside, ec) ? beside.string() : name;
}

fs::path find_on_path(const std::string& name) {
  if (name.empty() || name.find('/') != std::string::npos) return {};
  const char* env = std::getenv("PATH");
  const std::string_view path = env ? env : "/usr/local/bin:/usr/bin:/bin";
  for (std::size_t start = 0; start <= path.size();) {
    std::size_t end = path.find(':', start);
    if (end == std::string_view::npos) end = path.size();
    const fs::path dir(std::string(path.substr(start, end - start)));
    const fs::path candidate = (dir.empty() ? fs::path(".") : dir) / name;
    std::error_code ec;
    if (fs::is_regular_file(candidate, ec) && ::access(candidate.c_str(), X_OK) == 0) return fs::absolute(candidate, ec);
    start = end + 1;
  }
  return {};
}

std::vector<std::string> relativize_paths(const std::vector<std::string>& argv, const fs::path& base) {
  std::vector<std::string> out;
  for (const std::string& a : argv) {
    std::error_code ec;
    if (!a.empty() && a[0] == '/' && fs::exists(a, ec)) {
      out.push_back(fs::path(a).lexically_relative(base).generic_string());
    } else {
      out.push_back(a);
    }
  }
  return out;
}

std::string relative_path(const std::string& path, const fs::path& base) {
  std::error_code ec;
  const fs::path abs_path = fs::weakly_canonical(fs::absolute(path), ec);
  const fs::path abs_base = fs::weakly_canonical(fs::absolute(base.empty() ? fs::path(".") : base), ec);
  fs::path rel = abs_path.lexically_relative(abs_base);
  return rel.empty() ? fs::path(path).filename().string() : rel.generic_string();
}

std::vector<std::string> command_line_argv(const std::string& value, const std::string& source) {
  std::error_code ec;
  std::vector<std::string> words;
  if (fs::is_regular_file(value, ec)) {
    words = {value};
  } else {
    std::string why;
    auto split = shell_split(value, &why);
    if (!split) throw UsageError(source + ": " + why + ": " + value);
    words = std::move(*split);
  }
  if (words.empty() || words[0].empty()) throw UsageError(source + ": names no program");
  std::string& program = words[0];
  if (program == "nbsim") program = sibling_tool("nbsim");
  if (program.find('/') != std::string::npos) {
    if (!fs::is_regular_file(program, ec)) throw ProgramNotFound(source + ": " + program + ": no such program");
    program = fs::absolute(program).lexically_normal().string();
  } else {
    const fs::path found = find_on_path(program);
    if (found.empty()) throw ProgramNotFound(source + ": " + program + ": not found on PATH");
    program = found.string();
  }
  return words;
}

}  // namespace nbtrace
