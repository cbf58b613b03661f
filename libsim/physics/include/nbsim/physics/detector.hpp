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
NB_HD inline Vec3 detector_position(double Fdet, double Sdet, double Odet, Vec3 fdet, Vec3 sdet, Vec3 odet,
                                    Vec3 pix0, bool curved, double distance, Vec3 beam) {
  Vec3 pos{Fdet * fdet.x + Sdet * sdet.x + Odet * odet.x + pix0.x,
           Fdet * fdet.y + Sdet * sdet.y + Odet * odet.y + pix0.y,
           Fdet * fdet.z + Sdet * sdet.z + Odet * odet.z + pix0.z};
  if (curved) {
    const Vec3 straight{distance * beam.x, distance * beam.y, distance * beam.z};
    const Vec3 swung = rotate_about_axis(straight, sdet, pos.y / distance);
    pos = rotate_about_axis(swung, fdet, pos.z / distance);
  }
  return pos;
}

/// Solid angle (sr) of a pixel at distance `airpath`: (pixel/R)^2 times the
/// obliquity close_distance/R; a point pixel keeps only 1/R^2.
NB_HD inline double pixel_solid_angle(double pixel_size, double airpath, double close_distance, bool point_pixel) {
  if (point_pixel) return 1.0 / airpath / airpath;
  return pixel_size * pixel_size / airpath / airpath * close_distance / airpath;
}

/// Fraction of the photons travelling along `diffracted` that sensor layer
/// `layer` (thickness `step` m, attenuation `mu` 1/m) absorbs.
NB_HD inline double layer_capture_fraction(int layer, double step, double mu, Vec3 diffracted, Vec3 odet) {
  const double parallax = dot(diffracted, odet);
  return std::exp(-layer * step * mu / parallax) - std::exp(-(layer + 1) * step * mu / parallax);
}

}  // namespace nbsim
