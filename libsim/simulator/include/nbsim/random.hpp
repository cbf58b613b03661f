#pragma once
// The reference's random numbers, reproduced so that mosaic domains (and,
// later, noise) come out the same: a Park–Miller minimal-standard
// generator (multiplier 16807, modulus 2^31-1, Schrage's factorisation)
// behind a 32-entry Bays–Durham shuffle, returning floats in (0, 1).
#include <array>

#include "nbsim/physics/vec3.hpp"

namespace nbsim {

class ReferenceRandom {
 public:
  /// A seed <= 0 (nanoBragg passes -seed) (re)starts the sequence.
  explicit ReferenceRandom(long seed) : state_(seed) {}
  float uniform();
  /// Standard normal deviate (polar Box–Muller; every second call returns
  /// the spare of the previous pair).
  float gaussian();
  /// Poisson deviate of mean `mean` (photon counts): products of uniforms
  /// below 12, Lorentzian rejection up to 1e6, a Gaussian above.
  float poisson(float mean);

 private:
  long state_;
  long last_ = 0;  ///< 0: shuffle table not loaded yet
  std::array<long, 32> table_{};
  bool have_spare_ = false;
  float spare_ = 0;
};

/// ln Gamma(x) for x > 0 (Lanczos series), single precision result.
float log_gamma(float x);

/// A random rotation (row-major 3x3) by up to `spread` radians about a
/// random axis, drawn as nanoBragg's mosaic_rotation_umat does (single
/// precision where it uses it).
void random_cap_rotation(float spread, ReferenceRandom& rng, double umat[9]);

/// Rotations about x, y, z (rad, applied in that order) equivalent to the
/// rotation matrix, as nanoBragg's umat2misset derives them (rows are
/// re-normalised first).
Vec3 rotation_to_misset(const double umat[9]);

}  // namespace nbsim
