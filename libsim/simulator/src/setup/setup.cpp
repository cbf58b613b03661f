#include "nbsim/setup.hpp"

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <ctime>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>

#include "nbtrace/base/files.hpp"
#include "nbtrace/base/error.hpp"
#include "nbsim/physics/rotation.hpp"
#include "nbsim/random.hpp"

namespace nbsim {

namespace {

struct SourceLine {
  double v[5];
};

/// Source file lines: up to 5 numbers separated by blanks or , ; : ! (as
/// the reference splits them); missing columns are NaN. Blank lines skip.
std::vector<SourceLine> read_source_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw nbtrace::InputError("cannot read source file " + path);
  std::vector<SourceLine> lines;
  int line_no = 0;
  for (std::string text; std::getline(in, text);) {
    ++line_no;
    SourceLine line;
    for (double& x : line.v) x = std::numeric_limits<double>::quiet_NaN();
    int n = 0;
    std::size_t pos = 0;
    const char* delimiters = " \t,;:!\r";
    while (n < 5) {
      pos = text.find_first_not_of(delimiters, pos);
      if (pos == std::string::npos) break;
      const std::size_t end = text.find_first_of(delimiters, pos);
      const std::string token = text.substr(pos, end == std::string::npos ? std::string::npos : end - pos);
      char* stop = nullptr;
      const double value = std::strtod(token.c_str(), &stop);
      if (stop == token.c_str())
        throw nbtrace::InputError(path + ":" + std::to_string(line_no) + ": '" + token + "' is not a number");
      line.v[n++] = value;
      if (end == std::string::npos) break;
      pos = end;
    }
    if (n > 0) lines.push_back(line);
  }
  if (lines.empty()) throw nbtrace::InputError("no sources in source file " + path);
  return lines;
}

constexpr double kPi = 3.14159265358979323846;
constexpr double kAvogadro = 6.02214179e23;  // 1/mol, the reference's value
constexpr double kRe2 = 7.94079248018965e-30;  // Thomson cross-section r_e^2 (m^2)
constexpr double kWaterF = 2.57;   // forward-scattering amplitude of water (electrons)
constexpr double kWaterMW = 18.0;  // g/mol

std::string g17(double v) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}
std::string g17(Vec3 v) { return g17(v.x) + " " + g17(v.y) + " " + g17(v.z); }
std::string fmt_g(double v) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}

struct TraceSink {
  std::vector<TraceLine>& lines;
  void vec(const char* name, Vec3 v) { lines.push_back({name, g17(v)}); }
  void scalar(const char* name, double v) { lines.push_back({name, g17(v)}); }
  void text(const char* name, std::string v) { lines.push_back({name, std::move(v)}); }
  void matrix(const char* name, const double m[3][3]) {
    std::string s = "[";
    for (int i = 0; i < 3; ++i) {
      for (int j = 0; j < 3; ++j) {
        s += g17(m[i][j]);
        if (j < 2) s += " ";
      }
      if (i < 2) s += "; ";
    }
    lines.push_back({name, s + "]"});
  }
};

/// The reference's rules for a sampled range given any of count, range and
/// step (phi uses its own rules, below). `thickness` selects the
/// reference's thickness rule for a lone range: 2 steps of range/2 (the
/// spec and the angles: 2 steps of range).
void resolve_steps(int& steps, double& range, double& step, double count_only_range, bool thickness) {
  if (steps <= 0) {
    if (range < 0.0) {
      if (step <= 0.0) {
        steps = 1;
        range = 0.0;
        step = 0.0;
      } else {
        range = step;
        steps = 2;
      }
    } else {
      if (step <= 0.0) {
        if (thickness) {
          steps = 2;
          step = range / steps;
        } else {
          step = range;
          steps = 2;
        }
      } else {
        steps = static_cast<int>(std::ceil(range / step));
      }
    }
  } else {
    if (range < 0.0) {
      if (step <= 0.0) {
        range = count_only_range;
        step = range / steps;
      } else {
        range = step;
        steps = 2;
      }
    } else {
      if (step <= 0.0) {
        if (steps <= 1) steps = 2;
        step = range / (steps - 1);
      }
    }
  }
}

Vec3 read_row(std::istream& in, const std::string& file) {
  Vec3 v;
  if (!(in >> v.x >> v.y >> v.z))
    throw nbtrace::InputError("cannot read 9 numbers (a 3x3 A matrix) from " + file);
  return v;
}

struct CellVectors {
  Vec3 a, b, c;                 ///< m
  Vec3 a_star, b_star, c_star;  ///< 1/Angstrom
};

