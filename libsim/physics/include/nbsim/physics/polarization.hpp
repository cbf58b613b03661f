#pragma once
// Polarization factor of the Kahn model.
#include <cmath>

#include "nbsim/physics/hd.hpp"
#include "nbsim/physics/vec3.hpp"

namespace nbsim {

/// 0.5*(1 + cos^2 2theta - K cos(2 psi) sin^2 2theta) for incident and
/// diffracted directions and the E-vector axis. Like the reference, the
/// direction vectors are re-normalised in place (a no-op up to the last
/// bit) because later values (cos 2theta in traces) use the normalised ones.
template <class T>
NB_HD inline T polarization_factor(Scalar<T> kahn, Vec3T<T>& incident, Vec3T<T>& diffracted, Vec3T<T> axis) {
  unitize(incident, incident);
  unitize(diffracted, diffracted);
  unitize(axis, axis);
  const T cos2theta = dot(incident, diffracted);
  const T cos2theta_sqr = cos2theta * cos2theta;
  const T sin2theta_sqr = T(1) - cos2theta_sqr;
  T psi = 0;
  if (kahn != T(0)) {
    // B_in is normal to the polarization plane; E_in the E-vector direction.
    const Vec3T<T> b_in = unit(cross(axis, incident));
    const Vec3T<T> e_in = unit(cross(incident, b_in));
    const T e_out = dot(diffracted, e_in);
    const T b_out = dot(diffracted, b_in);
    psi = -std::atan2(b_out, e_out);
  }
  return T(0.5) * (T(1) + cos2theta_sqr - kahn * std::cos(T(2) * psi) * sin2theta_sqr);
}

}  // namespace nbsim
