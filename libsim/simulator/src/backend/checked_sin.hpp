#pragma once
// A sine that knows when its answer is the C library's answer.
//
// c-parity must reproduce nanoBragg.c bit for bit, and nanoBragg.c takes its
// lattice sines from the C library's scalar sin(). That routine is close to
// correctly rounded (glibc documents about 0.55 ulp, and we measured at most
// 0.515 ulp over 8e5 arguments in nbsim's range), but it is not correctly
// rounded, and no vector routine copies its bits. What can be copied is the
// correctly rounded value where the true sine lies well inside its rounding
// interval:
//
//   If the true value t lies within 0.4 ulp of the double d, then any sin()
//   whose error is below 0.58 ulp returns d: its other candidates are at
//   least 1 - 0.4 - 0.02 ulp away from t.
//
// checked_sin() computes sin(x) as a double-double hi + lo accurate to
// 0.0125 ulp (measured against libquadmath's sinq: 0.0124 at worst), and
// says the result is `certain` when |lo| < 0.4 ulp(hi). That holds for 80% of
// arguments; the caller takes the rest from sin() itself. Every step is
// IEEE + - * / and fma, with no branch, so `#pragma omp simd` turns it into
// vector code, and each lane's result is the same in every vector width.
//
// Needs round-to-nearest and no floating-point contraction or
// reassociation (-ffp-contract=off, no -ffast-math): the error-free
// transformations below (two_sum, the fma residuals) rely on exact IEEE
// rounding of each operation.
#include <bit>
#include <cmath>
#include <cstdint>

#if defined(__FAST_MATH__)
#error "checked_sin.hpp needs exact IEEE arithmetic; do not build it with -ffast-math"
#endif

