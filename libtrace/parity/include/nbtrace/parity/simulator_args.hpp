#pragma once
// nanoBragg-style argument lists as parity runs hand them to simulators:
// input-file arguments made absolute or staged as copies, -floatfile
// replaced by the run's own; and the shape of the image a run wrote.
#include <cstddef>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "nbsim/summary.hpp"
#include "nbtrace/parity/image.hpp"

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

/// The shape of the float image a run wrote, from the best evidence there
/// is: the shape given, else nbsim's run summary, else nanoBragg.c's
/// "(FxS pixels)" stdout line, else -detpixels (or -detpixels_x/_f and
/// -detpixels_y/_s) in its arguments, else a square from the file's size.
/// Throws InputError when it comes to the file and cannot read it.
image::Shape image_shape(const std::optional<image::Shape>& given, const nbsim::RunSummary* summary,
                         std::string_view stdout_text, const std::vector<std::string>& args,
                         const std::string& image_file);

}  // namespace nbtrace
