#pragma once
// POSIX shell quoting, so recorded command lines can be pasted back into sh,
// and its inverse, so a command line given as one string becomes an argv.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace nbtrace {

/// Quotes one argument for sh (unchanged when it needs no quoting).
std::string shell_quote(std::string_view arg);
/// Quotes and joins a whole argument vector.
std::string shell_join(const std::vector<std::string>& argv);

/// Splits a command line into words as sh does, without expanding anything:
/// blanks (space, tab, newline) separate words; '…' is literal; "…" is
/// literal except \" \\ \$ \` and \newline; a backslash outside quotes
/// escapes the next character. No variables, globs, ~ or comments. The
/// inverse of shell_join. Empty optional when a quote is left open or the
/// text ends in a lone backslash (`why` then says which).
std::optional<std::vector<std::string>> shell_split(std::string_view text, std::string* why = nullptr);

}  // namespace nbtrace
