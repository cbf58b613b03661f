#include "nbtrace/base/paths.hpp"

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

}  // namespace nbtrace
