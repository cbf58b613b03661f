#pragma once
// Lattice (crystal shape) transforms: how much a crystal of Na x Nb x Nc
// cells scatters at fractional Miller index (h,k,l).
#include <cmath>
#include <type_traits>

#include "nbsim/physics/hd.hpp"
#include "nbsim/physics/vec3.hpp"

namespace nbsim {

enum class CrystalShape : int { square, round, gauss, tophat };

/// Fourier transform of an N-slit grating: sin(N x)/sin(x), N at x = 0.
template <class T>
NB_HD inline T sincg(T x, Scalar<T> n) {
  if (x == T(0)) return n;
  return std::sin(x * n) / std::sin(x);
}

/// sin(pi t) for |t| <= 0.5 (float): an odd minimax polynomial, within
/// 2e-7 relative of sin(pi t); no range reduction needed.
NB_HD inline float sinpi_reduced(float t) {
  const float t2 = t * t;
  float p = -7.0211510e-3f;  // least-squares fit of sin(pi t)/t in t^2 (relative weight)
  p = p * t2 + 8.2045808e-2f;
  p = p * t2 - 5.9925115e-1f;
  p = p * t2 + 2.5501633f;
  p = p * t2 - 5.1677127f;
  p = p * t2 + 3.1415927f;
  return t * p;
}

/// sin(pi t) for float |t| < 2^22: t = m + r with m whole (the 1.5*2^23
/// shift rounds to the nearest) and |r| <= 1/2 exact, sin(pi t) =
/// (-1)^m sin(pi r). Plain arithmetic, so a loop of it vectorizes.
NB_HD inline float sinpi(float t) {
  const float m = (t + 12582912.0f) - 12582912.0f;
  const float s = sinpi_reduced(t - m);
  return (static_cast<int>(m) & 1) ? -s : s;
}

/// sincg(pi h, n) from h = h0 + d, with h0 the nearest whole index and n
/// whole: sin(n pi h)/sin(pi h) = (-1)^((n-1) h0) sin(n pi d)/sin(pi d).
/// The arguments stay small (|d| <= 0.5), so float keeps its relative
/// precision where sin(pi h) with h ~ 50 would lose it all. Both branches
/// are computed and one selected (vectorizes).
NB_HD inline float sincg_offset(float d, int h0, float n) {
  const bool zero = d == 0.0f;
  const float num = zero ? n : sinpi(n * d);
  const float den = zero ? 1.0f : sinpi_reduced(d);
  const float r = num / den;
  return (((static_cast<int>(n) - 1) * h0) & 1) ? -r : r;
}

/// Fourier transform of a uniform sphere, 1 at x = 0.
template <class T>
NB_HD inline T sinc3(T x) {
  if (x == T(0)) return T(1);
  return T(3) * (std::sin(x) / x - std::cos(x)) / (x * x);
}

/// Ratio that gives a sphere the same integrated intensity as the cube of
/// the same cell counts (sqrt of the cube/sphere volume ratio, 3/(4 pi)).
inline constexpr double kRoundShapeScale = 0.723601254558268;
/// GAUSS and TOPHAT radii chosen to match the volume and FWHM of SQUARE spots.
inline constexpr double kGaussWidth = 0.63;
inline constexpr double kTophatRadiusSqr = 0.3969;

template <class T>
struct LatticeFactorsT {
  T a = 1, b = 1, c = 1;  ///< per-axis sincg terms (SQUARE only; 1 otherwise)
  T total = 1;
};
using LatticeFactors = LatticeFactorsT<double>;

/// One axis of the SQUARE transform: sincg(pi h, N) in double as the
/// reference computes it; in float from the offset to the nearest index
/// (whole N) for accuracy.
template <class T>
NB_HD inline T square_axis(T h, int h0, Scalar<T> N) {
  if constexpr (std::is_same_v<T, float>) {
    if (N == std::nearbyint(N)) return sincg_offset(h - static_cast<float>(h0), h0, N);
  }
  return sincg(static_cast<T>(3.14159265358979323846) * h, N);
}

/// F_latt for one sub-path. (h,k,l) fractional, (h0,k0,l0) nearest integers,
/// a*, b*, c* the reciprocal vectors (1/Angstrom) used for the reciprocal-space
/// distance of GAUSS and TOPHAT.
template <class T>
NB_HD inline LatticeFactorsT<T> lattice_factor(CrystalShape shape, T h, Scalar<T> k, Scalar<T> l, int h0, int k0,
                                               int l0, Scalar<T> Na, Scalar<T> Nb, Scalar<T> Nc, Scalar<T> fudge,
                                               Vec3T<T> a_star, Vec3T<T> b_star, Vec3T<T> c_star) {
  constexpr T pi = static_cast<T>(3.14159265358979323846);
  LatticeFactorsT<T> f;
  if (shape == CrystalShape::square) {
    if (Na > T(1)) {
      f.a = square_axis(h, h0, Na);
      f.total *= f.a;
    }
    if (Nb > T(1)) {
      f.b = square_axis(k, k0, Nb);
      f.total *= f.b;
    }
    if (Nc > T(1)) {
      f.c = square_axis(l, l0, Nc);
      f.total *= f.c;
    }
    return f;
  }
  const T dh = h - static_cast<T>(h0), dk = k - static_cast<T>(k0), dl = l - static_cast<T>(l0);
  if (shape == CrystalShape::round) {
    const T hrad_sqr = dh * dh * Na * Na + dk * dk * Nb * Nb + dl * dl * Nc * Nc;
    f.total = Na * Nb * Nc * static_cast<T>(kRoundShapeScale) * sinc3(pi * std::sqrt(hrad_sqr * fudge));
    return f;
  }
  const T dx = dh * a_star.x + dk * b_star.x + dl * c_star.x;
  const T dy = dh * a_star.y + dk * b_star.y + dl * c_star.y;
  const T dz = dh * a_star.z + dk * b_star.z + dl * c_star.z;
  const T rad_star_sqr = (dx * dx + dy * dy + dz * dz) * Na * Na * Nb * Nb * Nc * Nc;
  if (shape == CrystalShape::gauss) {
    f.total = Na * Nb * Nc * std::exp(-(rad_star_sqr / static_cast<T>(kGaussWidth) * fudge));
  } else {
    f.total = Na * Nb * Nc * (rad_star_sqr * fudge < static_cast<T>(kTophatRadiusSqr) ? T(1) : T(0));
  }
  return f;
}

}  // namespace nbsim
