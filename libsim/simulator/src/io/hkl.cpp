#include "nbsim/hkl.hpp"

#include <cmath>
#include <cstring>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

#include "nbtrace/base/error.hpp"
#include "nbtrace/base/numbers.hpp"
#include "nbsim/validate.hpp"

namespace nbsim {

namespace {

std::string slurp(const std::filesystem::path& path, const char* what) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw nbtrace::InputError("cannot read " + std::string(what) + " " + path.string());
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) throw nbtrace::InputError("cannot read " + std::string(what) + " " + path.string());
  return ss.str();
}

}  // namespace

HklView HklGrid::view(double default_F) const {
  HklView v;
  v.values = values.data();
  v.h_min = h_min;
  v.h_max = h_max;
  v.k_min = k_min;
  v.k_max = k_max;
  v.l_min = l_min;
  v.l_max = l_max;
  v.loaded = reflections > 0;
  v.default_F = default_F;
  return v;
}

namespace {

/// Largest |index| an HKL or Fdump file may hold (2^30): bounds are ints and
/// their ranges (max - min + 1) must not overflow.
constexpr double kMaxHklIndex = 1073741824.0;

/// Cells of a grid with these inclusive bounds, or 0 when it has more than
/// kMaxHklCells (or an empty range). 64-bit: each range fits an int64.
std::size_t grid_cells(long long h_min, long long h_max, long long k_min, long long k_max, long long l_min,
                       long long l_max) {
  const long long hr = h_max - h_min + 1, kr = k_max - k_min + 1, lr = l_max - l_min + 1;
  if (hr <= 0 || kr <= 0 || lr <= 0) return 0;
  const auto cap = static_cast<long long>(kMaxHklCells);
  if (hr > cap || kr > cap || lr > cap || hr * kr > cap || hr * kr * lr > cap) return 0;
  return static_cast<std::size_t>(hr * kr * lr);
}

std::string too_large(const std::string& name, long long h_min, long long h_max, long long k_min, long long k_max,
                      long long l_min, long long l_max) {
  return fmt::format("{}: index bounds h {}..{}, k {}..{}, l {}..{} need more than {} grid cells (1 GiB)", name,
                     h_min, h_max, k_min, k_max, l_min, l_max, kMaxHklCells);
}

}  // namespace

HklGrid load_hkl_text(const std::filesystem::path& path, double default_F) {
  return parse_hkl_text(slurp(path, "HKL file"), path.string(), default_F);
}

HklGrid parse_hkl_text(std::string_view text, const std::string& name, double default_F) {
  struct Entry {
    double h, k, l, F;
  };
  std::vector<Entry> entries;
  HklGrid grid;
  std::istringstream lines{std::string(text)};
  std::string line;
  int line_no = 0;
  while (std::getline(lines, line)) {
    ++line_no;
    std::istringstream tokens(line);
    std::string tok;
    double v[4];
    int n = 0;
    std::string bad;  // the first token of h k l F that is not a number
    while (n < 4 && tokens >> tok) {
      auto d = nbtrace::parse_double(tok);
      if (!d) {
        bad = tok;
        break;
      }
      v[n++] = *d;
    }
    if (n == 0 && line.find_first_not_of(" \t\r\f\v") == std::string::npos) continue;  // blank
    if (!bad.empty())
      throw nbtrace::InputError(name + ":" + std::to_string(line_no) + ": '" + bad +
                                "' is not a number (expected 'h k l F')");
    if (n < 4)
      throw nbtrace::InputError(name + ":" + std::to_string(line_no) +
                                ": expected 'h k l F' (four numbers), got " + std::to_string(n));
    // Bounds are ints: a non-finite or huge index has no cell.
    for (int i = 0; i < 3; ++i) {
      if (!(std::fabs(v[i]) < kMaxHklIndex))
        throw nbtrace::InputError(fmt::format("{}:{}: index {}={:g} is out of range (|index| must be below 2^30)",
                                              name, line_no, "hkl"[i], v[i]));
    }
    const char* axis[3] = {"h", "k", "l"};
    // A NaN structure factor renders NaN pixels wherever the reflection is
    // used (nanoBragg.c reads it silently).
    if (!std::isfinite(v[3]))
      throw nbtrace::InputError(name + ":" + std::to_string(line_no) +
                                ": the structure factor F must be a finite number, got '" +
                                nbtrace::format_double(v[3]) + "'");
    // Index i of the reference's warning counts entries read so far.
    for (int i = 0; i < 3; ++i) {
      if (v[i] != std::ceil(v[i] - 0.4))
        grid.warnings.push_back(fmt::format("WARNING: non-integer value for {} ({:g}) at line {}", axis[i], v[i],
                                            entries.size()));
    }
    entries.push_back({v[0], v[1], v[2], v[3]});
  }
  if (entries.empty()) throw nbtrace::InputError("no reflections in HKL file " + name);

  double hmin = 1e9, kmin = 1e9, lmin = 1e9, hmax = -1e9, kmax = -1e9, lmax = -1e9;
  for (const Entry& e : entries) {
    hmin = std::min(hmin, e.h);
    kmin = std::min(kmin, e.k);
    lmin = std::min(lmin, e.l);
    hmax = std::max(hmax, e.h);
    kmax = std::max(kmax, e.k);
    lmax = std::max(lmax, e.l);
  }
  // Bounds are stored as int (truncation, as the reference's int variables do).
  grid.h_min = static_cast<int>(hmin);
  grid.h_max = static_cast<int>(hmax);
  grid.k_min = static_cast<int>(kmin);
  grid.k_max = static_cast<int>(kmax);
  grid.l_min = static_cast<int>(lmin);
  grid.l_max = static_cast<int>(lmax);
  // The dense grid's size is checked before it is allocated (a few far
  // indices can ask for terabytes): against the machine first, then against
  // the reader's cap (64-bit counting, so the product cannot wrap).
  const double cells_needed = static_cast<double>(grid.h_range()) * grid.k_range() * grid.l_range();
  require_memory(fmt::format("{}: the grid of h {}..{}, k {}..{}, l {}..{}", name, grid.h_min, grid.h_max,
                             grid.k_min, grid.k_max, grid.l_min, grid.l_max),
                 cells_needed * sizeof(double));
  const std::size_t cells = grid_cells(grid.h_min, grid.h_max, grid.k_min, grid.k_max, grid.l_min, grid.l_max);
  if (cells == 0)
    throw nbtrace::InputError(too_large(name, grid.h_min, grid.h_max, grid.k_min, grid.k_max, grid.l_min, grid.l_max));
  grid.values.assign(cells, default_F);
  for (const Entry& e : entries) {
    // Integer parsing of the second pass truncates toward zero.
    const int h = static_cast<int>(std::trunc(e.h));
    const int k = static_cast<int>(std::trunc(e.k));
    const int l = static_cast<int>(std::trunc(e.l));
    const std::size_t idx =
        (static_cast<std::size_t>(h - grid.h_min) * grid.k_range() + (k - grid.k_min)) * grid.l_range() +
        (l - grid.l_min);
    grid.values[idx] = e.F;
  }
  grid.reflections = static_cast<long>(entries.size());
  return grid;
}

