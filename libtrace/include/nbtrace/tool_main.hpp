#pragma once
// The one place tools turn exceptions into exit codes (see error.hpp).
#include <exception>
#include <iostream>
#include <string_view>

#include "nbtrace/error.hpp"

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

}  // namespace nbtrace