/// The crystal at phi = 0: reciprocal cell from -cell (or the A matrix,
/// scaled by the wavelength), the misset applied to it, then real and
/// reciprocal vectors regenerated from each other as the reference does.
CellVectors build_cell(const CrystalConfig& cr, double lambda0, const Quirks& q, std::vector<std::string>& log) {
  Vec3 a_star, b_star, c_star;
  double cell_a = 0, cell_b = 0, cell_c = 0, V_cell = 0;
  const bool user_cell = cr.cell.has_value();
  if (user_cell) {
    CellParams cp = *cr.cell;
    if (cp.b <= 0.0) cp.b = cp.a;
    if (cp.c <= 0.0) cp.c = cp.a;
    if (cp.alpha <= 0.0) cp.alpha = kPi / 2;
    if (cp.beta <= 0.0) cp.beta = kPi / 2;
    if (cp.gamma <= 0.0) cp.gamma = kPi / 2;
    cell_a = cp.a;
    cell_b = cp.b;
    cell_c = cp.c;
    const double aavg = (cp.alpha + cp.beta + cp.gamma) / 2;
    double skew = std::sin(aavg) * std::sin(aavg - cp.alpha) * std::sin(aavg - cp.beta) *
                  std::sin(aavg - cp.gamma);
    if (skew < 0.0) skew = -skew;
    V_cell = 2.0 * cp.a * cp.b * cp.c * std::sqrt(skew);
    if (V_cell <= 0.0) throw nbtrace::UsageError("impossible unit cell: volume " + fmt_g(V_cell));
    double V_star = 1.0 / V_cell;
    const double as_len = cp.b * cp.c * std::sin(cp.alpha) * V_star;
    const double bs_len = cp.c * cp.a * std::sin(cp.beta) * V_star;
    const double cs_len = cp.a * cp.b * std::sin(cp.gamma) * V_star;
    if (as_len <= 0.0 || bs_len <= 0.0 || cs_len <= 0.0)
      throw nbtrace::UsageError("impossible unit cell: non-positive reciprocal cell lengths");
    double sin_gamma_star = cp.c * V_star / as_len / bs_len;
    double cos_alpha_star = (std::cos(cp.beta) * std::cos(cp.gamma) - std::cos(cp.alpha)) /
                            (std::sin(cp.beta) * std::sin(cp.gamma));
    double cos_beta_star = (std::cos(cp.gamma) * std::cos(cp.alpha) - std::cos(cp.beta)) /
                           (std::sin(cp.gamma) * std::sin(cp.alpha));
    double cos_gamma_star = (std::cos(cp.alpha) * std::cos(cp.beta) - std::cos(cp.gamma)) /
                            (std::sin(cp.alpha) * std::sin(cp.beta));
    if (sin_gamma_star > 1.0) sin_gamma_star = 1.0;
    if (sin_gamma_star < -1.0) sin_gamma_star = -1.0;
    if (cos_alpha_star * cos_alpha_star > 1.0) cos_alpha_star = 1.0;
    if (cos_beta_star * cos_beta_star > 1.0) cos_beta_star = 1.0;
    if (cos_gamma_star * cos_gamma_star > 1.0) cos_gamma_star = 1.0;
    a_star = {as_len, 0.0, 0.0};
    b_star = {bs_len * cos_gamma_star, bs_len * sin_gamma_star, 0.0};
    // c* along z: c is parallel to a* x b* (the z axis) so c . c* = 1 gives
    // c*_z = 1/c. nanoBragg uses |c*| V/(a b c sin gamma*), which equals 1/c
    // only when sin gamma = sin gamma*; for other triclinic cells the cell
    // it builds has angles off by up to a few 0.01 deg (C-PARITY-003).
    const double c_star_z = q.triclinic_c_star ? cs_len * V_cell / (cp.a * cp.b * cp.c * sin_gamma_star) : 1.0 / cp.c;
    c_star = {cs_len * cos_beta_star, cs_len * (cos_alpha_star - cos_beta_star * cos_gamma_star) / sin_gamma_star,
              c_star_z};
  }
  if (!cr.mat_file.empty()) {
    std::ifstream in(cr.mat_file);
    if (!in) throw nbtrace::InputError("cannot read A matrix file " + cr.mat_file);
    // Each row holds the x (then y, then z) components of a*, b*, c*.
    const Vec3 r1 = read_row(in, cr.mat_file), r2 = read_row(in, cr.mat_file), r3 = read_row(in, cr.mat_file);
    a_star = {r1.x, r2.x, r3.x};
    b_star = {r1.y, r2.y, r3.y};
    c_star = {r1.z, r2.z, r3.z};
    log.push_back("reading " + cr.mat_file);
    // A MOSFLM A matrix is in units of the wavelength: rescale to 1/Angstrom.
    const double scale = 1e-10 / lambda0;
    a_star = scale * a_star;
    b_star = scale * b_star;
    c_star = scale * c_star;
  }
  if (cr.misset) {
    a_star = rotate_xyz(a_star, cr.misset->x, cr.misset->y, cr.misset->z);
    b_star = rotate_xyz(b_star, cr.misset->x, cr.misset->y, cr.misset->z);
    c_star = rotate_xyz(c_star, cr.misset->x, cr.misset->y, cr.misset->z);
  }
  Vec3 as_x_bs = cross(a_star, b_star);
  Vec3 bs_x_cs = cross(b_star, c_star);
  Vec3 cs_x_as = cross(c_star, a_star);
  double V_star = dot(a_star, bs_x_cs);
  if (user_cell) {
    // Keep the user's cell lengths exactly: |b* x c*| = a / V_cell, ...
    bs_x_cs = rescale(bs_x_cs, cell_a / V_cell);
    cs_x_as = rescale(cs_x_as, cell_b / V_cell);
    as_x_bs = rescale(as_x_bs, cell_c / V_cell);
    V_star = 1.0 / V_cell;
  }
  if (V_star == 0.0 || std::isnan(V_star))
    throw nbtrace::UsageError("impossible unit cell: the reciprocal vectors are coplanar");
  V_cell = 1.0 / V_star;
  Vec3 a = V_cell * bs_x_cs, b = V_cell * cs_x_as, c = V_cell * as_x_bs;  // Angstrom
  a_star = V_star * cross(b, c);
  b_star = V_star * cross(c, a);
  c_star = V_star * cross(a, b);
  a = 1e-10 * a;  // metres
  b = 1e-10 * b;
  c = 1e-10 * c;
  return {a, b, c, a_star, b_star, c_star};
}

