#pragma once
// Rotations used by the detector set-up, the misset and the phi sweep.
// Angles in radians.
#include <cmath>

#include "nbsim/physics/hd.hpp"
#include "nbsim/physics/vec3.hpp"

namespace nbsim {

/// Rotation about x, then y, then z (each skipped when its angle is
/// exactly zero, so a zero angle leaves the vector bit-for-bit unchanged).
template <class T>
NB_HD inline Vec3T<T> rotate_xyz(Vec3T<T> v, Scalar<T> rotx, Scalar<T> roty, Scalar<T> rotz) {
  T x = v.x, y = v.y, z = v.z;
  if (rotx != T(0)) {
    const T c = std::cos(rotx), s = std::sin(rotx);
    const T ny = y * c + z * -s;
    const T nz = y * s + z * c;
    y = ny;
    z = nz;
  }
  if (roty != T(0)) {
    const T c = std::cos(roty), s = std::sin(roty);
    const T nx = x * c + y * T(0) + z * s;
    const T nz = x * -s + y * T(0) + z * c;
    x = nx;
    z = nz;
  }
  if (rotz != T(0)) {
    const T c = std::cos(rotz), s = std::sin(rotz);
    const T nx = x * c + y * -s;
    const T ny = x * s + y * c;
    x = nx;
    y = ny;
  }
  return Vec3T<T>{x, y, z};
}

/// Right-handed rotation of v by `angle` about the unit vector `axis`
/// (Rodrigues' formula).
template <class T>
NB_HD inline Vec3T<T> rotate_about_axis(Vec3T<T> v, Vec3T<T> axis, Scalar<T> angle) {
  const T s = std::sin(angle);
  const T c = std::cos(angle);
  const T along = (axis.x * v.x + axis.y * v.y + axis.z * v.z) * (T(1) - c);
  return Vec3T<T>{axis.x * along + v.x * c + (-axis.z * v.y + axis.y * v.z) * s,
                  axis.y * along + v.y * c + (+axis.z * v.x - axis.x * v.z) * s,
                  axis.z * along + v.z * c + (-axis.y * v.x + axis.x * v.y) * s};
}

/// Row-major 3x3 matrix times v (the matrix may be stored in double for a
/// float vector: each entry is rounded to T first).
template <class T, class M>
NB_HD inline Vec3T<T> rotate_by_matrix(Vec3T<T> v, const M m[9]) {
  const T m0 = static_cast<T>(m[0]), m1 = static_cast<T>(m[1]), m2 = static_cast<T>(m[2]);
  const T m3 = static_cast<T>(m[3]), m4 = static_cast<T>(m[4]), m5 = static_cast<T>(m[5]);
  const T m6 = static_cast<T>(m[6]), m7 = static_cast<T>(m[7]), m8 = static_cast<T>(m[8]);
  return Vec3T<T>{m0 * v.x + m1 * v.y + m2 * v.z, m3 * v.x + m4 * v.y + m5 * v.z, m6 * v.x + m7 * v.y + m8 * v.z};
}

}  // namespace nbsim
