#pragma once
// Which programs nb-compare's runner mode runs. --c-bin and --py-bin follow
// nb_compare.py's search order (AT-TOOLS-001; docs/nb-compare.md, "Drop-in
// for nb_compare.py"); every value, --ref-bin and --test-bin included, is a
// program path or a command line, checked before anything runs.
#include "nbtrace/base/error.hpp"
#include <string>
#include <vector>

namespace nbtrace {

/// A program to run: its argv prefix, and what named it.
struct ResolvedProgram {
  std::vector<std::string> command;  ///< absolute program path first
  std::string source;                ///< "--c-bin", "NB_C_BIN", "./nanoBragg", "PATH", ...
};

/// One option or variable value as command_line_argv (nbtrace/base/paths.hpp)
/// reads it; a named program that is not there (ProgramNotFound) is exit 2
/// (program_failed) before anything runs, as a program that cannot start.
/// With `python_for_py` a program
/// ending in .py is run by python (python3 when no python is on $PATH), as
/// the peer runs its --py-bin. Throws UsageError for an empty value or an
/// open quote, ProgramNotFound for a program that is not there.
ResolvedProgram program_from_value(const std::string& value, const std::string& source, bool python_for_py);

/// --c-bin, else $NB_C_BIN, else ./golden_suite_generator/nanoBragg, else
/// ./nanoBragg. Throws UsageError when none is there.
ResolvedProgram find_c_program(const std::string& flag);

/// --py-bin, else $NB_PY_BIN, else nanoBragg on $PATH (the PyTorch port's
/// console script), else `python -m nanobrag_torch` when a python on $PATH
/// finds that module, else the nbsim beside nb-compare.
ResolvedProgram find_py_program(const std::string& flag);

}  // namespace nbtrace
