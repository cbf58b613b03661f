#pragma once
// Running simulator programs for parity work: each in its own folder, its
// output captured, input-file arguments made absolute, -floatfile replaced.
#include <filesystem>
#include <string>
#include <vector>

namespace nbtrace {

struct RunOutcome {
  int exit_code = -1;  ///< 127 when it could not start, 128+N when killed by signal N
  double seconds = 0;  ///< wall time
  std::string stdout_text;
};

/// Runs argv (argv[0] looked up on PATH when it has no '/') in `cwd`, stdin
/// from /dev/null, stdout and stderr to the given files.
RunOutcome run_program(const std::vector<std::string>& argv, const std::filesystem::path& cwd,
                       const std::filesystem::path& out_file, const std::filesystem::path& err_file);

/// nanoBragg arguments with the values of input-file flags (-mat, -hkl,
/// -sourcefile, -img, -mask, -stolfile, -stol) made absolute against `base`
/// (default: the current folder).
std::vector<std::string> absolutize_inputs(const std::vector<std::string>& args,
                                           const std::filesystem::path& base = {});

/// Copies the input files the arguments name (resolved against `base`, default
/// the current folder) into `work_dir` and returns the arguments naming the
/// copies by their file names, so a program run in `work_dir` prints no path
/// of this machine. Throws InputError when an input cannot be copied.
std::vector<std::string> stage_inputs(const std::vector<std::string>& args, const std::filesystem::path& work_dir,
                                      const std::filesystem::path& base = {});

/// The arguments without the caller's -floatfile, ending with our own.
std::vector<std::string> with_floatfile(const std::vector<std::string>& args, const std::filesystem::path& floatfile);

/// A fresh folder under the system temporary folder, removed with everything
/// in it when the object goes away.
class ScratchDir {
 public:
  explicit ScratchDir(const std::string& prefix = "nbparity-");
  ~ScratchDir();
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

/// The folder of the running executable (where its sibling tools are).
std::filesystem::path tool_dir();

/// `name` beside the running executable when it exists there, else `name`
/// (looked up on PATH when run).
std::string sibling_tool(const std::string& name);

/// Arguments that are absolute paths of existing files, made relative to
/// `base`: what goes into a bundle must not carry this machine's paths.
std::vector<std::string> relativize_paths(const std::vector<std::string>& argv, const std::filesystem::path& base);

/// A whole file as text; throws InputError naming it when unreadable.
std::string read_text_file(const std::filesystem::path& p);

}  // namespace nbtrace
