#pragma once
// POSIX shell quoting, so recorded command lines can be pasted back into sh.
#include <string>
#include <string_view>
#include <vector>

namespace nbtrace {

/// Quotes one argument for sh (unchanged when it needs no quoting).
std::string shell_quote(std::string_view arg);
/// Quotes and joins a whole argument vector.
std::string shell_join(const std::vector<std::string>& argv);

}  // namespace nbtrace
