// Issue 16: the checked vector sine (src/backend/checked_sin.hpp) against the
// C library's sin. Where it says `certain`, its value must be sin()'s to the
// bit; it must say so for most lattice-shaped arguments (else c-parity gains
// nothing); it must never be certain outside its range. Run through
// lanes::checked_sines, the vector clone the renderer uses.
#include <doctest/doctest.h>

#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <vector>

#include "lanes.hpp"
#include "nbsim/simulator.hpp"

namespace {

struct SweepResult {
  long count = 0, certain = 0, mismatches = 0;
  double worst_ulp = 0;  ///< largest |value - sinl(x)| over certain values, in ulp of the value
};

SweepResult sweep(const std::vector<double>& x) {
  std::vector<double> y(x.size());
  std::vector<int> certain(x.size());
  nbsim::lanes::checked_sines(x.data(), y.data(), certain.data(), static_cast<int>(x.size()));
  SweepResult r;
  r.count = static_cast<long>(x.size());
  for (std::size_t i = 0; i < x.size(); ++i) {
    if (certain[i] == 0) continue;
    ++r.certain;
    if (std::bit_cast<std::uint64_t>(y[i]) != std::bit_cast<std::uint64_t>(std::sin(x[i]))) ++r.mismatches;
    // long double's sinl: 11 more bits than double, so about 1/2000 ulp.
    const long double exact = sinl(static_cast<long double>(x[i]));
    int exponent = 0;
    std::frexp(y[i], &exponent);
    const long double ulp = std::ldexp(1.0L, exponent - 53);
    r.worst_ulp = std::max(r.worst_ulp, static_cast<double>(fabsl(static_cast<long double>(y[i]) - exact) / ulp));
  }
  return r;
}

}  // namespace

TEST_CASE("checked sines: certain values are the C library's, bit for bit; 80% of lattice sines are certain") {
  std::mt19937_64 rng(20261203);
  std::uniform_real_distribution<double> h_dist(-64.0, 64.0), n_dist(1.0, 64.0), wide(-1.0e5, 1.0e5), unit(-1.0, 1.0);
  constexpr double pi = 3.14159265358979323846;
  constexpr int n = 400000;

  // The arguments nanoBragg's sincg takes: pi h and N pi h.
  std::vector<double> lattice(n);
  for (int i = 0; i < n; ++i) {
    const double x = pi * h_dist(rng);
    lattice[i] = i % 2 == 0 ? x : x * std::floor(n_dist(rng));
  }
  // Near multiples of pi/2 (sin or cos near 0, where reduction cancels),
  // wide arguments, small ones near the lower end of the range.
  std::vector<double> hard(n);
  for (int i = 0; i < n; ++i) {
    const double k = std::floor(2000.0 * unit(rng));
    switch (i % 3) {
      case 0: hard[i] = k * (pi / 2) + std::ldexp(unit(rng), -static_cast<int>(8 + i % 12)); break;
      case 1: hard[i] = wide(rng); break;
      default: hard[i] = std::ldexp(unit(rng), -static_cast<int>(1 + i % 19)); break;
    }
  }

  const SweepResult l = sweep(lattice);
  const SweepResult w = sweep(hard);
  MESSAGE("lattice-shaped: " << l.certain << " of " << l.count << " certain; worst " << l.worst_ulp << " ulp from sinl");
  MESSAGE("hard: " << w.certain << " of " << w.count << " certain; worst " << w.worst_ulp << " ulp from sinl");
  CHECK(l.mismatches == 0);
  CHECK(w.mismatches == 0);
  // certain means within 0.4 ulp of the true sine (plus the routine's 0.0125
  // and sinl's own error).
  CHECK(l.worst_ulp < 0.415);
  CHECK(w.worst_ulp < 0.415);
  const double share = static_cast<double>(l.certain) / static_cast<double>(l.count);
  CHECK(share > 0.78);
  CHECK(share < 0.82);
  CHECK(w.certain > w.count / 2);
}

TEST_CASE("checked sines are never certain outside [2^-20, 2^20], nor for NaN or infinities") {
  const double inf = std::numeric_limits<double>::infinity();
  const std::vector<double> outside{0.0,  -0.0, 0x1p-21, -0x1p-21, 1e-300, 0x1.0000000000001p20, -3e6,
                                    1e17, inf,  -inf,    std::numeric_limits<double>::quiet_NaN()};
  std::vector<double> y(outside.size());
  std::vector<int> certain(outside.size(), 1);
  nbsim::lanes::checked_sines(outside.data(), y.data(), certain.data(), static_cast<int>(outside.size()));
  for (std::size_t i = 0; i < outside.size(); ++i) {
    CAPTURE(outside[i]);
    CHECK(certain[i] == 0);
  }
}

TEST_CASE("this machine's CPU and C library pass the checked sines' self-check") {
  __builtin_cpu_init();
  if (!__builtin_cpu_supports("fma")) {
    MESSAGE("skipped: this CPU has no FMA, so float64 runs take scalar sin for every sine");
    return;
  }
  CHECK(nbsim::checked_sines_available());
}