/// Beam sources: from a file, or a grid over divergence (cut to an
/// ellipse) times wavelengths. `bm` has its sampling resolved.
std::vector<Source> make_sources(const BeamConfig& bm, Vec3 beam, Vec3 polar_vector, Vec3 vert_vector, const Quirks& q,
                                 std::vector<std::string>& log) {
  std::vector<Source> sources;
  if (!bm.source_file.empty()) {
    for (const SourceLine& line : read_source_file(bm.source_file)) {
      // Missing columns: upstream along the beam, lambda0 (weights are ignored).
      Vec3 pos{std::isnan(line.v[0]) ? -bm.source_distance * beam.x : line.v[0],
               std::isnan(line.v[1]) ? -bm.source_distance * beam.y : line.v[1],
               std::isnan(line.v[2]) ? -bm.source_distance * beam.z : line.v[2]};
      Source src;
      // The reference renders each source at its own wavelength; the spec
      // makes -lambda authoritative (C-PARITY-004).
      src.lambda = (q.source_file_wavelengths && !std::isnan(line.v[4])) ? line.v[4] : bm.lambda0;
      unitize(pos, src.direction);
      sources.push_back(src);
    }
    log.push_back("read " + std::to_string(sources.size()) + " sources from " + bm.source_file);
  } else {
    int divsteps = 0;
    auto keep = [&](double hdiv, double vdiv) {
      double test = (hdiv * hdiv - bm.hdivstep * bm.hdivstep / 4.0 * (1 - bm.hdivsteps % 2)) /
                    bm.hdivrange / bm.hdivrange;
      test += (vdiv * vdiv - bm.vdivstep * bm.vdivstep / 4.0 * (1 - bm.vdivsteps % 2)) / bm.vdivrange /
              bm.vdivrange;
      return !(bm.round_div && test * 4.0 > 1.1);
    };
    for (int ht = 0; ht < bm.hdivsteps; ++ht)
      for (int vt = 0; vt < bm.vdivsteps; ++vt)
        if (keep(bm.hdivstep * ht - bm.hdivrange / 2.0, bm.vdivstep * vt - bm.vdivrange / 2.0)) ++divsteps;
    const int total = divsteps * bm.dispsteps;
    if (total <= 0) throw nbtrace::UsageError("no beam sources left after the divergence cut");
    for (int ht = 0; ht < bm.hdivsteps; ++ht) {
      for (int vt = 0; vt < bm.vdivsteps; ++vt) {
        const double hdiv = bm.hdivstep * ht - bm.hdivrange / 2.0;
        const double vdiv = bm.vdivstep * vt - bm.vdivrange / 2.0;
        if (!keep(hdiv, vdiv)) continue;
        Vec3 v{-bm.source_distance * beam.x, -bm.source_distance * beam.y, -bm.source_distance * beam.z};
        v = rotate_about_axis(rotate_about_axis(v, polar_vector, vdiv), vert_vector, hdiv);
        for (int dt = 0; dt < bm.dispsteps; ++dt) {
          Source s;
          s.lambda = bm.lambda0 * (1.0 + bm.dispstep * dt - bm.dispersion / 2.0);
          unitize(v, s.direction);
          sources.push_back(s);
        }
      }
    }
  }
  return sources;
}

/// The reference's phi sampling rules: any of steps, range (osc) and step
/// given; the others follow. Without any, one step at phi0.
void resolve_phi_steps(int& phisteps, double& osc, double& phistep) {
  const double rtd = detail::kRadToDeg;
  if (phisteps < 0) {
    if (osc < 0.0) {
      if (phistep <= 0.0) {
        phisteps = 1;
        osc = 0.0;
        phistep = 0.0;
      } else {
        osc = phistep;
        phisteps = 2;
      }
    } else {
      if (phistep <= 0.0) {
        phisteps = 2;
        phistep = osc / 2.0;
      } else {
        phisteps = static_cast<int>(std::ceil(osc / phistep));
      }
    }
  } else {
    if (phisteps == 0) phisteps = 1;
    if (osc < 0.0) {
      if (phistep <= 0.0) {
        osc = 1.0 / rtd;
        phistep = osc / phisteps;
      } else {
        osc = phistep;
        phisteps = 2;
      }
    } else if (phistep < 0.0) {
      phistep = osc / phisteps;
    }
  }
}

}  // namespace

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

