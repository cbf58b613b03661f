#include "nbtrace/parity/simulator_args.hpp"

#include <cstdlib>
#include <regex>

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

std::optional<std::pair<std::size_t, std::size_t>> shape_from_run(const std::string& stdout_text,
                                                                  const std::vector<std::string>& args) {
  static const std::regex kPixels(R"(\((\d+)x(\d+) pixels\))");
  std::smatch m;
  if (std::regex_search(stdout_text, m, kPixels)) {
    return std::pair<std::size_t, std::size_t>{std::stoul(m[1].str()), std::stoul(m[2].str())};
  }
  std::size_t f = 0, s = 0;
  for (std::size_t i = 0; i + 1 < args.size(); ++i) {
    const std::string& a = args[i];
    const auto val = [&] { return static_cast<std::size_t>(std::strtoul(args[i + 1].c_str(), nullptr, 10)); };
    if (a == "-detpixels") f = s = val();
    else if (a == "-detpixels_x" || a == "-detpixels_f") f = val();
    else if (a == "-detpixels_y" || a == "-detpixels_s") s = val();
  }
  if (f && s) return std::pair<std::size_t, std::size_t>{f, s};
  return std::nullopt;
}

}  // namespace nbtrace
