#pragma once
// nanoBragg-compatible command line: single-dash long flags, multi-value
// flags, nanoBragg's synonyms, applied in command-line order (later flags
// win, as in nanoBragg: e.g. -twotheta after -distance pivots on the sample).
#include <string>
#include <vector>

#include "nbsim/config.hpp"

namespace nbsim_cli {

struct ParsedCommandLine {
  nbsim::SimConfig config;
  bool help = false;
  bool version = false;
  bool list_devices = false;  ///< -list_devices: print the usable devices and exit
  std::vector<std::string> notes;  ///< accepted-but-ignored flags, for stderr
};

/// Throws nbtrace::UsageError with a one-line message on unknown flags,
/// missing or malformed values.
ParsedCommandLine parse_command_line(const std::vector<std::string>& args);

std::string usage_text();

}  // namespace nbsim_cli
