// What a bundle records about where it was made: the git state of the
// working folder (git_sha.txt) and the machine and build (env.json).
#include <openssl/crypto.h>
#include <sys/utsname.h>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "nbtrace/base/process.hpp"
#include "nbtrace/base/version.hpp"
#include "nbtrace/bundle/bundle.hpp"

#ifndef NB_CXX_FLAGS
#define NB_CXX_FLAGS ""
#endif
#ifndef NB_BUILD_TYPE
#define NB_BUILD_TYPE ""
#endif

namespace nbtrace::bundle {

namespace {

/// git's stdout (stderr discarded), or nullopt when it failed or is absent.
std::optional<std::string> git_output(const std::vector<std::string>& argv) {
  ProcessOptions o;
  o.out = StreamTarget::captured();
  o.err = StreamTarget::discarded();
  ProcessResult r = run_process(argv, o);
  if (r.exit_code != 0) return std::nullopt;
  return std::move(r.out);
}

}  // namespace

GitState git_state(const fs::path& cwd) {
  GitState g;
  const std::optional<std::string> head = git_output({"git", "-C", cwd.string(), "rev-parse", "HEAD"});
  std::string sha = head.value_or("");
  while (!sha.empty() && (sha.back() == '\n' || sha.back() == '\r')) sha.pop_back();
  if (head && (sha.size() == 40 || sha.size() == 64)) {
    g.sha = sha;
    const std::optional<std::string> st =
        git_output({"git", "-C", cwd.string(), "status", "--porcelain", "--untracked-files=no"});
    g.dirty = !st || !st->empty();
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

namespace {

using json = nlohmann::ordered_json;

std::string trim(std::string s) {
  const auto not_space = [](unsigned char c) { return !std::isspace(c); };
  s.erase(s.begin(), std::find_if(s.begin(), s.end(), not_space));
  s.erase(std::find_if(s.rbegin(), s.rend(), not_space).base(), s.end());
  return s;
}

/// The value after the first "key<sep>" line of a file (e.g. /proc/cpuinfo).
std::string field_of(const fs::path& file, std::string_view key, char sep) {
  std::ifstream in(file);
  for (std::string line; std::getline(in, line);) {
    if (!line.starts_with(key)) continue;
    const std::size_t at = line.find(sep, key.size());
    if (at == std::string::npos) continue;
    if (trim(line.substr(key.size(), at - key.size())).empty()) return trim(line.substr(at + 1));
  }
  return {};
}

std::string compiler() {
#if defined(__clang__)
  return std::string("clang ") + __clang_version__;
#elif defined(__GNUC__)
  return std::string("gcc ") + __VERSION__;
#else
  return "unknown";
#endif
}

}  // namespace

std::vector<GpuInfo> nvidia_gpus(const fs::path& proc_dir) {
  // "NVRM version: NVIDIA UNIX x86_64 Kernel Module  535.104.05  Sat Aug ..."
  // or "... Open Kernel Module for x86_64  550.54.14  Release Build ...":
  // the driver version is the first dotted number.
  std::string driver;
  {
    std::ifstream in(proc_dir / "version");
    std::string first;
    std::getline(in, first);
    std::istringstream words(first);
    for (std::string w; words >> w;) {
      const bool dotted = w.find('.') != std::string::npos && std::isdigit(static_cast<unsigned char>(w[0])) &&
                          w.find_first_not_of("0123456789.") == std::string::npos;
      if (dotted) {
        driver = w;
        break;
      }
    }
  }
  std::vector<GpuInfo> list;
  std::error_code ec;
  std::vector<fs::path> dirs;
  for (const auto& e : fs::directory_iterator(proc_dir / "gpus", ec)) dirs.push_back(e.path());
  std::sort(dirs.begin(), dirs.end());
  for (const fs::path& d : dirs) list.push_back({field_of(d / "information", "Model", ':'), driver});
  return list;
}

std::string environment_json(std::string_view bundle_id, const GitState& git, std::string_view tool) {
  json env;
  env["bundle_id"] = bundle_id.empty() ? json(nullptr) : json(std::string(bundle_id));
  env["sealed_utc"] = utc_now_iso();
  env["tool"] = std::string(tool);
  env["tool_version_line"] = version_line(tool);
  env["tool_version"] = std::string(version());
  env["tool_git_sha"] = std::string(build_git_sha());
  env["git_sha"] = git.sha + (git.dirty ? "-dirty" : "");
  env["git_sha_from"] = git.from_build ? "build" : "cwd";
  env["compiler"] = compiler();
  env["cxx_flags"] = trim(NB_CXX_FLAGS);
  env["build_type"] = NB_BUILD_TYPE;
  env["openssl"] = OpenSSL_version(OPENSSL_VERSION);
  utsname u{};
  ::uname(&u);
  std::string pretty = field_of("/etc/os-release", "PRETTY_NAME", '=');
  if (pretty.size() >= 2 && pretty.front() == '"') pretty = pretty.substr(1, pretty.size() - 2);
  env["os"] = {{"name", pretty.empty() ? std::string(u.sysname) : pretty},
               {"kernel", std::string(u.sysname) + " " + u.release},
               {"machine", u.machine}};
  const std::string cpu = field_of("/proc/cpuinfo", "model name", ':');
  env["cpu"] = {{"model", cpu.empty() ? json(nullptr) : json(cpu)}, {"threads", std::thread::hardware_concurrency()}};
  json g = json::array();
  for (const GpuInfo& gpu : nvidia_gpus()) {
    g.push_back({{"model", gpu.model}, {"driver", gpu.driver.empty() ? json(nullptr) : json(gpu.driver)}});
  }
  if (!g.empty()) env["gpus"] = std::move(g);
  return env.dump(2) + "\n";
}

}  // namespace nbtrace::bundle
