#pragma once
// Structure factors: the text HKL loader, the Fdump.bin cache and the
// dense grid the kernel reads.
#include <cstddef>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "nbsim/physics/kernel.hpp"

namespace nbsim {

struct HklGrid {
  int h_min = 0, h_max = -1, k_min = 0, k_max = -1, l_min = 0, l_max = -1;
  std::vector<double> values;  ///< l fastest, then k, then h
  long reflections = 0;        ///< entries read (0: no grid, every lookup is default_F)
  std::vector<std::string> warnings;

  int h_range() const { return h_max - h_min + 1; }
  int k_range() const { return k_max - k_min + 1; }
  int l_range() const { return l_max - l_min + 1; }
  HklView view(double default_F) const;
};

/// Largest grid an HKL or Fdump file may describe: 2^27 cells (1 GiB of
/// doubles, e.g. 512 indices on each axis). A file whose index bounds need
/// more is refused (InputError) instead of exhausting memory.
inline constexpr std::size_t kMaxHklCells = std::size_t{1} << 27;

/// Reads "h k l F" lines (extra columns ignored). Two passes as the
/// reference does: bounds first (warning on non-integer indices), then a
/// grid prefilled with default_F when it is non-zero. Throws InputError for
/// an unreadable file, a malformed line, a non-finite F, a non-finite index
/// or one of 2^30 or more, bounds of more than kMaxHklCells cells or a file
/// with no reflections, naming file:line; UsageError when the grid would not
/// fit the machine's memory (nbsim/validate.hpp).
HklGrid load_hkl_text(const std::filesystem::path& path, double default_F);
/// load_hkl_text on text already in memory; `name` names it in messages.
HklGrid parse_hkl_text(std::string_view text, const std::string& name, double default_F);

/// Fdump.bin: header "h_min h_max k_min k_max l_min l_max\n\f" then, for
/// each h in 0..h_range and k in 0..k_range, l_range+1 native doubles (one
/// padding entry per axis, zero).
std::string encode_fdump(const HklGrid& grid);
/// Throws InputError when unreadable, malformed, truncated or larger than
/// kMaxHklCells.
HklGrid read_fdump(const std::filesystem::path& path);
/// read_fdump on bytes already in memory; `name` names them in messages.
HklGrid parse_fdump(std::string_view data, const std::string& name);

}  // namespace nbsim
