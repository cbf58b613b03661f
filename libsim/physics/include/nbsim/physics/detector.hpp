#pragma once
// Per-pixel detector geometry: where a sub-pixel is, the solid angle it
// subtends and the fraction of photons a sensor layer absorbs. Lengths in m.
#include <cmath>

#include "nbsim/physics/hd.hpp"
#include "nbsim/physics/rotation.hpp"
#include "nbsim/physics/vec3.hpp"

namespace nbsim {

/// Position (from the sample) of the point Fdet, Sdet along the fast and
/// slow axes and Odet along the normal, measured from the first pixel's
/// corner pix0. A curved detector keeps every pixel at `distance` by
/// treating the flat-detector coordinates as angles.
template <class T>
NB_HD inline Vec3T<T> detector_position(T Fdet, Scalar<T> Sdet, Scalar<T> Odet, Vec3T<T> fdet, Vec3T<T> sdet,
                                        Vec3T<T> odet, Vec3T<T> pix0, bool curved, Scalar<T> distance,
                                        Vec3T<T> beam) {
  Vec3T<T> pos{Fdet * fdet.x + Sdet * sdet.x + Odet * odet.x + pix0.x,
               Fdet * fdet.y + Sdet * sdet.y + Odet * odet.y + pix0.y,
               Fdet * fdet.z + Sdet * sdet.z + Odet * odet.z + pix0.z};
  if (curved) {
    const Vec3T<T> straight{distance * beam.x, distance * beam.y, distance * beam.z};
    const Vec3T<T> swung = rotate_about_axis(straight, sdet, pos.y / distance);
    pos = rotate_about_axis(swung, fdet, pos.z / distance);
  }
  return pos;
}

/// Solid angle (sr) of a pixel at distance `airpath`: (pixel/R)^2 times the
/// obliquity close_distance/R; a point pixel keeps only 1/R^2.
template <class T>
NB_HD inline T pixel_solid_angle(T pixel_size, Scalar<T> airpath, Scalar<T> close_distance, bool point_pixel) {
  if (point_pixel) return T(1) / airpath / airpath;
  return pixel_size * pixel_size / airpath / airpath * close_distance / airpath;
}

/// Fraction of the photons travelling along `diffracted` that sensor layer
/// `layer` (thickness `step` m, attenuation `mu` 1/m) absorbs.
template <class T>
NB_HD inline T layer_capture_fraction(int layer, Scalar<T> step, Scalar<T> mu, Vec3T<T> diffracted, Vec3T<T> odet) {
  const T parallax = dot(diffracted, odet);
  return std::exp(static_cast<T>(-layer) * step * mu / parallax) -
         std::exp(static_cast<T>(-(layer + 1)) * step * mu / parallax);
}

}  // namespace nbsim
