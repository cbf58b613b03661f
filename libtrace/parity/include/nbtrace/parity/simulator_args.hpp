#pragma once
// nanoBragg-style argument lists as parity runs hand them to simulators:
// input-file arguments made absolute or staged as copies, -floatfile
// replaced by the run's own.
#include <cstddef>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace nbtrace {

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

/// Image shape from a nanoBragg-style stdout ("(512x512 pixels)"), then from
/// -detpixels* arguments; nullopt when neither says.
std::optional<std::pair<std::size_t, std::size_t>> shape_from_run(const std::string& stdout_text,
                                                                  const std::vector<std::string>& args);

}  // namespace nbtrace
