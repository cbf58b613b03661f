// Fuzz target: the structure-factor readers of nbsim/hkl.hpp on the same
// bytes: the "h k l F" text reader and the Fdump.bin cache reader. Either
// parses or throws InputError; a grid that parses must hold its cells, and
// an HKL grid must survive the Fdump round trip (grids up to 2^20 cells: a
// grid near kMaxHklCells is 1 GiB, and encoding it again only costs time).
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "nbsim/hkl.hpp"
#include "nbtrace/base/error.hpp"

namespace {
void check_grid(const nbsim::HklGrid& g) {
  const auto cells = static_cast<std::size_t>(g.h_range()) * g.k_range() * g.l_range();
  if (g.values.size() != cells || cells == 0 || cells > nbsim::kMaxHklCells) __builtin_trap();
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  try {
    const nbsim::HklGrid g = nbsim::parse_hkl_text(bytes, "fuzz.hkl", 1.5);
    check_grid(g);
    if (g.values.size() <= (std::size_t{1} << 20)) {
      const nbsim::HklGrid back = nbsim::parse_fdump(nbsim::encode_fdump(g), "Fdump.bin");
      check_grid(back);
      // Bit for bit (an F may be NaN).
      if (back.values.size() != g.values.size() ||
          std::memcmp(back.values.data(), g.values.data(), g.values.size() * sizeof(double)) != 0)
        __builtin_trap();
    }
  } catch (const nbtrace::InputError&) {
  }
  try {
    check_grid(nbsim::parse_fdump(bytes, "fuzz.bin"));
  } catch (const nbtrace::InputError&) {
  }
  return 0;
}
