#include "nbtrace/base/numbers.hpp"

#include <bit>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <limits>

#if __has_include(<fast_float/fast_float.h>)
#include <fast_float/fast_float.h>
#define NB_HAVE_FAST_FLOAT 1
#endif

namespace nbtrace {

std::optional<long long> parse_integer(std::string_view token) noexcept {
  long long value = 0;
  const char* last = token.data() + token.size();
  const auto [ptr, ec] = std::from_chars(token.data(), last, value);
  if (token.empty() || ec != std::errc() || ptr != last) return std::nullopt;
  return value;
}

std::optional<double> parse_double(std::string_view token) noexcept {
  if (token.empty()) return std::nullopt;
  if (token.front() == '+') {
    token.remove_prefix(1);
    if (token.empty() || token.front() == '-' || token.front() == '+') return std::nullopt;
  }
  double value = 0.0;
  const char* first = token.data();
  const char* last = token.data() + token.size();
#ifdef NB_HAVE_FAST_FLOAT
  // Same grammar and correctly rounded results as from_chars, about twice as
  // fast; it returns ±inf on overflow instead of an error.
  auto [ptr, ec] = fast_float::from_chars(first, last, value, fast_float::chars_format::general);
  if (ec == std::errc() && ptr == last && std::isinf(value)) {
    const char c = first[first[0] == '-' ? 1 : 0];
    if (c != 'i' && c != 'I') return std::nullopt;  // "1e999": overflow, not "inf"
  }
#else
  auto [ptr, ec] = std::from_chars(first, last, value, std::chars_format::general);
#endif
  if (ec == std::errc::result_out_of_range) {
    // from_chars refuses both overflow and underflow; underflow is a real
    // (tiny) value, overflow is an error.
    std::string copy(token);
    errno = 0;
    char* end = nullptr;
    value = std::strtod(copy.c_str(), &end);
    if (end != copy.c_str() + copy.size()) return std::nullopt;
    if (std::isinf(value)) return std::nullopt;
    return value;
  }
  if (ec != std::errc() || ptr != last) return std::nullopt;
  return value;
}

std::string format_double(double value) {
  if (std::isnan(value)) return "nan";
  if (std::isinf(value)) return value > 0 ? "inf" : "-inf";
  char buf[64];
  auto [ptr, ec] = std::to_chars(buf, buf + sizeof buf, value);
  (void)ec;  // 64 bytes always suffice for a double
  return std::string(buf, ptr);
}

std::uint64_t ulp_distance(double a, double b) noexcept {
  if (std::isnan(a) || std::isnan(b)) return std::numeric_limits<std::uint64_t>::max();
  if (a == b) return 0;
  // Map the IEEE bit patterns onto a monotonic integer line.
  auto ordered = [](double x) -> std::int64_t {
    const auto bits = std::bit_cast<std::int64_t>(x);
    return bits < 0 ? std::numeric_limits<std::int64_t>::min() - bits : bits;
  };
  const std::int64_t ia = ordered(a);
  const std::int64_t ib = ordered(b);
  // Difference computed in unsigned arithmetic to avoid signed overflow.
  return ia > ib ? static_cast<std::uint64_t>(ia) - static_cast<std::uint64_t>(ib)
                 : static_cast<std::uint64_t>(ib) - static_cast<std::uint64_t>(ia);
}

}  // namespace nbtrace
