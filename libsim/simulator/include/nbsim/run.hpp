#pragma once
// One nbsim run: prepare, simulate, trace, write the float image and print
// the reference's statistics lines.
#include <iosfwd>

#include "nbsim/config.hpp"

namespace nbsim {

/// What -list_devices prints: "cpu: N threads", then "cuda I: NAME" for
/// each GPU this process sees (none without CUDA, driver or GPU).
void print_devices(std::ostream& out);

/// Returns the process exit code (0). Errors are thrown (nbtrace::UsageError,
/// InputError, OutputError) before any output file is written, except an
/// output that fails while being written.
int run(const SimConfig& config, std::ostream& out, std::ostream& err, bool stderr_is_terminal);

}  // namespace nbsim
