#pragma once
// POSIX shell quoting, so recorded command lines can be pasted back into sh,
// and the reverse: a command line given as one string split into words.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace nbtrace {

/// Quotes one argument for sh (unchanged when it needs no quoting).
std::string shell_quote(std::string_view arg);
/// Quotes and joins a whole argument vector.
std::string shell_join(const std::vector<std::string>& argv);
/// Splits a command line into words as sh does, without expansions: blanks
/// separate words; '...' keeps everything; "..." keeps everything but a
/// backslash before \ " $ ` or a newline; a backslash outside quotes keeps
/// the next character. nullopt when a quote is left open or the line ends
/// in a lone backslash. The inverse of shell_join.
std::optional<std::vector<std::string>> shell_split(std::string_view line);

}  // namespace nbtrace