namespace nbsim::lanes {

namespace checked_sin_detail {

/// `take_a` ? a : b, as bit operations (a select the vectorizer keeps
/// branch-free on every ISA; `take_a` is all ones or all zeros).
[[gnu::always_inline]] inline double select_bits(std::uint64_t take_a, double a, double b) {
  return std::bit_cast<double>((std::bit_cast<std::uint64_t>(a) & take_a) | (std::bit_cast<std::uint64_t>(b) & ~take_a));
}

/// a + b = s + e exactly (Knuth).
[[gnu::always_inline]] inline void two_sum(double a, double b, double& s, double& e) {
  s = a + b;
  const double b_part = s - a;
  e = (a - (s - b_part)) + (b - b_part);
}

/// a + b = s + e exactly, for |a| >= |b| (Dekker).
[[gnu::always_inline]] inline void fast_two_sum(double a, double b, double& s, double& e) {
  s = a + b;
  e = b - (s - a);
}

}  // namespace checked_sin_detail

/// Writes sin(x) rounded to nearest to `value` and returns whether it is
/// certainly what every sin() with an error below 0.58 ulp returns (see the
/// top of this file). Never certain (value meaningless) for |x| outside
/// [2^-20, 2^20], NaN and infinities. (An out-parameter, not a struct: GCC
/// keeps a returned struct in memory and then will not vectorize the loop.)
[[gnu::always_inline]] inline bool checked_sin(double x, double& value) {
  using checked_sin_detail::fast_two_sum;
  using checked_sin_detail::select_bits;
  using checked_sin_detail::two_sum;
  // pi/2 as three doubles (their sum is pi/2 to about 2^-160), and 2/pi.
  constexpr double half_pi_1 = 0x1.921fb54442d18p+0;
  constexpr double half_pi_2 = 0x1.1a62633145c07p-54;
  constexpr double half_pi_3 = -0x1p-109;
  constexpr double two_over_pi = 0x1.45f306dc9c883p-1;
  // Adding 1.5 * 2^52 rounds a double of magnitude below 2^51 to an integer
  // and leaves that integer in the low bits of the sum.
  constexpr double round_shift = 0x1.8p52;

  const double magnitude = std::fabs(x);
  const bool in_range = (magnitude >= 0x1p-20) & (magnitude <= 0x1p20);  // false for NaN
  const double arg = select_bits(0 - static_cast<std::uint64_t>(in_range), x, 1.0);

  // Quadrant k = nearest integer to x / (pi/2); r = x - k pi/2 as rh + rl.
  const double shifted = arg * two_over_pi + round_shift;
  const double k = shifted - round_shift;
  const std::uint64_t quadrant = std::bit_cast<std::uint64_t>(shifted) & 3u;
  // Exact: |x - k*half_pi_1| < 1 and both terms are multiples of 2^-53.
  const double d = std::fma(-k, half_pi_1, arg);
  const double p = k * half_pi_2;
  const double p_err = std::fma(k, half_pi_2, -p);  // k*half_pi_2 = p + p_err exactly
  double rh, rl;
  two_sum(d, -p, rh, rl);
  rl = rl - p_err - k * half_pi_3;
  fast_two_sum(rh, rl, rh, rl);

  const double z = rh * rh;
  const double z_err = std::fma(rh, rh, -z);  // rh^2 = z + z_err exactly

  // sin(rh + rl) = rh - rh^3/6 + rh^5 P(rh^2) + rl cos(rh); the first two
  // terms carried as double-doubles, the rest (below 0.0033 of the result)
  // in double. Taylor coefficients 1/n!, truncated after rh^19 (< 2^-63).
  double sin_hi, sin_lo;
  {
    const double r3 = rh * z;
    const double r3_err = std::fma(rh, z, -r3) + rh * z_err;
    constexpr double c3 = -0x1.5555555555555p-3, c3_lo = -0x1.5555555555555p-57;  // -1/6
    const double t = r3 * c3;
    const double t_err = std::fma(r3, c3, -t) + r3 * c3_lo + r3_err * c3;
    const double poly =
        0x1.1111111111111p-7 +
        z * (-0x1.a01a01a01a01ap-13 +
             z * (0x1.71de3a556c734p-19 +
                  z * (-0x1.ae64567f544e4p-26 +
                       z * (0x1.6124613a86d09p-33 +
                            z * (-0x1.ae7f3e733b81fp-41 + z * (0x1.952c77030ad4ap-49 + z * -0x1.2f49b46814157p-57))))));
    const double tail = r3 * z * poly;
    double s, s_err;
    two_sum(rh, t, s, s_err);
    const double lo = s_err + t_err + (tail + rl * (1.0 - 0.5 * z + z * z * 0x1.5555555555555p-5));
    fast_two_sum(s, lo, sin_hi, sin_lo);
  }
  // cos(rh + rl) = 1 - rh^2/2 + rh^4/24 - rh^6 Q(rh^2) - rl sin(rh); the
  // first three terms as double-doubles, truncated after rh^20.
  double cos_hi, cos_lo;
  {
    const double w = z * z;
    const double w_err = std::fma(z, z, -w) + 2.0 * z * z_err;
    constexpr double c4 = 0x1.5555555555555p-5, c4_lo = 0x1.5555555555555p-59;  // 1/24
    const double t4 = w * c4;
    const double t4_err = std::fma(w, c4, -t4) + w * c4_lo + w_err * c4;
    const double poly =
        0x1.6c16c16c16c17p-10 +
        z * (-0x1.a01a01a01a01ap-16 +
             z * (0x1.27e4fb7789f5cp-22 +
                  z * (-0x1.1eed8eff8d898p-29 +
                       z * (0x1.93974a8c07c9dp-37 +
                            z * (-0x1.ae7f3e733b81fp-45 + z * (0x1.6827863b97d97p-53 + z * -0x1.e542ba4020225p-62))))));
    const double tail = z * w * poly;
    double s1, e1, s2, e2;
    two_sum(1.0, -0.5 * z, s1, e1);
    two_sum(s1, t4, s2, e2);
    const double lo = (e1 + e2) + (-0.5 * z_err + t4_err) - (tail + rl * rh * (1.0 - z * 0x1.5555555555555p-3));
    fast_two_sum(s2, lo, cos_hi, cos_lo);
  }

  // Quadrants 0..3: sin, cos, -sin, -cos (negation flips the sign bit).
  const std::uint64_t use_cos = 0 - (quadrant & 1u);
  const std::uint64_t sign = (quadrant & 2u) << 62;
  const double hi = std::bit_cast<double>(std::bit_cast<std::uint64_t>(select_bits(use_cos, cos_hi, sin_hi)) ^ sign);
  const double lo = std::bit_cast<double>(std::bit_cast<std::uint64_t>(select_bits(use_cos, cos_lo, sin_lo)) ^ sign);
  // |lo| < 0.4 ulp(hi), tested by rounding: hi + 1.25 lo rounds back to hi
  // exactly when 1.25 |lo| is below half an ulp. Below a power of two the
  // finer spacing applies, as it should.
  const bool near_hi = hi + 1.25 * lo == hi;
  value = hi;
  return static_cast<bool>(in_range & near_hi);
}

}  // namespace nbsim::lanes