std::string encode_fdump(const HklGrid& g) {
  std::string out = fmt::format("{} {} {} {} {} {}\n\f", g.h_min, g.h_max, g.k_min, g.k_max, g.l_min, g.l_max);
  const int hr = g.h_range(), kr = g.k_range(), lr = g.l_range();
  std::vector<double> row(static_cast<std::size_t>(lr) + 1);
  for (int h = 0; h <= hr; ++h) {
    for (int k = 0; k <= kr; ++k) {
      for (int l = 0; l <= lr; ++l) {
        row[l] = (h < hr && k < kr && l < lr)
                     ? g.values[(static_cast<std::size_t>(h) * kr + k) * lr + l]
                     : 0.0;
      }
      out.append(reinterpret_cast<const char*>(row.data()), row.size() * sizeof(double));
    }
  }
  return out;
}

HklGrid read_fdump(const std::filesystem::path& path) {
  return parse_fdump(slurp(path, "structure-factor cache"), path.string());
}

HklGrid parse_fdump(std::string_view data, const std::string& name) {
  HklGrid g;
  const auto ff = data.find('\f');
  if (ff == std::string_view::npos) throw nbtrace::InputError(name + ": not an Fdump file (no header)");
  std::istringstream header{std::string(data.substr(0, ff))};
  if (!(header >> g.h_min >> g.h_max >> g.k_min >> g.k_max >> g.l_min >> g.l_max))
    throw nbtrace::InputError(name + ": malformed Fdump header");
  for (const int b : {g.h_min, g.h_max, g.k_min, g.k_max, g.l_min, g.l_max}) {
    if (!(std::fabs(static_cast<double>(b)) < kMaxHklIndex))
      throw nbtrace::InputError(fmt::format("{}: Fdump index bound {} is out of range (|index| must be below 2^30)",
                                            name, b));
  }
  if (g.h_max < g.h_min || g.k_max < g.k_min || g.l_max < g.l_min)
    throw nbtrace::InputError(name + ": empty index range in Fdump header");
  if (grid_cells(g.h_min, g.h_max, g.k_min, g.k_max, g.l_min, g.l_max) == 0)
    throw nbtrace::InputError(too_large(name, g.h_min, g.h_max, g.k_min, g.k_max, g.l_min, g.l_max));
  const int hr = g.h_range(), kr = g.k_range(), lr = g.l_range();
  const std::size_t need = static_cast<std::size_t>(hr + 1) * (kr + 1) * (lr + 1) * sizeof(double);
  if (data.size() - (ff + 1) < need) throw nbtrace::InputError(name + ": truncated Fdump data");
  const char* p = data.data() + ff + 1;
  g.values.resize(static_cast<std::size_t>(hr) * kr * lr);
  for (int h = 0; h <= hr; ++h) {
    for (int k = 0; k <= kr; ++k) {
      for (int l = 0; l <= lr; ++l, p += sizeof(double)) {
        if (h < hr && k < kr && l < lr) {
          double v;
          std::memcpy(&v, p, sizeof v);
          g.values[(static_cast<std::size_t>(h) * kr + k) * lr + l] = v;
        }
      }
    }
  }
  g.reflections = static_cast<long>(hr) * kr * lr;
  return g;
}

}  // namespace nbsim
