// Fuzz target: the sha256sum manifest parser (nbtrace/bundle/bundle.hpp).
// parse_manifest never throws: every line is an entry or a malformed line.
// Each entry written back with manifest_line must parse to the same name
// and digest (what seal writes, verify reads).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "nbtrace/bundle/bundle.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const nbtrace::bundle::Manifest m = nbtrace::bundle::parse_manifest(text);
  for (const nbtrace::bundle::ManifestEntry& e : m.entries) {
    if (e.hex.size() != 64 || e.path.empty()) __builtin_trap();
    const nbtrace::bundle::Manifest back = nbtrace::bundle::parse_manifest(nbtrace::bundle::manifest_line(e.hex, e.path));
    if (back.entries.size() != 1 || !back.malformed.empty()) __builtin_trap();
    if (back.entries[0].path != e.path || back.entries[0].hex != e.hex) __builtin_trap();
    (void)nbtrace::bundle::display_name(e.path);
  }
  return 0;
}