void prepare_simulation(const SimConfig& cfg, PreparedSimulation& out, bool write_cache) {
  DetectorConfig d = cfg.detector;
  BeamConfig bm = cfg.beam;
  CrystalConfig cr = cfg.crystal;
  SamplingConfig smp = cfg.sampling;
  KernelParams& p = out.params;
  const Quirks& q = cfg.quirks;
  auto& log = out.log;
  TraceSink tr{out.geometry_trace};

  // ---- detector size.
  if (!(d.pixel_size > 0)) throw nbtrace::UsageError("impossible geometry: -pixel must be > 0");
  if (d.fpixels) d.detsize_f = d.pixel_size * d.fpixels;
  if (d.spixels) d.detsize_s = d.pixel_size * d.spixels;
  const int fpixels = static_cast<int>(std::ceil(d.detsize_f / d.pixel_size - 0.5));
  const int spixels = static_cast<int>(std::ceil(d.detsize_s / d.pixel_size - 0.5));
  if (fpixels <= 0 || spixels <= 0)
    throw nbtrace::UsageError("impossible geometry: detector has " + std::to_string(fpixels) + "x" +
                              std::to_string(spixels) + " pixels");
  if (!(d.distance > 0) && std::isnan(d.close_distance))
    throw nbtrace::UsageError("impossible geometry: -distance must be > 0");

  // ---- fluence from flux, exposure and beam size.
  if (bm.flux != 0.0 && bm.exposure > 0.0 && bm.beamsize >= 0)
    bm.fluence = bm.flux * bm.exposure / bm.beamsize / bm.beamsize;
  if (bm.beamsize >= 0) {
    // The beam only lights this much of the crystal (reference wording).
    if (bm.beamsize < cr.sample_y) {
      log.push_back("WARNING: clipping sample (" + fmt_g(cr.sample_y) + " m high) with beam (" + fmt_g(bm.beamsize) +
                    " m)");
      cr.sample_y = bm.beamsize;
    }
    if (bm.beamsize < cr.sample_z) {
      log.push_back("WARNING: clipping sample (" + fmt_g(cr.sample_z) + " m wide) with beam (" + fmt_g(bm.beamsize) +
                    " m)");
      cr.sample_z = bm.beamsize;
    }
  }
  // The flux consistent with the fluence actually used (reported only).
  if (bm.exposure > 0.0) bm.flux = bm.fluence / bm.exposure * bm.beamsize * bm.beamsize;
  out.fluence = bm.fluence;
  out.flux = bm.flux;

  // ---- beam centre defaults (m).
  double Fclose = kNotGiven, Sclose = kNotGiven, Fbeam = kNotGiven, Sbeam = kNotGiven;
  if (!std::isnan(d.ORGX)) Fclose = (d.ORGX - 0.5) * d.pixel_size;
  if (!std::isnan(d.ORGY)) Sclose = (d.ORGY - 0.5) * d.pixel_size;
  if (std::isnan(Fclose)) Fclose = (d.detsize_f - 0 * d.pixel_size) / 2.0;
  if (std::isnan(Sclose)) Sclose = (d.detsize_s + 0 * d.pixel_size) / 2.0;
  if (std::isnan(d.Xclose)) d.Xclose = Fclose;
  if (std::isnan(d.Yclose)) d.Yclose = Sclose;
  Fbeam = Fclose;
  Sbeam = Sclose;
  // Region of interest, inclusive; -1 stands for the detector's edge.
  const int roi_fmin = d.roi[0] < 0 ? 0 : d.roi[0];
  const int roi_fmax = d.roi[1] < 0 ? fpixels : d.roi[1];
  const int roi_smin = d.roi[2] < 0 ? 0 : d.roi[2];
  const int roi_smax = d.roi[3] < 0 ? spixels : d.roi[3];
  if (roi_fmin > std::min(roi_fmax, fpixels - 1) || roi_smin > std::min(roi_smax, spixels - 1))
    throw nbtrace::UsageError("-roi " + std::to_string(d.roi[0]) + " " + std::to_string(d.roi[1]) + " " +
                              std::to_string(d.roi[2]) + " " + std::to_string(d.roi[3]) +
                              " selects no pixel of the " + std::to_string(fpixels) + "x" +
                              std::to_string(spixels) + " detector");

  Vec3 beam = bm.beam, fdet = d.fdet, sdet = d.sdet, odet = d.odet;
  Vec3 twotheta_axis = d.twotheta_axis, polar_vector = bm.polar_vector, spindle = cr.spindle;
  Pivot pivot = d.pivot;
  double Xbeam = d.Xbeam, Ybeam = d.Ybeam;
  switch (d.convention) {
    case Convention::adxv:
      // First pixel at (0,0); Y measured from the far edge.
      if (std::isnan(Xbeam)) Xbeam = (d.detsize_f + d.pixel_size) / 2.0;
      if (std::isnan(Ybeam)) Ybeam = (d.detsize_s - d.pixel_size) / 2.0;
      beam = {0, 0, 1}; fdet = {1, 0, 0}; sdet = {0, -1, 0}; odet = {0, 0, 1};
      twotheta_axis = {-1, 0, 0}; polar_vector = {1, 0, 0}; spindle = {1, 0, 0};
      Fbeam = Xbeam;
      Sbeam = d.detsize_s - Ybeam;
      pivot = Pivot::beam;
      break;
    case Convention::mosflm:
    case Convention::denzo: {
      // X runs along slow. MOSFLM puts the first pixel's centre at (0.5,0.5)
      // pixels, DENZO its corner.
      const double half_pixel = d.convention == Convention::mosflm ? 0.5 : 0.0;
      if (std::isnan(Xbeam)) Xbeam = (d.detsize_s + d.pixel_size) / 2.0;
      if (std::isnan(Ybeam)) Ybeam = (d.detsize_f + d.pixel_size) / 2.0;
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
      if (std::isnan(Xbeam)) Xbeam = d.Xclose;
      if (std::isnan(Ybeam)) Ybeam = d.Yclose;
      beam = {0, 0, 1}; fdet = {1, 0, 0}; sdet = {0, 1, 0}; odet = {0, 0, 1};
      const Vec3 axis = d.convention == Convention::xds ? Vec3{1, 0, 0} : Vec3{0, 1, 0};
      twotheta_axis = axis; polar_vector = axis; spindle = axis;
      Fbeam = Xbeam;
      Sbeam = Ybeam;
      pivot = Pivot::sample;
      break;
    }
    case Convention::custom:
      if (std::isnan(Xbeam)) Xbeam = d.Xclose;
      if (std::isnan(Ybeam)) Ybeam = d.Yclose;
      Fbeam = Xbeam;
      Sbeam = Ybeam;
      Fclose = Xbeam;
      Sclose = Ybeam;
      break;
  }

  // The reference lets the convention override -pivot; the spec lets an
  // explicit -pivot override the convention's default (C-PARITY-005).
  if (!q.convention_overrides_pivot && d.explicit_pivot) pivot = *d.explicit_pivot;

  // ---- unit vectors; a normal that is not unit length is rebuilt from f x s.
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

  // ---- structure factors present?
  const bool have_hkl_file = !cr.hkl_file.empty();
  const bool have_fdump = !have_hkl_file && std::filesystem::exists(cfg.fdump_file);
  if (!have_hkl_file && !have_fdump && cr.default_F == 0.0)
    throw nbtrace::UsageError("no structure factors: give -hkl FILE or -default_F F (no " + cfg.fdump_file + " cache either)");
  if (cr.mat_file.empty() && !(cr.cell && cr.cell->a != 0.0))
    throw nbtrace::UsageError("no unit cell: give -mat FILE or -cell a b c alpha beta gamma");

  // ---- phi sampling.
  int phisteps = cr.phisteps;
  double osc = cr.osc, phistep = cr.phistep;
  resolve_phi_steps(phisteps, osc, phistep);

  // ---- divergence, dispersion and sensor-thickness sampling.
  resolve_steps(bm.hdivsteps, bm.hdivrange, bm.hdivstep, 1.0, false);
  resolve_steps(bm.vdivsteps, bm.vdivrange, bm.vdivstep, 1.0, false);
  resolve_steps(bm.dispsteps, bm.dispersion, bm.dispstep, 1.0, false);
  // nanoBragg starts the thickness at 0, not "not given", so -thicksteps or
  // -detector_thickstep alone never switch absorption on there, and a lone
  // thickness gets 2 layers of half its size; the spec resolves thickness
  // like the other ranges (C-PARITY-008).
  if (q.thickness_sampling && d.thick < 0.0) d.thick = 0.0;
  resolve_steps(d.thicksteps, d.thick, d.thickstep, 0.5e-6, q.thickness_sampling);
  if (d.thick > 0.0 && d.mu < 0.0) {
    d.mu = 1.0 / d.thick;
    log.push_back("WARNING: setting detector attenuation depth to " + fmt_g(d.mu) + " m");
  }
  if (bm.hdivrange <= 0.0 || bm.hdivstep <= 0.0 || bm.hdivsteps <= 0) {
    bm.hdivsteps = 1; bm.hdivrange = 0.0; bm.hdivstep = 0.0;
  }
  if (bm.vdivrange <= 0.0 || bm.vdivstep <= 0.0 || bm.vdivsteps <= 0) {
    bm.vdivsteps = 1; bm.vdivrange = 0.0; bm.vdivstep = 0.0;
  }
  if (bm.dispersion <= 0.0 || bm.dispstep <= 0.0 || bm.dispsteps <= 0) {
    bm.dispsteps = 1; bm.dispersion = 0.0; bm.dispstep = 0.0;
  }
  if (d.thick <= 0.0 || d.thickstep <= 0.0 || d.thicksteps <= 0) {
    d.thicksteps = 1; d.thick = 0.0; d.thickstep = 0.0;
  }
  if (d.mu < 0) d.mu = 0;

  // ---- mosaic domains: a spread without a count means 10 domains.
  double mosaic_spread = cr.mosaic_spread;
  int mosaic_domains = cr.mosaic_domains;
  if (mosaic_domains <= 0) {
    if (mosaic_spread < 0.0) {
      mosaic_domains = 1;
      mosaic_spread = 0.0;
    } else if (mosaic_spread == 0.0) {
      mosaic_domains = 1;
    } else {
      log.push_back("WARNING: finite mosaicity with only one domain! upping to 10 mosaic domains");
      mosaic_domains = 10;
    }
  } else if (mosaic_spread < 0.0) {
    log.push_back("WARNING: no mosaic spread specified.  setting mosaic_domains = 1");
    mosaic_spread = 0.0;
    mosaic_domains = 1;
  } else if (mosaic_spread == 0.0) {
    log.push_back("WARNING: zero mosaic spread specified.  setting mosaic_domains = 1");
    mosaic_domains = 1;
  }

  // ---- detector placement.
  log.push_back(std::string(d.convention == Convention::adxv     ? "adxv"
                            : d.convention == Convention::mosflm ? "mosflm"
                            : d.convention == Convention::xds    ? "xds"
                            : d.convention == Convention::dials  ? "dials"
                            : d.convention == Convention::denzo  ? "denzo"
                                                                 : "custom") +
                " convention selected.");
  double ratio = dot(beam, rotate_xyz(odet, d.rotx, d.roty, d.rotz));
  if (ratio == 0.0) ratio = DBL_MIN;
  double close_distance = d.close_distance;
  double distance = d.distance;
  if (std::isnan(close_distance)) close_distance = std::fabs(ratio * distance);
  distance = close_distance / ratio;

  const Vec3 initial_f = fdet, initial_s = sdet, initial_o = odet;
  auto angles_text = [&] {
    return "rotx:" + g17(d.rotx) + " roty:" + g17(d.roty) + " rotz:" + g17(d.rotz) +
           " twotheta:" + g17(d.twotheta);
  };
  Vec3 pix0;
  if (pivot == Pivot::sample) {
    log.push_back("pivoting detector around sample");
    tr.text("detector_convention", convention_name(d.convention));
    tr.text("angles_rad", angles_text());
    // The reference divides these metre values by 1000 again; kept for comparable traces.
    tr.text("beam_center_m", "Xclose:" + g17(d.Xclose / 1000.0) + " Yclose:" + g17(d.Yclose / 1000.0) +
                                 " pixel_mm:" + g17(d.pixel_size * 1000.0));
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

  if (pivot == Pivot::beam) {
    log.push_back("pivoting detector around direct beam spot");
    // The reference's trace labels every BEAM pivot MOSFLM and prints
    // MOSFLM's initial axes (C-TRACE-001).
    const bool as_mosflm = q.beam_pivot_trace_mosflm;
    tr.text("detector_convention", as_mosflm ? std::string("MOSFLM") : convention_name(d.convention));
    tr.text("angles_rad", angles_text());
    tr.text("beam_center_m", "X:" + g17(Xbeam / 1000.0) + " Y:" + g17(Ybeam / 1000.0) +
                                 " pixel_mm:" + g17(d.pixel_size * 1000.0));
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
    tr.scalar("Fbeam_m", Fbeam);
    tr.scalar("Sbeam_m", Sbeam);
    tr.scalar("distance_m", distance);
    tr.vec("term_fast", {-Fbeam * fdet.x, -Fbeam * fdet.y, -Fbeam * fdet.z});
    tr.vec("term_slow", {-Sbeam * sdet.x, -Sbeam * sdet.y, -Sbeam * sdet.z});
    tr.vec("term_beam", distance * beam);
    pix0 = {-Fbeam * fdet.x - Sbeam * sdet.x + distance * beam.x,
            -Fbeam * fdet.y - Sbeam * sdet.y + distance * beam.y,
            -Fbeam * fdet.z - Sbeam * sdet.z + distance * beam.z};
    tr.vec("pix0_vector", pix0);
  }

  // Closest approach and where the direct beam lands now.
  Fclose = -dot(pix0, fdet);
  Sclose = -dot(pix0, sdet);
  close_distance = dot(pix0, odet);
  const Vec3 to_beam{close_distance / ratio * beam.x - pix0.x, close_distance / ratio * beam.y - pix0.y,
                     close_distance / ratio * beam.z - pix0.z};
  Fbeam = dot(fdet, to_beam);
  Sbeam = dot(sdet, to_beam);
  distance = close_distance / ratio;
  if (!(std::fabs(close_distance) > 0))
    throw nbtrace::UsageError("impossible geometry: the detector plane passes through the sample");

  int interpolate = cr.interpolate;
  if (interpolate > 1) interpolate = (cr.Na <= 2 || cr.Nb <= 2 || cr.Nc <= 2) ? 1 : 0;

  // ---- crystal.
  if (cr.random_misset) {
    // A random orientation: a rotation about a random axis by up to the cap
    // angle, turned into misset angles. nanoBragg passes the cap as 90
    // (radians, C-PARITY-006); the spec means 90 degrees.
    ReferenceRandom rng(cr.misset_seed ? *cr.misset_seed : -static_cast<long>(std::time(nullptr)));
    double umat[9];
    random_cap_rotation(q.misset_random_cap_radians ? 90.0f : static_cast<float>(90.0 / detail::kRadToDeg), rng, umat);
    cr.misset = rotation_to_misset(umat);
    char line[160];
    std::snprintf(line, sizeof line, "random orientation misset angles: %f %f %f deg",
                  cr.misset->x * detail::kRadToDeg, cr.misset->y * detail::kRadToDeg, cr.misset->z * detail::kRadToDeg);
    log.push_back(line);
  }
  const CellVectors cell = build_cell(cr, bm.lambda0, q, log);
  const Vec3 a0 = cell.a, b0 = cell.b, c0 = cell.c;
  const Vec3 a_star = cell.a_star, b_star = cell.b_star, c_star = cell.c_star;

  double Na = cr.Na, Nb = cr.Nb, Nc = cr.Nc;
  if (cr.sample_x > 0) Na = std::ceil(cr.sample_x / magnitude(a0));
  if (cr.sample_y > 0) Nb = std::ceil(cr.sample_y / magnitude(b0));
  if (cr.sample_z > 0) Nc = std::ceil(cr.sample_z / magnitude(c0));
  if (Na <= 1.0) Na = 1.0;
  if (Nb <= 1.0) Nb = 1.0;
  if (Nc <= 1.0) Nc = 1.0;
  const double xtal_a = magnitude(a0) * Na, xtal_b = magnitude(b0) * Nb, xtal_c = magnitude(c0) * Nc;
  double xtal_max = xtal_a;
  if (xtal_max < xtal_b) xtal_max = xtal_b;
  if (xtal_max < xtal_c) xtal_max = xtal_c;
  // Sub-pixels so that a spot (lambda*distance/size wide) spans >= 3 of them.
  const double reciprocal_pixel_size = bm.lambda0 * distance / d.pixel_size;
  int recommended = static_cast<int>(std::ceil(3.0 * xtal_max / reciprocal_pixel_size));
  if (recommended <= 0) recommended = 1;
  int oversample = smp.oversample;
  if (oversample <= 0) {
    oversample = recommended;
    out.auto_oversample = oversample;
    log.push_back("auto-selected " + std::to_string(oversample) + "-fold oversampling");
  }

  // ---- structure factors.
  if (have_hkl_file) {
    out.hkl = load_hkl_text(cr.hkl_file, cr.default_F);
    for (auto& w : out.hkl.warnings) log.push_back(w);
  } else if (have_fdump) {
    log.push_back("reading Fs from " + cfg.fdump_file);
    out.hkl = read_fdump(cfg.fdump_file);
  }
  if (out.hkl.reflections == 0) interpolate = 0;

  // ---- sources.
  out.sources = make_sources(bm, beam, polar_vector, vert_vector, q, log);
  // Domain orientations from the reference's generator; the first domain is
  // forced to the unrotated crystal (after drawing its numbers, as the
  // reference does).
  out.mosaic_umats.assign(9 * static_cast<std::size_t>(mosaic_domains), 0.0);
  {
    ReferenceRandom rng(cr.mosaic_seed);
    for (int m = 0; m < mosaic_domains; ++m)
      random_cap_rotation(static_cast<float>(mosaic_spread), rng, out.mosaic_umats.data() + 9 * m);
    const double identity[9] = {1, 0, 0, 0, 1, 0, 0, 0, 1};
    std::copy(identity, identity + 9, out.mosaic_umats.begin());
  }

  // ---- kernel parameters.
  p.fpixels = fpixels;
  p.spixels = spixels;
  p.roi_fmin = roi_fmin;
  p.roi_fmax = roi_fmax;
  p.roi_smin = roi_smin;
  p.roi_smax = roi_smax;
  p.pixel_size = d.pixel_size;
  p.oversample = oversample;
  p.subpixel_size = d.pixel_size / oversample;
  p.fdet = fdet;
  p.sdet = sdet;
  p.odet = odet;
  p.pix0 = pix0;
  p.beam = beam;
  p.distance = distance;
  p.close_distance = close_distance;
  p.curved = d.curved;
  p.point_pixel = d.point_pixel;
  p.thicksteps = d.thicksteps;
  p.thickstep = d.thickstep;
  p.thick = d.thick;
  p.mu = d.mu;
  p.oversample_thick = smp.oversample_thick;
  p.oversample_polar = smp.oversample_polar;
  p.oversample_omega = smp.oversample_omega;
  p.sources = out.sources.data();
  p.num_sources = static_cast<int>(out.sources.size());
  p.kahn = bm.kahn;
  p.nopolar = bm.nopolar;
  p.polar_vector = polar_vector;
  p.fluence = bm.fluence;
  p.r_e_sqr = kRe2;
  p.I_bg = kWaterF * kWaterF * kRe2 * bm.fluence * cr.water_size * cr.water_size * cr.water_size * 1e6 *
           kAvogadro / kWaterMW;
  p.dmin = cr.dmin;
  p.a0 = a0;
  p.b0 = b0;
  p.c0 = c0;
  p.a_star = a_star;
  p.b_star = b_star;
  p.c_star = c_star;
  p.Na = Na;
  p.Nb = Nb;
  p.Nc = Nc;
  p.shape = cr.shape;
  p.fudge = cr.fudge;
  p.phisteps = phisteps;
  p.phi0 = cr.phi0;
  p.phistep = phistep;
  p.spindle = spindle;
  p.mosaic_umats = out.mosaic_umats.data();
  p.mosaic_domains = mosaic_domains;
  p.mosaic_spread = mosaic_spread;
  p.water_size = cr.water_size;
  p.hkl = out.hkl.view(cr.default_F);
  p.interpolate = interpolate != 0;
  p.interp_stop_default_F = !q.interp_stop_nearest;  // C-PARITY-007
  out.quirks = q;
  p.phi_carry = q.phi_carry;  // C-PARITY-001
  // The first pixel the reference renders: the first unmasked one of the ROI.
  p.first_spixel = roi_smin;
  p.first_fpixel = roi_fmin;
  if (!d.mask.empty()) {
    if (d.mask_fpixels != fpixels || d.mask_spixels != spixels)
      throw nbtrace::UsageError((d.mask_file.empty() ? std::string() : d.mask_file + ": ") + "the -mask image is " +
                                std::to_string(d.mask_fpixels) + "x" +
                                std::to_string(d.mask_spixels) + " pixels but the detector " +
                                std::to_string(fpixels) + "x" + std::to_string(spixels));
    out.mask = d.mask;
    p.mask = out.mask.data();
    bool found = false;
    for (int s = std::max(roi_smin, 0); s <= std::min(roi_smax, spixels - 1) && !found; ++s)
      for (int f = std::max(roi_fmin, 0); f <= std::min(roi_fmax, fpixels - 1) && !found; ++f)
        if (out.mask[static_cast<std::size_t>(s) * fpixels + f] != 0) {
          p.first_spixel = s;
          p.first_fpixel = f;
          found = true;
        }
  }
  // The orientation a full phi sweep leaves: the last step with phi != 0.
  p.carry_a = a0;
  p.carry_b = b0;
  p.carry_c = c0;
  out.phi_cells.assign(3 * static_cast<std::size_t>(phisteps), Vec3{});
  for (int tic = 0; tic < phisteps; ++tic) {
    const double phi = cr.phi0 + phistep * tic;
    if (phi != 0.0) {
      out.phi_cells[3 * tic] = p.carry_a = rotate_about_axis(a0, spindle, phi);
      out.phi_cells[3 * tic + 1] = p.carry_b = rotate_about_axis(b0, spindle, phi);
      out.phi_cells[3 * tic + 2] = p.carry_c = rotate_about_axis(c0, spindle, phi);
    }
  }
  p.phi_cells = out.phi_cells.data();
  p.steps = p.num_sources * p.mosaic_domains * phisteps * oversample * oversample;
  if (p.phi_carry && p.dmin > 0.0) {
    // The carry starts at the first pixel whose phi loop runs at all.
    bool found = false;
    for (int s = std::max(p.first_spixel, 0); s <= std::min(roi_smax, spixels - 1) && !found; ++s)
      for (int f = (s == p.first_spixel ? p.first_fpixel : std::max(roi_fmin, 0));
           f <= std::min(roi_fmax, fpixels - 1) && !found; ++f)
        if (pixel_reaches_phi_loop(p, s, f)) {
          p.first_spixel = s;
          p.first_fpixel = f;
          found = true;
        }
  }

  out.convention = d.convention;
  out.pivot = pivot;
  out.Xbeam = Xbeam;
  out.Ybeam = Ybeam;
  out.Fbeam = Fbeam;
  out.Sbeam = Sbeam;
  out.Fclose = Fclose;
  out.Sclose = Sclose;
  out.detsize_f = d.detsize_f;
  out.detsize_s = d.detsize_s;
  out.lambda0 = bm.lambda0;
  out.phi0 = cr.phi0;
  out.osc = osc;
  out.twotheta = d.twotheta;

  // Last, once everything is validated: the structure-factor cache for the
  // next run without -hkl (as the reference writes it).
  if (have_hkl_file && write_cache) {
    nbtrace::write_file_atomic(cfg.fdump_file, encode_fdump(out.hkl));
    log.push_back("writing dump file for next time: " + cfg.fdump_file);
  }
}

}  // namespace nbsim
