#pragma once
// A minimal 3-vector for the per-pixel physics. Every operation spells out
// its arithmetic in the reference program's order so results agree with it
// to the last bit (no fused multiply-add: the build uses ISO C++ mode,
// which keeps -ffp-contract=off on GCC).
#include <cmath>

#include "nbsim/physics/hd.hpp"

namespace nbsim {

struct Vec3 {
  double x = 0;
  double y = 0;
  double z = 0;
};

NB_HD inline Vec3 operator+(Vec3 a, Vec3 b) { return {a.x + b.x, a.y + b.y, a.z + b.z}; }
NB_HD inline Vec3 operator-(Vec3 a, Vec3 b) { return {a.x - b.x, a.y - b.y, a.z - b.z}; }
NB_HD inline Vec3 operator-(Vec3 a) { return {-a.x, -a.y, -a.z}; }
/// s*v, multiplied component-wise as scale*v[i].
NB_HD inline Vec3 operator*(double s, Vec3 v) { return {s * v.x, s * v.y, s * v.z}; }
/// v/s component-wise (not v*(1/s): that rounds differently).
NB_HD inline Vec3 operator/(Vec3 v, double s) { return {v.x / s, v.y / s, v.z / s}; }

NB_HD inline double dot(Vec3 a, Vec3 b) { return a.x * b.x + a.y * b.y + a.z * b.z; }

NB_HD inline Vec3 cross(Vec3 a, Vec3 b) {
  return {a.y * b.z - a.z * b.y, a.z * b.x - a.x * b.z, a.x * b.y - a.y * b.x};
}

NB_HD inline double magnitude(Vec3 v) { return std::sqrt(v.x * v.x + v.y * v.y + v.z * v.z); }

/// Unit vector along v (the zero vector stays zero); returns |v|.
NB_HD inline double unitize(Vec3 v, Vec3& unit) {
  const double mag = magnitude(v);
  if (mag != 0.0) {
    unit = Vec3{v.x / mag, v.y / mag, v.z / mag};
  } else {
    unit = Vec3{0, 0, 0};
  }
  return mag;
}

NB_HD inline Vec3 unit(Vec3 v) {
  Vec3 u;
  unitize(v, u);
  return u;
}

/// v rescaled to length `length` (a zero vector is treated as length 1).
NB_HD inline Vec3 rescale(Vec3 v, double length) {
  double old = magnitude(v);
  if (old <= 0.0) old = 1.0;
  return Vec3{length / old * v.x, length / old * v.y, length / old * v.z};
}

}  // namespace nbsim
