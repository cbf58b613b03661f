#pragma once
// Error types shared by the libraries and tools. Each maps to one documented
// process exit code so scripts can tell a usage slip from a bad input file.
#include <stdexcept>
#include <string>
#include <string_view>

namespace nbtrace {

/// The exit codes of every nbparity tool: one table, one meaning per code
/// (README "Tools", docs/cli.md).
namespace exit_code {
inline constexpr int ok = 0;              ///< done; what was compared agrees
inline constexpr int failure = 1;         ///< usage error or a failed operation
inline constexpr int program_failed = 2;  ///< a program being compared failed or could not start
inline constexpr int divergence = 3;      ///< a comparison found a divergence (or fell below its threshold)
/// The evidence failed a check before any comparison: a bundle that does
/// not verify or audit clean, two images of different shapes.
inline constexpr int check_failed = 4;
inline constexpr int input = 5;           ///< missing, unreadable or malformed input
}  // namespace exit_code

/// A bad command line or option value (exit 1).
class UsageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// A missing, unreadable or malformed input file (exit 5). The message is
/// one line and names the file (and line, where there is one).
class InputError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// An output could not be written (exit 1).
class OutputError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// A program named on the command line (or in NB_C_BIN, NB_PY_BIN) that is
/// not there. A usage error (exit 1) unless the tool, like nb-compare after
/// nb_compare.py, calls it a program that cannot start (exit 2).
class ProgramNotFound : public UsageError {
 public:
  using UsageError::UsageError;
};

/// `text` safe to print on a terminal: control characters (below 0x20, and
/// 0x7f) become \n, \r, \t or \xNN, so input echoed in a message cannot
/// move the cursor, clear the screen or change colours. Other bytes pass.
std::string printable(std::string_view text);

}  // namespace nbtrace
