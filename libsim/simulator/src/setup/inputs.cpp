// Every file the set-up reads or writes: -sourcefile, -mat, the HKL text or
// the Fdump.bin cache, and the cache written for the next run. The other
// units take what these return as plain data.
#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>

#include "nbtrace/base/error.hpp"
#include "nbtrace/base/files.hpp"
#include "nbtrace/base/numbers.hpp"
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
      const std::string where = path + ":" + std::to_string(line_no) + ": ";
      if (stop == token.c_str()) throw nbtrace::InputError(where + "'" + token + "' is not a number");
      // nanoBragg.c reads nan and inf silently; a source has no meaning there.
      if (!std::isfinite(value)) throw nbtrace::InputError(where + "'" + token + "' is not a finite number");
      // Column 5, the wavelength (m), renders the source in c-parity mode.
      if (n == 4 && !(value > 0))
        throw nbtrace::InputError(where + "the wavelength (column 5) must be > 0 m, got '" + token + "'");
      line.v[n++] = value;
      if (end == std::string::npos) break;
      pos = end;
    }
    // The source's direction is its position's: the sample itself has none.
    if (n >= 3 && line.v[0] == 0 && line.v[1] == 0 && line.v[2] == 0)
      throw nbtrace::InputError(path + ":" + std::to_string(line_no) +
                                ": the source position X Y Z must not be 0 0 0 (the sample)");
    if (n > 0) lines.push_back(line);
  }
  if (lines.empty()) throw nbtrace::InputError("no sources in source file " + path);
  return lines;
}

AMatrix read_a_matrix(const std::string& path, Log& log) {
  std::ifstream in(path);
  if (!in) throw nbtrace::InputError("cannot read A matrix file " + path);
  return read_a_matrix(in, path, log);
}

AMatrix read_a_matrix(std::istream& in, const std::string& path, Log& log) {
  // The first 9 numbers, whatever the line breaks (a MOSFLM file goes on
  // with the U matrix and the cell, which are not read).
  double m[9];
  int n = 0, line_no = 0;
  for (std::string text; n < 9 && std::getline(in, text);) {
    ++line_no;
    std::istringstream tokens(text);
    for (std::string token; n < 9 && tokens >> token;) {
      const std::string where = path + ":" + std::to_string(line_no) + ": ";
      const auto v = nbtrace::parse_double(token);
      if (!v) throw nbtrace::InputError(where + "'" + token + "' is not a number (expected a 3x3 A matrix)");
      // nanoBragg.c reads nan and inf silently and renders a NaN image.
      if (!std::isfinite(*v)) throw nbtrace::InputError(where + "'" + token + "' is not a finite number");
      m[n++] = *v;
    }
  }
  if (n < 9)
    throw nbtrace::InputError(path + ": expected 9 numbers (a 3x3 A matrix), got " + std::to_string(n));
  log.push_back("reading " + path);
  // Each row holds the x (then y, then z) components of a*, b*, c*.
  return {{m[0], m[3], m[6]}, {m[1], m[4], m[7]}, {m[2], m[5], m[8]}};
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
