#pragma once
// The one place tools turn exceptions into exit codes (see error.hpp).
#include <exception>
#include <filesystem>
#include <new>
#include <iostream>
#include <sstream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "nbtrace/base/error.hpp"

namespace nbtrace {

/// Runs `body` (which returns an exit code) and maps exceptions to the exit
/// codes of error.hpp, each as one line `<tool>: error: <message>` on stderr
/// with control characters escaped: UsageError and OutputError → 1,
/// InputError → 5; the library's own failures get a sentence, not their raw
/// text: out of memory → 1, a file-system error → 1 naming the path.
template <typename Body>
int guarded_main(std::string_view tool, Body&& body) {
  const auto fail = [&](int code, std::string_view message) {
    std::cerr << tool << ": error: " << printable(message) << "\n";
    return code;
  };
  try {
    return body();
  } catch (const UsageError& e) {
    return fail(exit_code::failure, e.what());
  } catch (const InputError& e) {
    return fail(exit_code::input, e.what());
  } catch (const OutputError& e) {
    return fail(exit_code::failure, e.what());
  } catch (const std::bad_alloc&) {
    return fail(exit_code::failure, "out of memory (the input asks for more than this machine can give)");
  } catch (const std::filesystem::filesystem_error& e) {
    const std::string path = e.path1().empty() ? std::string() : e.path1().string() + ": ";
    return fail(exit_code::failure, path + e.code().message());
  } catch (const std::exception& e) {
    return fail(exit_code::failure, std::string("unexpected failure (please report it): ") + e.what());
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

/// A CLI11 parse error (`app.exit(e)`) as every tool reports it: --help and
/// --version on stdout, exit 0; a usage error's lines on stderr with control
/// characters escaped (CLI11 echoes the offending argument), exit 1.
/// Templated so this header needs no CLI11.
template <typename App, typename ParseError>
int cli_parse_exit(App& app, const ParseError& e) {
  std::ostringstream err;
  const int code = app.exit(e, std::cout, err);
  std::istringstream lines(err.str());
  for (std::string line; std::getline(lines, line);) std::cerr << printable(line) << "\n";
  return code == exit_code::ok ? exit_code::ok : exit_code::failure;
}

}  // namespace nbtrace
