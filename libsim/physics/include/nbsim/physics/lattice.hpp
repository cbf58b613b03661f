#pragma once
// Lattice (crystal shape) transforms: how much a crystal of Na x Nb x Nc
// cells scatters at fractional Miller index (h,k,l).
#include <cmath>

#include "nbsim/physics/hd.hpp"
#include "nbsim/physics/vec3.hpp"

namespace nbsim {

enum class CrystalShape : int { square, round, gauss, tophat };

/// Fourier transform of an N-slit grating: sin(N x)/sin(x), N at x = 0.
NB_HD inline double sincg(double x, double n) {
  if (x == 0.0) return n;
  return std::sin(x * n) / std::sin(x);
}

/// Fourier transform of a uniform sphere, 1 at x = 0.
NB_HD inline double sinc3(double x) {
  if (x == 0.0) return 1.0;
  return 3.0 * (std::sin(x) / x - std::cos(x)) / (x * x);
}

/// Ratio that gives a sphere the same integrated intensity as the cube of
/// the same cell counts (sqrt of the cube/sphere volume ratio, 3/(4 pi)).
inline constexpr double kRoundShapeScale = 0.723601254558268;
/// GAUSS and TOPHAT radii chosen to match the volume and FWHM of SQUARE spots.
inline constexpr double kGaussWidth = 0.63;
inline constexpr double kTophatRadiusSqr = 0.3969;

struct LatticeFactors {
  double a = 1.0, b = 1.0, c = 1.0;  ///< per-axis sincg terms (SQUARE only; 1 otherwise)
  double total = 1.0;
};

/// F_latt for one sub-path. (h,k,l) fractional, (h0,k0,l0) nearest integers,
/// a*, b*, c* the reciprocal vectors (1/Angstrom) used for the reciprocal-space
/// distance of GAUSS and TOPHAT.
NB_HD inline LatticeFactors lattice_factor(CrystalShape shape, double h, double k, double l, int h0,
                                           int k0, int l0, double Na, double Nb, double Nc,
                                           double fudge, Vec3 a_star, Vec3 b_star, Vec3 c_star) {
  constexpr double pi = 3.14159265358979323846;
  LatticeFactors f;
  if (shape == CrystalShape::square) {
    if (Na > 1) {
      f.a = sincg(pi * h, Na);
      f.total *= f.a;
    }
    if (Nb > 1) {
      f.b = sincg(pi * k, Nb);
      f.total *= f.b;
    }
    if (Nc > 1) {
      f.c = sincg(pi * l, Nc);
      f.total *= f.c;
    }
    return f;
  }
  const double dh = h - h0, dk = k - k0, dl = l - l0;
  if (shape == CrystalShape::round) {
    const double hrad_sqr = dh * dh * Na * Na + dk * dk * Nb * Nb + dl * dl * Nc * Nc;
    f.total = Na * Nb * Nc * kRoundShapeScale * sinc3(pi * std::sqrt(hrad_sqr * fudge));
    return f;
  }
  const double dx = dh * a_star.x + dk * b_star.x + dl * c_star.x;
  const double dy = dh * a_star.y + dk * b_star.y + dl * c_star.y;
  const double dz = dh * a_star.z + dk * b_star.z + dl * c_star.z;
  const double rad_star_sqr = (dx * dx + dy * dy + dz * dz) * Na * Na * Nb * Nb * Nc * Nc;
  if (shape == CrystalShape::gauss) {
    f.total = Na * Nb * Nc * std::exp(-(rad_star_sqr / kGaussWidth * fudge));
  } else {
    f.total = Na * Nb * Nc * (rad_star_sqr * fudge < kTophatRadiusSqr ? 1.0 : 0.0);
  }
  return f;
}

}  // namespace nbsim
