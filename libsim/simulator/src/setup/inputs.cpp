// Every file the set-up reads or writes: -sourcefile, -mat, the HKL text or
// the Fdump.bin cache, and the cache written for the next run. The other
// units take what these return as plain data.
#include <filesystem>
#include <fstream>
#include <limits>

#include "nbtrace/base/error.hpp"
#include "nbtrace/base/files.hpp"
#include "units.hpp"

namespace nbsim::setup {

std::vector<SourceLine> read_source_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw nbtrace::InputError("cannot read source file " + path);
  std::vector<SourceLine> lines;
  int line_no = 0;
  for (std::string text; std::getline(in, text);) {
    ++line_no;
    SourceLine line;
    for (double& x : line.v) x = std::numeric_limits<double>::quiet_NaN();
    int n = 0;
    std::size_t pos = 0;
    const char* delimiters = " \t,;:!\r";
    while (n < 5) {
      pos = text.find_first_not_of(delimiters, pos);
      if (pos == std::string::npos) break;
      const std::size_t end = text.find_first_of(delimiters, pos);
      const std::string token = text.substr(pos, end == std::string::npos ? std::string::npos : end - pos);
      char* stop = nullptr;
      const double value = std::strtod(token.c_str(), &stop);
      if (stop == token.c_str())
        throw nbtrace::InputError(path + ":" + std::to_string(line_no) + ": '" + token + "' is not a number");
      line.v[n++] = value;
      if (end == std::string::npos) break;
      pos = end;
    }
    if (n > 0) lines.push_back(line);
  }
  if (lines.empty()) throw nbtrace::InputError("no sources in source file " + path);
  return lines;
}

namespace {
Vec3 read_row(std::istream& in, const std::string& file) {
  Vec3 v;
  if (!(in >> v.x >> v.y >> v.z))
    throw nbtrace::InputError("cannot read 9 numbers (a 3x3 A matrix) from " + file);
  return v;
}
}  // namespace

AMatrix read_a_matrix(const std::string& path, Log& log) {
  std::ifstream in(path);
  if (!in) throw nbtrace::InputError("cannot read A matrix file " + path);
  return read_a_matrix(in, path, log);
}

AMatrix read_a_matrix(std::istream& in, const std::string& path, Log& log) {
  // Each row holds the x (then y, then z) components of a*, b*, c*.
  const Vec3 r1 = read_row(in, path), r2 = read_row(in, path), r3 = read_row(in, path);
  log.push_back("reading " + path);
  return {{r1.x, r2.x, r3.x}, {r1.y, r2.y, r3.y}, {r1.z, r2.z, r3.z}};
}

StructureFactors find_structure_factors(const SimConfig& cfg) {
  if (!cfg.crystal.hkl_file.empty()) return StructureFactors::hkl_file;
  if (std::filesystem::exists(cfg.fdump_file)) return StructureFactors::fdump_cache;
  if (cfg.crystal.default_F == 0.0)
    throw nbtrace::UsageError("no structure factors: give -hkl FILE or -default_F F (no " + cfg.fdump_file +
                              " cache either)");
  return StructureFactors::default_F_only;
}

HklGrid read_structure_factors(StructureFactors from, const SimConfig& cfg, Log& log) {
  HklGrid grid;
  if (from == StructureFactors::hkl_file) {
    grid = load_hkl_text(cfg.crystal.hkl_file, cfg.crystal.default_F);
    for (auto& w : grid.warnings) log.push_back(w);
  } else if (from == StructureFactors::fdump_cache) {
    log.push_back("reading Fs from " + cfg.fdump_file);
    grid = read_fdump(cfg.fdump_file);
  }
  return grid;
}

void write_fdump_cache(const std::string& path, const HklGrid& grid, Log& log) {
  nbtrace::write_file_atomic(path, encode_fdump(grid));
  log.push_back("writing dump file for next time: " + path);
}

}  // namespace nbsim::setup
