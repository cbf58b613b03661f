// Fuzz target: the -mat reader (src/setup/inputs.cpp) and the cell built
// from its A matrix as nbsim -mat does (src/setup/crystal.cpp, at 1 Angstrom).
// The reader throws InputError for anything but 9 numbers; build_cell
// throws UsageError for coplanar vectors.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <sstream>
#include <string>

#include "nbtrace/base/error.hpp"
#include "units.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::istringstream in(std::string(reinterpret_cast<const char*>(data), size));
  nbsim::setup::Log log;
  try {
    const nbsim::setup::AMatrix m = nbsim::setup::read_a_matrix(in, "fuzz.mat", log);
    if (log.size() != 1) __builtin_trap();
    (void)nbsim::setup::build_cell(std::nullopt, m, 1e-10, std::nullopt);
  } catch (const nbtrace::InputError&) {
  } catch (const nbtrace::UsageError&) {
  }
  return 0;
}
