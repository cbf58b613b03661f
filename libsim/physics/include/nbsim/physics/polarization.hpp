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
NB_HD inline double polarization_factor(double kahn, Vec3& incident, Vec3& diffracted, Vec3 axis) {
  unitize(incident, incident);
  unitize(diffracted, diffracted);
  unitize(axis, axis);
  const double cos2theta = dot(incident, diffracted);
  const double cos2theta_sqr = cos2theta * cos2theta;
  const double sin2theta_sqr = 1 - cos2theta_sqr;
  double psi = 0;
  if (kahn != 0.0) {
    // B_in is normal to the polarization plane; E_in the E-vector direction.
    const Vec3 b_in = unit(cross(axis, incident));
    const Vec3 e_in = unit(cross(incident, b_in));
    const double e_out = dot(diffracted, e_in);
    const double b_out = dot(diffracted, b_in);
    psi = -std::atan2(b_out, e_out);
  }
  return 0.5 * (1.0 + cos2theta_sqr - kahn * std::cos(2 * psi) * sin2theta_sqr);
}

}  // namespace nbsim
