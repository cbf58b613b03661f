#pragma once
// Tricubic interpolation of structure factors between the 4x4x4 nearest
// grid points (Lagrange polynomials through 4 points per axis).
#include "nbsim/physics/hd.hpp"

namespace nbsim {

/// Cubic through (xa[i], ya[i]), i = 0..3, evaluated at x.
template <class T>
NB_HD inline T lagrange4(const T xa[4], const T ya[4], T x) {
  const T t0 = (x - xa[1]) * (x - xa[2]) * (x - xa[3]) * ya[0] /
               ((xa[0] - xa[1]) * (xa[0] - xa[2]) * (xa[0] - xa[3]));
  const T t1 = (x - xa[0]) * (x - xa[2]) * (x - xa[3]) * ya[1] /
               ((xa[1] - xa[0]) * (xa[1] - xa[2]) * (xa[1] - xa[3]));
  const T t2 = (x - xa[0]) * (x - xa[1]) * (x - xa[3]) * ya[2] /
               ((xa[2] - xa[0]) * (xa[2] - xa[1]) * (xa[2] - xa[3]));
  const T t3 = (x - xa[0]) * (x - xa[1]) * (x - xa[2]) * ya[3] /
               ((xa[3] - xa[0]) * (xa[3] - xa[1]) * (xa[3] - xa[2]));
  return t0 + t1 + t2 + t3;
}

/// Tricubic value at (x1,x2,x3) from samples y[i][j][k] on the grid
/// x1a[i] x x2a[j] x x3a[k]: interpolate along the last axis first.
template <class T>
NB_HD inline T tricubic(const T x1a[4], const T x2a[4], const T x3a[4], const T y[4][4][4], T x1, T x2, T x3) {
  T along1[4];
  for (int i = 0; i < 4; ++i) {
    T along2[4];
    for (int j = 0; j < 4; ++j) along2[j] = lagrange4(x3a, y[i][j], x3);
    along1[i] = lagrange4(x2a, along2, x2);
  }
  return lagrange4(x1a, along1, x1);
}

}  // namespace nbsim
