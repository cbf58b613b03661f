// Fuzz target: the SMV image reader (nbsim/smv.hpp) and the header values
// nbsim takes from an -img or -mask file. Either parses or throws
// InputError; a frame that parses holds width*height pixels.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "nbsim/config.hpp"
#include "nbsim/smv.hpp"
#include "nbtrace/base/error.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  try {
    const nbsim::SmvFrame f = nbsim::parse_smv(bytes, "fuzz.img");
    if (f.width <= 0 || f.height <= 0 ||
        f.pixels.size() != static_cast<std::size_t>(f.width) * static_cast<std::size_t>(f.height))
      __builtin_trap();
    for (const bool is_mask : {false, true}) {
      nbsim::SimConfig config;
      nbsim::apply_smv_header(config, f, is_mask);
    }
  } catch (const nbtrace::InputError&) {
  }
  return 0;
}
