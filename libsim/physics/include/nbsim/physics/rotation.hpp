#pragma once
// Rotations used by the detector set-up, the misset and the phi sweep.
// Angles in radians.
#include <cmath>

#include "nbsim/physics/hd.hpp"
#include "nbsim/physics/vec3.hpp"

namespace nbsim {

/// Rotation about x, then y, then z (each skipped when its angle is
/// exactly zero, so a zero angle leaves the vector bit-for-bit unchanged).
NB_HD inline Vec3 rotate_xyz(Vec3 v, double rotx, double roty, double rotz) {
  double x = v.x, y = v.y, z = v.z;
  if (rotx != 0) {
    const double c = std::cos(rotx), s = std::sin(rotx);
    const double ny = y * c + z * -s;
    const double nz = y * s + z * c;
    y = ny;
    z = nz;
  }
  if (roty != 0) {
    const double c = std::cos(roty), s = std::sin(roty);
    const double nx = x * c + y * 0 + z * s;
    const double nz = x * -s + y * 0 + z * c;
    x = nx;
    z = nz;
  }
  if (rotz != 0) {
    const double c = std::cos(rotz), s = std::sin(rotz);
    const double nx = x * c + y * -s;
    const double ny = x * s + y * c;
    x = nx;
    y = ny;
  }
  return Vec3{x, y, z};
}

/// Right-handed rotation of v by `angle` about the unit vector `axis`
/// (Rodrigues' formula).
NB_HD inline Vec3 rotate_about_axis(Vec3 v, Vec3 axis, double angle) {
  const double s = std::sin(angle);
  const double c = std::cos(angle);
  const double along = (axis.x * v.x + axis.y * v.y + axis.z * v.z) * (1.0 - c);
  return Vec3{axis.x * along + v.x * c + (-axis.z * v.y + axis.y * v.z) * s,
              axis.y * along + v.y * c + (+axis.z * v.x - axis.x * v.z) * s,
              axis.z * along + v.z * c + (-axis.y * v.x + axis.x * v.y) * s};
}

/// Row-major 3x3 matrix times v.
NB_HD inline Vec3 rotate_by_matrix(Vec3 v, const double m[9]) {
  return Vec3{m[0] * v.x + m[1] * v.y + m[2] * v.z, m[3] * v.x + m[4] * v.y + m[5] * v.z,
              m[6] * v.x + m[7] * v.y + m[8] * v.z};
}

}  // namespace nbsim
