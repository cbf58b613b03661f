// The detector: its size and region of interest, the convention's frame
// and pivot, the pivot computation with its rotations (pix0, distances) and
// the geometry trace lines that record it, in the reference's order.
#include <algorithm>
#include <cfloat>
#include <cmath>
#include <iterator>
#include <limits>

#include <fmt/format.h>

#include "nbtrace/base/error.hpp"
#include "nbsim/physics/rotation.hpp"
#include "units.hpp"

namespace nbsim {

std::string convention_name(Convention c) {
  switch (c) {
    case Convention::custom: return "CUSTOM";
    case Convention::adxv: return "ADXV";
    case Convention::mosflm: return "MOSFLM";
    case Convention::xds: return "XDS";
    case Convention::dials: return "DIALS";
    case Convention::denzo: return "DENZO";
  }
  return "?";
}

namespace setup {

namespace {

/// Pixels per edge are ints (KernelParams::fpixels).
constexpr int kMaxPixelsPerEdge = std::numeric_limits<int>::max();

/// Geometry trace lines, numbers %.17g.
struct TraceSink {
  std::vector<TraceLine>& lines;
  void vec(const char* name, Vec3 v) { lines.push_back({name, fmt::format("{:.17g} {:.17g} {:.17g}", v.x, v.y, v.z)}); }
  void scalar(const char* name, double v) { lines.push_back({name, fmt::format("{:.17g}", v)}); }
  void text(const char* name, std::string v) { lines.push_back({name, std::move(v)}); }
  void matrix(const char* name, const double m[3][3]) {
    lines.push_back({name, fmt::format("[{:.17g} {:.17g} {:.17g}; {:.17g} {:.17g} {:.17g}; {:.17g} {:.17g} {:.17g}]",
                                       m[0][0], m[0][1], m[0][2], m[1][0], m[1][1], m[1][2], m[2][0], m[2][1], m[2][2])});
  }
};

/// The convention's name as "... convention selected." says it.
const char* lower_name(Convention c) {
  switch (c) {
    case Convention::adxv: return "adxv";
    case Convention::mosflm: return "mosflm";
    case Convention::xds: return "xds";
    case Convention::dials: return "dials";
    case Convention::denzo: return "denzo";
    case Convention::custom: break;
  }
  return "custom";
}

}  // namespace

DetectorGrid resolve_detector_size(const DetectorConfig& d) {
  // validate_config has checked the pixel and the sizes (> 0, finite).
  DetectorGrid g;
  g.detsize_f = d.fpixels ? d.pixel_size * *d.fpixels : d.detsize_f;
  g.detsize_s = d.spixels ? d.pixel_size * *d.spixels : d.detsize_s;
  // Counted in double first: a size of many pixels would not fit an int.
  const double fpixels = std::ceil(g.detsize_f / d.pixel_size - 0.5);
  const double spixels = std::ceil(g.detsize_s / d.pixel_size - 0.5);
  if (!(fpixels >= 1 && spixels >= 1))
    throw nbtrace::UsageError(fmt::format(
        "impossible geometry: -detsize {:g}x{:g} mm with -pixel {:g} mm gives a {}x{}-pixel detector",
        g.detsize_f * 1000, g.detsize_s * 1000, d.pixel_size * 1000, fpixels, spixels));
  if (fpixels > kMaxPixelsPerEdge || spixels > kMaxPixelsPerEdge)
    throw nbtrace::UsageError(fmt::format("-detsize {:g}x{:g} mm with -pixel {:g} mm gives {:g}x{:g} pixels, more than "
                                          "{} per edge",
                                          g.detsize_f * 1000, g.detsize_s * 1000, d.pixel_size * 1000, fpixels,
                                          spixels, kMaxPixelsPerEdge));
  g.fpixels = static_cast<int>(fpixels);
  g.spixels = static_cast<int>(spixels);
  return g;
}

void resolve_roi(const DetectorConfig& d, DetectorGrid& g) {
  // Inclusive; -1 stands for the detector's edge.
  g.roi_fmin = d.roi[0] < 0 ? 0 : d.roi[0];
  g.roi_fmax = d.roi[1] < 0 ? g.fpixels : d.roi[1];
  g.roi_smin = d.roi[2] < 0 ? 0 : d.roi[2];
  g.roi_smax = d.roi[3] < 0 ? g.spixels : d.roi[3];
  if (g.roi_fmin > std::min(g.roi_fmax, g.fpixels - 1) || g.roi_smin > std::min(g.roi_smax, g.spixels - 1))
    throw nbtrace::UsageError(fmt::format("-roi {} {} {} {} selects no pixel of the {}x{} detector", d.roi[0], d.roi[1],
                                          d.roi[2], d.roi[3], g.fpixels, g.spixels));
}

DetectorFrame resolve_frame(const DetectorConfig& d, const BeamConfig& bm, const CrystalConfig& cr,
                            const DetectorGrid& grid, const Quirks& q, Log& log) {
  DetectorFrame fr;
  // Beam centre defaults (m).
  double Fclose = kNotGiven, Sclose = kNotGiven;
  if (!std::isnan(d.ORGX)) Fclose = (d.ORGX - 0.5) * d.pixel_size;
  if (!std::isnan(d.ORGY)) Sclose = (d.ORGY - 0.5) * d.pixel_size;
  if (std::isnan(Fclose)) Fclose = (grid.detsize_f - 0 * d.pixel_size) / 2.0;
  if (std::isnan(Sclose)) Sclose = (grid.detsize_s + 0 * d.pixel_size) / 2.0;
  fr.Xclose = std::isnan(d.Xclose) ? Fclose : d.Xclose;
  fr.Yclose = std::isnan(d.Yclose) ? Sclose : d.Yclose;
  double Fbeam = Fclose, Sbeam = Sclose;

  Vec3 beam = bm.beam, fdet = d.fdet, sdet = d.sdet, odet = d.odet;
  Vec3 twotheta_axis = d.twotheta_axis, polar_vector = bm.polar_vector, spindle = cr.spindle;
  Pivot pivot = d.pivot;
  double Xbeam = d.Xbeam, Ybeam = d.Ybeam;
  switch (d.convention) {
    case Convention::adxv:
      // First pixel at (0,0); Y measured from the far edge.
      if (std::isnan(Xbeam)) Xbeam = (grid.detsize_f + d.pixel_size) / 2.0;
      if (std::isnan(Ybeam)) Ybeam = (grid.detsize_s - d.pixel_size) / 2.0;
      beam = {0, 0, 1}; fdet = {1, 0, 0}; sdet = {0, -1, 0}; odet = {0, 0, 1};
      twotheta_axis = {-1, 0, 0}; polar_vector = {1, 0, 0}; spindle = {1, 0, 0};
      Fbeam = Xbeam;
      Sbeam = grid.detsize_s - Ybeam;
      pivot = Pivot::beam;
      break;
    case Convention::mosflm:
    case Convention::denzo: {
      // X runs along slow. MOSFLM puts the first pixel's centre at (0.5,0.5)
      // pixels, DENZO its corner.
      const double half_pixel = d.convention == Convention::mosflm ? 0.5 : 0.0;
      if (std::isnan(Xbeam)) Xbeam = (grid.detsize_s + d.pixel_size) / 2.0;
      if (std::isnan(Ybeam)) Ybeam = (grid.detsize_f + d.pixel_size) / 2.0;
      beam = {1, 0, 0}; odet = {1, 0, 0}; fdet = {0, 0, 1}; sdet = {0, -1, 0};
      twotheta_axis = {0, 0, -1}; polar_vector = {0, 0, 1}; spindle = {0, 0, 1};
      Fbeam = Ybeam + half_pixel * d.pixel_size;
      Sbeam = Xbeam + half_pixel * d.pixel_size;
      pivot = Pivot::beam;
      break;
    }
    case Convention::xds:
    case Convention::dials: {
      // Same detector frame; XDS rotates about x, DIALS about y.
      if (std::isnan(Xbeam)) Xbeam = fr.Xclose;
      if (std::isnan(Ybeam)) Ybeam = fr.Yclose;
      beam = {0, 0, 1}; fdet = {1, 0, 0}; sdet = {0, 1, 0}; odet = {0, 0, 1};
      const Vec3 axis = d.convention == Convention::xds ? Vec3{1, 0, 0} : Vec3{0, 1, 0};
      twotheta_axis = axis; polar_vector = axis; spindle = axis;
      Fbeam = Xbeam;
      Sbeam = Ybeam;
      pivot = Pivot::sample;
      break;
    }
    case Convention::custom:
      if (std::isnan(Xbeam)) Xbeam = fr.Xclose;
      if (std::isnan(Ybeam)) Ybeam = fr.Yclose;
      Fbeam = Xbeam;
      Sbeam = Ybeam;
      Fclose = Xbeam;
      Sclose = Ybeam;
      break;
  }

  // The reference lets the convention override -pivot; the spec lets an
  // explicit -pivot override the convention's default (C-PARITY-005).
  if (!q.convention_overrides_pivot && d.explicit_pivot) pivot = *d.explicit_pivot;

  // Unit vectors; a normal that is not unit length is rebuilt from f x s.
  unitize(beam, beam);
  unitize(fdet, fdet);
  unitize(sdet, sdet);
  if (unitize(odet, odet) != 1.0) {
    log.push_back("WARNING: auto-generating odet_vector");
    odet = unit(cross(fdet, sdet));
  }
  unitize(polar_vector, polar_vector);
  unitize(spindle, spindle);
  const Vec3 vert_vector = unit(cross(beam, polar_vector));
  if (magnitude(beam) == 0 || magnitude(fdet) == 0 || magnitude(sdet) == 0)
    throw nbtrace::UsageError("impossible geometry: a beam or detector axis vector is zero");

  fr.beam = beam;
  fr.fdet = fdet;
  fr.sdet = sdet;
  fr.odet = odet;
  fr.twotheta_axis = twotheta_axis;
  fr.polar_vector = polar_vector;
  fr.vert_vector = vert_vector;
  fr.spindle = spindle;
  fr.pivot = pivot;
  fr.Xbeam = Xbeam;
  fr.Ybeam = Ybeam;
  fr.Fbeam = Fbeam;
  fr.Sbeam = Sbeam;
  fr.Fclose = Fclose;
  fr.Sclose = Sclose;
  return fr;
}

DetectorPlacement place_detector(const DetectorConfig& d, const DetectorFrame& fr, const Quirks& q, Log& log,
                                 std::vector<TraceLine>& trace) {
  TraceSink tr{trace};
  log.push_back(std::string(lower_name(d.convention)) + " convention selected.");
  const Vec3 beam = fr.beam, twotheta_axis = fr.twotheta_axis;
  Vec3 fdet = fr.fdet, sdet = fr.sdet, odet = fr.odet;
  double Fclose = fr.Fclose, Sclose = fr.Sclose;
  const double Fbeam0 = fr.Fbeam, Sbeam0 = fr.Sbeam;

  double ratio = dot(beam, rotate_xyz(odet, d.rotx, d.roty, d.rotz));
  if (ratio == 0.0) ratio = DBL_MIN;
  double close_distance = d.close_distance;
  double distance = d.distance;
  if (std::isnan(close_distance)) close_distance = std::fabs(ratio * distance);
  distance = close_distance / ratio;

  const Vec3 initial_f = fdet, initial_s = sdet, initial_o = odet;
  const std::string angles =
      fmt::format("rotx:{:.17g} roty:{:.17g} rotz:{:.17g} twotheta:{:.17g}", d.rotx, d.roty, d.rotz, d.twotheta);
  Vec3 pix0;
  if (fr.pivot == Pivot::sample) {
    log.push_back("pivoting detector around sample");
    tr.text("detector_convention", convention_name(d.convention));
    tr.text("angles_rad", angles);
    // The reference divides these metre values by 1000 again; kept for comparable traces.
    tr.text("beam_center_m", fmt::format("Xclose:{:.17g} Yclose:{:.17g} pixel_mm:{:.17g}", fr.Xclose / 1000.0,
                                         fr.Yclose / 1000.0, d.pixel_size * 1000.0));
    tr.vec("initial_fdet", fdet);
    tr.vec("initial_sdet", sdet);
    tr.vec("initial_odet", odet);
    tr.scalar("Fclose_m", Fclose);
    tr.scalar("Sclose_m", Sclose);
    tr.scalar("close_distance_m", close_distance);
    tr.scalar("ratio", ratio);
    tr.scalar("distance_m", distance);
    tr.vec("term_fast_before_rot", {-Fclose * fdet.x, -Fclose * fdet.y, -Fclose * fdet.z});
    tr.vec("term_slow_before_rot", {-Sclose * sdet.x, -Sclose * sdet.y, -Sclose * sdet.z});
    tr.vec("term_close_before_rot", close_distance * odet);
    pix0 = {-Fclose * fdet.x - Sclose * sdet.x + close_distance * odet.x,
            -Fclose * fdet.y - Sclose * sdet.y + close_distance * odet.y,
            -Fclose * fdet.z - Sclose * sdet.z + close_distance * odet.z};
    tr.vec("pix0_before_rotation", pix0);
    pix0 = rotate_xyz(pix0, d.rotx, d.roty, d.rotz);
    tr.vec("pix0_after_rotz", pix0);
    pix0 = rotate_about_axis(pix0, twotheta_axis, d.twotheta);
    tr.vec("pix0_after_twotheta", pix0);
  }
  fdet = rotate_xyz(fdet, d.rotx, d.roty, d.rotz);
  sdet = rotate_xyz(sdet, d.rotx, d.roty, d.rotz);
  odet = rotate_xyz(odet, d.rotx, d.roty, d.rotz);
  tr.vec("fdet_after_rotz", fdet);
  tr.vec("sdet_after_rotz", sdet);
  tr.vec("odet_after_rotz", odet);
  fdet = rotate_about_axis(fdet, twotheta_axis, d.twotheta);
  sdet = rotate_about_axis(sdet, twotheta_axis, d.twotheta);
  odet = rotate_about_axis(odet, twotheta_axis, d.twotheta);
  tr.vec("twotheta_axis", twotheta_axis);
  tr.vec("fdet_after_twotheta", fdet);
  tr.vec("sdet_after_twotheta", sdet);
  tr.vec("odet_after_twotheta", odet);

  if (fr.pivot == Pivot::beam) {
    log.push_back("pivoting detector around direct beam spot");
    // The reference's trace labels every BEAM pivot MOSFLM and prints
    // MOSFLM's initial axes (C-TRACE-001).
    const bool as_mosflm = q.beam_pivot_trace_mosflm;
    tr.text("detector_convention", as_mosflm ? std::string("MOSFLM") : convention_name(d.convention));
    tr.text("angles_rad", angles);
    tr.text("beam_center_m", fmt::format("X:{:.17g} Y:{:.17g} pixel_mm:{:.17g}", fr.Xbeam / 1000.0, fr.Ybeam / 1000.0,
                                         d.pixel_size * 1000.0));
    tr.vec("initial_fdet", as_mosflm ? Vec3{0, 0, 1} : initial_f);
    tr.vec("initial_sdet", as_mosflm ? Vec3{0, -1, 0} : initial_s);
    tr.vec("initial_odet", as_mosflm ? Vec3{1, 0, 0} : initial_o);
    const double cx = std::cos(d.rotx), sx = std::sin(d.rotx);
    const double cy = std::cos(d.roty), sy = std::sin(d.roty);
    const double cz = std::cos(d.rotz), sz = std::sin(d.rotz);
    const double Rx[3][3] = {{1, 0, 0}, {0, cx, -sx}, {0, sx, cx}};
    const double Ry[3][3] = {{cy, 0, sy}, {0, 1, 0}, {-sy, 0, cy}};
    const double Rz[3][3] = {{cz, -sz, 0}, {sz, cz, 0}, {0, 0, 1}};
    double tmp[3][3], total[3][3];
    for (int i = 0; i < 3; i++)
      for (int j = 0; j < 3; j++) {
        tmp[i][j] = 0;
        for (int k = 0; k < 3; k++) tmp[i][j] += Ry[i][k] * Rx[k][j];
      }
    for (int i = 0; i < 3; i++)
      for (int j = 0; j < 3; j++) {
        total[i][j] = 0;
        for (int k = 0; k < 3; k++) total[i][j] += Rz[i][k] * tmp[k][j];
      }
    tr.matrix("Rx", Rx);
    tr.matrix("Ry", Ry);
    tr.matrix("Rz", Rz);
    tr.matrix("R_total", total);
    tr.vec("fdet_after_rotz", fdet);
    tr.vec("sdet_after_rotz", sdet);
    tr.vec("odet_after_rotz", odet);
    tr.vec("twotheta_axis", twotheta_axis);
    tr.vec("fdet_after_twotheta", fdet);
    tr.vec("sdet_after_twotheta", sdet);
    tr.vec("odet_after_twotheta", odet);
    tr.text("convention_mapping",
            "Fbeam\xE2\x86\x90Ybeam_mm(+0.5px),Sbeam\xE2\x86\x90Xbeam_mm(+0.5px),beam_vec=[1 0 0]");
    tr.scalar("Fbeam_m", Fbeam0);
    tr.scalar("Sbeam_m", Sbeam0);
    tr.scalar("distance_m", distance);
    tr.vec("term_fast", {-Fbeam0 * fdet.x, -Fbeam0 * fdet.y, -Fbeam0 * fdet.z});
    tr.vec("term_slow", {-Sbeam0 * sdet.x, -Sbeam0 * sdet.y, -Sbeam0 * sdet.z});
    tr.vec("term_beam", distance * beam);
    pix0 = {-Fbeam0 * fdet.x - Sbeam0 * sdet.x + distance * beam.x,
            -Fbeam0 * fdet.y - Sbeam0 * sdet.y + distance * beam.y,
            -Fbeam0 * fdet.z - Sbeam0 * sdet.z + distance * beam.z};
    tr.vec("pix0_vector", pix0);
  }

  // Closest approach and where the direct beam lands now.
  DetectorPlacement pl;
  pl.Fclose = -dot(pix0, fdet);
  pl.Sclose = -dot(pix0, sdet);
  close_distance = dot(pix0, odet);
  const Vec3 to_beam{close_distance / ratio * beam.x - pix0.x, close_distance / ratio * beam.y - pix0.y,
                     close_distance / ratio * beam.z - pix0.z};
  pl.Fbeam = dot(fdet, to_beam);
  pl.Sbeam = dot(sdet, to_beam);
  distance = close_distance / ratio;
  if (!(std::fabs(close_distance) > 0))
    throw nbtrace::UsageError("impossible geometry: the detector plane passes through the sample");
  pl.fdet = fdet;
  pl.sdet = sdet;
  pl.odet = odet;
  pl.pix0 = pix0;
  pl.distance = distance;
  pl.close_distance = close_distance;
  return pl;
}

void check_mask(const DetectorConfig& d, const DetectorGrid& grid) {
  if (d.mask.empty()) return;
  if (d.mask_fpixels != grid.fpixels || d.mask_spixels != grid.spixels)
    throw nbtrace::UsageError(fmt::format("{}the -mask image is {}x{} pixels but the detector {}x{}",
                                          d.mask_file.empty() ? std::string() : d.mask_file + ": ", d.mask_fpixels,
                                          d.mask_spixels, grid.fpixels, grid.spixels));
}

}  // namespace setup
}  // namespace nbsim
