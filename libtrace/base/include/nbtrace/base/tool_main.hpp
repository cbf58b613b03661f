#pragma once
// The one place tools turn exceptions into exit codes (see error.hpp).
#include <exception>
#include <iostream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "nbtrace/base/error.hpp"

namespace nbtrace {

/// Runs `body` (which returns an exit code) and maps exceptions:
/// UsageError → 1, InputError → 5, anything else → 1, each as one line
/// `<tool>: error: <message>` on stderr.
template <typename Body>
int guarded_main(std::string_view tool, Body&& body) {
  try {
    return body();
  } catch (const UsageError& e) {
    std::cerr << tool << ": error: " << e.what() << "\n";
    return exit_code::failure;
  } catch (const InputError& e) {
    std::cerr << tool << ": error: " << e.what() << "\n";
    return exit_code::input;
  } catch (const std::exception& e) {
    std::cerr << tool << ": error: " << e.what() << "\n";
    return exit_code::failure;
  }
}

/// argv[1..] split at the first "--": the tool's own arguments, and the
/// ones it forwards unchanged (a simulator's).
inline std::pair<std::vector<std::string>, std::vector<std::string>> split_at_double_dash(int argc, char** argv) {
  std::pair<std::vector<std::string>, std::vector<std::string>> parts;
  bool after = false;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (!after && a == "--") {
      after = true;
      continue;
    }
    (after ? parts.second : parts.first).push_back(a);
  }
  return parts;
}

}  // namespace nbtrace
