#include "nbtrace/program_run.hpp"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <random>
#include <cstring>
#include <fstream>
#include <sstream>

#include "nbtrace/error.hpp"

extern char** environ;

namespace nbtrace {

namespace fs = std::filesystem;

RunOutcome run_program(const std::vector<std::string>& argv, const fs::path& cwd, const fs::path& out_file,
                       const fs::path& err_file) {
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 1, fs::absolute(out_file).c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_addopen(&fa, 2, fs::absolute(err_file).c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_addchdir_np(&fa, cwd.c_str());
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  RunOutcome r;
  pid_t pid = 0;
  const auto t0 = std::chrono::steady_clock::now();
  const int rc = posix_spawnp(&pid, argv[0].c_str(), &fa, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  if (rc != 0) {
    r.exit_code = 127;
    std::ofstream(err_file, std::ios::app) << "cannot start " << argv[0] << ": " << std::strerror(rc) << "\n";
    return r;
  }
  int status = 0;
  waitpid(pid, &status, 0);
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  std::ifstream in(out_file);
  std::ostringstream ss;
  ss << in.rdbuf();
  r.stdout_text = ss.str();
  return r;
}

/// Arguments that name input files, made absolute so each program can run
/// in its own folder (and leave the caller's folder clean).
std::vector<std::string> stage_inputs(const std::vector<std::string>& args, const fs::path& work_dir,
                                      const fs::path& base) {
  std::vector<std::string> out = absolutize_inputs(args, base);
  static const char* kFileFlags[] = {"-mat", "-hkl", "-sourcefile", "-img", "-mask", "-stolfile", "-stol"};
  for (std::size_t i = 0; i + 1 < out.size(); ++i) {
    for (const char* f : kFileFlags) {
      if (out[i] != f || out[i + 1].empty() || out[i + 1][0] != '/') continue;
      const fs::path src(out[i + 1]);
      std::error_code ec;
      fs::copy_file(src, work_dir / src.filename(), fs::copy_options::overwrite_existing, ec);
      if (ec) throw InputError(src.string() + ": cannot read input file: " + ec.message());
      out[i + 1] = src.filename().string();
    }
  }
  return out;
}

std::vector<std::string> absolutize_inputs(const std::vector<std::string>& args, const fs::path& base) {
  static const char* kFileFlags[] = {"-mat", "-hkl", "-sourcefile", "-img", "-mask", "-stolfile", "-stol"};
  std::vector<std::string> out = args;
  for (std::size_t i = 0; i + 1 < out.size(); ++i) {
    for (const char* f : kFileFlags) {
      if (out[i] == f && !out[i + 1].empty() && out[i + 1][0] != '-') {
        const fs::path p(out[i + 1]);
        out[i + 1] = p.is_absolute() ? p.string() : (base.empty() ? fs::absolute(p) : fs::absolute(base / p)).string();
      }
    }
  }
  return out;
}

/// ARGS without any -floatfile of the caller, plus our own.
std::vector<std::string> with_floatfile(const std::vector<std::string>& args, const fs::path& floatfile) {
  std::vector<std::string> out;
  for (std::size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "-floatfile" || args[i] == "-floatimage") {
      ++i;
      continue;
    }
    out.push_back(args[i]);
  }
  out.push_back("-floatfile");
  out.push_back(floatfile.is_absolute() || floatfile.has_parent_path() ? fs::absolute(floatfile).string()
                                                                       : floatfile.string());
  return out;
}

ScratchDir::ScratchDir(const std::string& prefix) {
  std::random_device rd;
  path_ = fs::temp_directory_path() / (prefix + std::to_string(rd()) + std::to_string(rd()));
  fs::create_directories(path_);
}

ScratchDir::~ScratchDir() {
  std::error_code ec;
  fs::remove_all(path_, ec);
}

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

std::string read_text_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  if (!in) throw InputError(p.string() + ": cannot read");
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace nbtrace
