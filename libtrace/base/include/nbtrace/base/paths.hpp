#pragma once
// Paths the tools compute: where their sibling tools are, and paths made
// relative so that what goes into a bundle names no folder of this machine.
#include <filesystem>
#include <string>
#include <vector>

namespace nbtrace {

/// The folder of the running executable (where its sibling tools are).
std::filesystem::path tool_dir();

/// `name` beside the running executable when it exists there, else `name`
/// (looked up on PATH when run).
std::string sibling_tool(const std::string& name);

/// Where sh would find program `name` (no '/') on $PATH: the first
/// executable regular file of that name, absolute; empty when none. An empty
/// $PATH entry is the current folder, as in sh.
std::filesystem::path find_on_path(const std::string& name);

/// A program given as one value (an option, NB_C_BIN, a suite file) as the
/// argv to run: an existing file (blanks and all) is one word; otherwise a
/// command line split as sh splits it ("nbsim -mode spec", "python -m
/// nanobrag_torch"). Its first word is made absolute: a path must exist,
/// "nbsim" is the nbsim beside this tool, another name is looked up on
/// $PATH. `source` names the value in messages. Throws UsageError for an
/// open quote or an empty value, ProgramNotFound for a missing program.
std::vector<std::string> command_line_argv(const std::string& value, const std::string& source);

/// Arguments that are absolute paths of existing files, made relative to
/// `base`: what goes into a bundle must not carry this machine's paths.
std::vector<std::string> relativize_paths(const std::vector<std::string>& argv, const std::filesystem::path& base);

/// `path` relative to folder `base` (both made absolute first); its file
/// name when they share nothing.
std::string relative_path(const std::string& path, const std::filesystem::path& base);

}  // namespace nbtrace
