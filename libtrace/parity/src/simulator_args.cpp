#include "nbtrace/parity/simulator_args.hpp"
#include "nbtrace/base/numbers.hpp"

#include <cmath>
#include <cstdlib>

#include "nbtrace/base/error.hpp"

namespace nbtrace {

namespace fs = std::filesystem;

namespace {
/// The flags whose value names an input file.
constexpr const char* kFileFlags[] = {"-mat", "-hkl", "-sourcefile", "-img", "-mask", "-stolfile", "-stol"};
}  // namespace

std::vector<std::string> stage_inputs(const std::vector<std::string>& args, const fs::path& work_dir,
                                      const fs::path& base) {
  std::vector<std::string> out = absolutize_inputs(args, base);
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

namespace {

/// nanoBragg.c's "detector ... (FxS pixels)" line, when the text has one.
std::optional<image::Shape> printed_shape(std::string_view text) {
  for (std::size_t at = text.find(" pixels)"); at != std::string_view::npos; at = text.find(" pixels)", at + 1)) {
    const std::size_t open = text.rfind('(', at);
    if (open == std::string_view::npos) continue;
    const std::string_view inner = text.substr(open + 1, at - open - 1);
    const std::size_t x = inner.find('x');
    if (x == std::string_view::npos || x == 0 || x + 1 == inner.size()) continue;
    const std::string_view f = inner.substr(0, x), s = inner.substr(x + 1);
    const auto fast = parse_integer(f), slow = parse_integer(s);
    if (!fast || !slow || *fast <= 0 || *slow <= 0) continue;
    return image::Shape{static_cast<std::size_t>(*fast), static_cast<std::size_t>(*slow)};
  }
  return std::nullopt;
}

/// -detpixels N, -detpixels_x/_f N, -detpixels_y/_s N (the last one given wins).
std::optional<image::Shape> argument_shape(const std::vector<std::string>& args) {
  std::size_t f = 0, s = 0;
  for (std::size_t i = 0; i + 1 < args.size(); ++i) {
    const std::string& a = args[i];
    const auto value = [&] { return static_cast<std::size_t>(std::strtoul(args[i + 1].c_str(), nullptr, 10)); };
    if (a == "-detpixels") f = s = value();
    else if (a == "-detpixels_x" || a == "-detpixels_f") f = value();
    else if (a == "-detpixels_y" || a == "-detpixels_s") s = value();
  }
  if (f && s) return image::Shape{f, s};
  return std::nullopt;
}

}  // namespace

image::Shape image_shape(const std::optional<image::Shape>& given, const nbsim::RunSummary* summary,
                         std::string_view stdout_text, const std::vector<std::string>& args,
                         const std::string& image_file) {
  if (given) return *given;
  if (summary && summary->fpixels > 0 && summary->spixels > 0)
    return {static_cast<std::size_t>(summary->fpixels), static_cast<std::size_t>(summary->spixels)};
  if (const auto printed = printed_shape(stdout_text)) return *printed;
  if (const auto from_args = argument_shape(args)) return *from_args;
  return image::square_shape(image_file);
}

}  // namespace nbtrace
