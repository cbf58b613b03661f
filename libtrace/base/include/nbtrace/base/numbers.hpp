#pragma once
// Number parsing and printing for traces and metrics. Printing is shortest
// round-trip (std::to_chars), so a value written and read back is the same
// double, and text diffs and hashes of outputs are stable.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace nbtrace {

/// Parses a whole token as a double: decimal or scientific, optional sign
/// (a leading '+' is accepted), "nan", "inf", "infinity" in any case.
/// Returns nullopt when the token is not entirely a number or overflows.
/// Values below the smallest denormal read as signed zero.
std::optional<double> parse_double(std::string_view token) noexcept;

/// Parses a whole token as a decimal integer (optional '-'); nullopt when
/// it is not entirely one or does not fit in a long long.
std::optional<long long> parse_integer(std::string_view token) noexcept;

/// Shortest decimal text that reads back as exactly `value`
/// ("nan", "inf", "-inf" for non-finite values).
std::string format_double(double value);

/// Distance in units in the last place between two doubles (0 for equal
/// values, +0 and -0 included); UINT64_MAX when either is NaN.
std::uint64_t ulp_distance(double a, double b) noexcept;

}  // namespace nbtrace
