#pragma once
// A minimal 3-vector for the per-pixel physics, templated on the number
// type (double: the reference's arithmetic; float: -dtype float32). Every
// operation spells out its arithmetic in the reference program's order so
// float64 results agree with it to the last bit (no fused multiply-add: the
// build uses ISO C++ mode and -ffp-contract=off).
#include <cmath>
#include <type_traits>

#include "nbsim/physics/hd.hpp"

namespace nbsim {

template <class T>
struct Vec3T {
  T x = 0;
  T y = 0;
  T z = 0;
};
using Vec3 = Vec3T<double>;

/// Scalars that take their type from the vectors (no deduction from them,
/// so `rescale(v, 1)` works for both number types).
template <class T>
using Scalar = std::type_identity_t<T>;

/// A vector converted to another number type (double -> float: rounded).
template <class T, class U>
NB_HD inline Vec3T<T> vec_cast(Vec3T<U> v) {
  return {static_cast<T>(v.x), static_cast<T>(v.y), static_cast<T>(v.z)};
}

template <class T>
NB_HD inline Vec3T<T> operator+(Vec3T<T> a, Vec3T<T> b) { return {a.x + b.x, a.y + b.y, a.z + b.z}; }
template <class T>
NB_HD inline Vec3T<T> operator-(Vec3T<T> a, Vec3T<T> b) { return {a.x - b.x, a.y - b.y, a.z - b.z}; }
template <class T>
NB_HD inline Vec3T<T> operator-(Vec3T<T> a) { return {-a.x, -a.y, -a.z}; }
/// s*v, multiplied component-wise as scale*v[i].
template <class T>
NB_HD inline Vec3T<T> operator*(Scalar<T> s, Vec3T<T> v) { return {s * v.x, s * v.y, s * v.z}; }
/// v/s component-wise (not v*(1/s): that rounds differently).
template <class T>
NB_HD inline Vec3T<T> operator/(Vec3T<T> v, Scalar<T> s) { return {v.x / s, v.y / s, v.z / s}; }

template <class T>
NB_HD inline T dot(Vec3T<T> a, Vec3T<T> b) { return a.x * b.x + a.y * b.y + a.z * b.z; }

template <class T>
NB_HD inline Vec3T<T> cross(Vec3T<T> a, Vec3T<T> b) {
  return {a.y * b.z - a.z * b.y, a.z * b.x - a.x * b.z, a.x * b.y - a.y * b.x};
}

template <class T>
NB_HD inline T magnitude(Vec3T<T> v) { return std::sqrt(v.x * v.x + v.y * v.y + v.z * v.z); }

/// Unit vector along v (the zero vector stays zero); returns |v|.
template <class T>
NB_HD inline T unitize(Vec3T<T> v, Vec3T<T>& unit) {
  const T mag = magnitude(v);
  if (mag != T(0)) {
    unit = Vec3T<T>{v.x / mag, v.y / mag, v.z / mag};
  } else {
    unit = Vec3T<T>{0, 0, 0};
  }
  return mag;
}

template <class T>
NB_HD inline Vec3T<T> unit(Vec3T<T> v) {
  Vec3T<T> u;
  unitize(v, u);
  return u;
}

/// v rescaled to length `length` (a zero vector is treated as length 1).
template <class T>
NB_HD inline Vec3T<T> rescale(Vec3T<T> v, Scalar<T> length) {
  T old = magnitude(v);
  if (old <= T(0)) old = T(1);
  return Vec3T<T>{length / old * v.x, length / old * v.y, length / old * v.z};
}

}  // namespace nbsim
