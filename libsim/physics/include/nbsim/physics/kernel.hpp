#pragma once
// The per-pixel physics shared by every backend: one pure function that
// turns the prepared parameters into the photons of one detector pixel.
// The parameters are plain data (pointers into host or device memory, no
// std:: containers) so the same code runs in the CPU launcher and, later,
// in a CUDA kernel. A trace is the same function instantiated with a
// recording sink; the production instantiation uses NullRecorder, whose
// calls compile away.
#include <cmath>

#include "nbsim/physics/hd.hpp"
#include "nbsim/physics/detector.hpp"
#include "nbsim/physics/interpolation.hpp"
#include "nbsim/physics/lattice.hpp"
#include "nbsim/physics/polarization.hpp"
#include "nbsim/physics/rotation.hpp"
#include "nbsim/physics/vec3.hpp"

namespace nbsim {

/// One incident-beam source: unit direction from the sample towards the
/// source (the beam travels along -direction) and its wavelength (m).
/// Sources count equally (the reference reads a weight and ignores it).
struct Source {
  Vec3 direction;
  double lambda = 0;
};

/// Structure factors on a dense grid [h_min..h_max] x [k_min..k_max] x
/// [l_min..l_max], l fastest.
struct HklView {
  const double* values = nullptr;
  int h_min = 0, h_max = -1, k_min = 0, k_max = -1, l_min = 0, l_max = -1;
  bool loaded = false;  ///< false: every lookup gives default_F
  double default_F = 0;

  NB_HD double at(int h, int k, int l) const {
    const long kn = k_max - k_min + 1, ln = l_max - l_min + 1;
    return values[((long)(h - h_min) * kn + (k - k_min)) * ln + (l - l_min)];
  }
  NB_HD bool contains(int h, int k, int l) const {
    return h <= h_max && h >= h_min && k <= k_max && k >= k_min && l <= l_max && l >= l_min;
  }
  /// Nearest-neighbour value at the whole indices, default_F off the grid.
  NB_HD double nearest(int h0, int k0, int l0) const {
    return (loaded && contains(h0, k0, l0)) ? at(h0, k0, l0) : default_F;
  }
  /// Tricubic value at fractional (h,k,l) from the 4x4x4 grid points
  /// floor-1 .. floor+2; false (F untouched) when they leave the grid.
  template <class T>
  NB_HD bool tricubic_at(T h, T k, T l, T& F) const {
    if ((h - static_cast<T>(h_min) + T(3)) > static_cast<T>(h_max - h_min + 1) || (h - T(2) < static_cast<T>(h_min)) ||
        (k - static_cast<T>(k_min) + T(3)) > static_cast<T>(k_max - k_min + 1) || (k - T(2) < static_cast<T>(k_min)) ||
        (l - static_cast<T>(l_min) + T(3)) > static_cast<T>(l_max - l_min + 1) || (l - T(2) < static_cast<T>(l_min)))
      return false;
    const int hf = static_cast<int>(std::floor(h));
    const int kf = static_cast<int>(std::floor(k));
    const int lf = static_cast<int>(std::floor(l));
    T hx[4], kx[4], lx[4], grid[4][4][4];
    for (int i = 0; i < 4; ++i) {
      hx[i] = static_cast<T>(hf - 1 + i);
      kx[i] = static_cast<T>(kf - 1 + i);
      lx[i] = static_cast<T>(lf - 1 + i);
    }
    for (int i = 0; i < 4; ++i)
      for (int j = 0; j < 4; ++j)
        for (int m = 0; m < 4; ++m) grid[i][j][m] = static_cast<T>(at(hf - 1 + i, kf - 1 + j, lf - 1 + m));
    F = tricubic(hx, kx, lx, grid, h, k, l);
    return true;
  }
};

/// interp_stop_pixel when interpolation never runs out of grid.
inline constexpr long kNeverStops = 0x7fffffffffffffffL;

/// Everything the pixel loop needs, resolved and in SI units (m, rad, m^-1
/// for scattering vectors; reciprocal vectors in 1/Angstrom).
struct KernelParams {
  // Detector.
  int fpixels = 0, spixels = 0;
  int roi_fmin = 0, roi_fmax = 0, roi_smin = 0, roi_smax = 0;  ///< inclusive
  const unsigned short* mask = nullptr;  ///< fpixels*spixels; 0 = skip the pixel (not rendered, not counted)
  double pixel_size = 0;     ///< m
  int oversample = 1;        ///< sub-pixels per pixel edge
  double subpixel_size = 0;  ///< m
  Vec3 fdet, sdet, odet, pix0;
  Vec3 beam;                  ///< unit beam direction
  double distance = 0;        ///< sample to beam spot along the beam (m)
  double close_distance = 0;  ///< sample to detector plane along its normal (m)
  bool curved = false;
  bool point_pixel = false;
  int thicksteps = 1;
  double thickstep = 0;  ///< m
  double thick = 0;      ///< sensor thickness (m); 0: no absorption model
  double mu = 0;         ///< sensor attenuation (1/m)
  bool oversample_thick = false, oversample_polar = false, oversample_omega = false;

  // Beam.
  const Source* sources = nullptr;
  int num_sources = 0;
  double kahn = 0;  ///< Kahn polarization factor
  bool nopolar = false;
  Vec3 polar_vector;
  double fluence = 0;  ///< photons/m^2
  double r_e_sqr = 0;  ///< m^2
  double I_bg = 0;     ///< background added to every pixel before scaling
  double dmin = 0;     ///< m; 0 = no resolution cut

  // Crystal.
  Vec3 a0, b0, c0;                  ///< real-space cell at phi = 0 (m)
  Vec3 a_star, b_star, c_star;      ///< reciprocal cell (1/Angstrom)
  double Na = 1, Nb = 1, Nc = 1;
  CrystalShape shape = CrystalShape::square;
  double fudge = 1;
  int phisteps = 1;
  double phi0 = 0, phistep = 0;  ///< rad
  Vec3 spindle;
  /// a, b, c rotated to each phi step (3 per step), the same for every
  /// pixel, so computed once; entries of steps with phi = 0 are unused.
  const Vec3* phi_cells = nullptr;
  const double* mosaic_umats = nullptr;  ///< 9 per domain, row-major
  int mosaic_domains = 1;
  double mosaic_spread = 0;
  double water_size = 0;  ///< m; >0 keeps sub-paths with F_latt = 0

  HklView hkl;
  bool interpolate = false;
  /// Interpolation is switched off for good at the first evaluation whose
  /// 4x4x4 neighbourhood leaves the grid (reference and spec behaviour):
  /// evaluation interp_stop_eval of pixel interp_stop_pixel (index
  /// s*fpixels+f, the reference's single-thread order) and everything after
  /// it use nearest-neighbour look-up. Found by a first pass over the image.
  long interp_stop_pixel = kNeverStops;
  int interp_stop_eval = 0;
  /// true: the evaluation that stops interpolation takes default_F (the
  /// spec, AT-STR-002); false, with quirk C-PARITY-007: nearest neighbour,
  /// as the reference's fall-through does.
  bool interp_stop_default_F = false;

  /// Quirk C-PARITY-001: at a phi step with phi = 0 keep the orientation
  /// left by the previous sub-path. The first pixel a reference thread
  /// renders starts from the phi = 0 cell; every later one starts from
  /// carry_a/b/c, the orientation a complete phi sweep leaves behind.
  bool phi_carry = false;
  Vec3 carry_a, carry_b, carry_c;
  /// nanoBragg.c's OpenMP threads (-c_threads): it splits the rows among
  /// them as libgomp's static schedule does (schedule(auto)), and each
  /// thread carries its own orientation, so each thread's first pixel
  /// starts afresh. 1: the single-thread order.
  static constexpr int kMaxReferenceThreads = 64;
  int reference_threads = 1;
  /// The first pixel each reference thread renders (-1: it renders none).
  int thread_first_spixel[kMaxReferenceThreads] = {0};
  int thread_first_fpixel[kMaxReferenceThreads] = {0};

  int steps = 1;  ///< sources * domains * phisteps * oversample^2
};

/// The reference thread that renders row `spixel` of `spixels` when its
/// rows are split among `threads` as libgomp's static schedule splits a
/// loop: the first (spixels % threads) threads take one row more, each a
/// contiguous block in order.
NB_HD inline int reference_thread_of_row(int spixel, int spixels, int threads) {
  if (threads <= 1) return 0;
  const int q = spixels / threads, r = spixels % threads;
  const int long_rows = r * (q + 1);  // rows of the threads that take q + 1
  return spixel < long_rows ? spixel / (q + 1) : r + (spixel - long_rows) / q;
}

/// The first row of reference thread `t` (spixels when it has none).
NB_HD inline int reference_thread_first_row(int t, int spixels, int threads) {
  if (threads <= 1) return t == 0 ? 0 : spixels;
  const int q = spixels / threads, r = spixels % threads;
  return t < r ? t * (q + 1) : r * (q + 1) + (t - r) * q;
}

/// Whether (spixel, fpixel) is the first pixel its reference thread renders
/// (where, under C-PARITY-001, the orientation is not carried).
NB_HD inline bool is_thread_first_pixel(const KernelParams& p, int spixel, int fpixel) {
  const int t = reference_thread_of_row(spixel, p.spixels, p.reference_threads);
  return spixel == p.thread_first_spixel[t] && fpixel == p.thread_first_fpixel[t];
}

/// Receives nothing; the production instantiation.
struct NullRecorder {
  static constexpr bool active = false;
};

/// Result of one pixel: the float image value and what the statistics need.
struct PixelResult {
  bool masked = false;  ///< skipped by the mask
  float value = 0;
  double omega_sum = 0;  ///< sum of omega over its sub-pixels (for the solid-angle report)
  int first_outside_eval = -1;  ///< first structure-factor evaluation outside the interpolation grid
};

namespace detail {
inline constexpr double kPi = 3.14159265358979323846;
/// The reference's RTD = 180*M_1_PI; angles are printed as phi*RTD.
inline constexpr double kRadToDeg = 180.0 * 0.31830988618379067154;
}  // namespace detail

/// Whether any sub-path of the pixel reaches the phi loop: a -dmin cut can
/// skip them all, and then (C-PARITY-001) the pixel leaves the carried
/// orientation untouched.
NB_HD inline bool pixel_reaches_phi_loop(const KernelParams& p, int spixel, int fpixel) {
  if (p.mask && p.mask[static_cast<long>(spixel) * p.fpixels + fpixel] == 0) return false;
  if (!(p.dmin > 0.0)) return true;
  for (int thick_tic = 0; thick_tic < p.thicksteps; ++thick_tic) {
    const double Odet = thick_tic * p.thickstep;
    for (int subS = 0; subS < p.oversample; ++subS) {
      for (int subF = 0; subF < p.oversample; ++subF) {
        const double Fdet = p.subpixel_size * (fpixel * p.oversample + subF) + p.subpixel_size / 2.0;
        const double Sdet = p.subpixel_size * (spixel * p.oversample + subS) + p.subpixel_size / 2.0;
        Vec3 diffracted;
        unitize(detector_position(Fdet, Sdet, Odet, p.fdet, p.sdet, p.odet, p.pix0, p.curved, p.distance, p.beam),
                diffracted);
        for (int source = 0; source < p.num_sources; ++source) {
          const Vec3 incident = -p.sources[source].direction;
          const double lambda = p.sources[source].lambda;
          const Vec3 scattering{(diffracted.x - incident.x) / lambda, (diffracted.y - incident.y) / lambda,
                                (diffracted.z - incident.z) / lambda};
          const double stol = 0.5 * magnitude(scattering);
          if (!(stol > 0.0 && p.dmin > 0.5 / stol)) return true;
        }
      }
    }
  }
  return false;
}

/// Photons in pixel (spixel, fpixel), computed in number type T (double:
/// the reference's arithmetic; float: -dtype float32). The parameters stay
/// double and are rounded to T where they are used; the running intensity
/// sum, the solid-angle sum and the final scaling stay double (a float sum
/// of thousands of terms of very different sizes would lose 1e-4 relative,
/// and r_e^2 * fluence spans 1e-12..1e-30). `rec` sees the intermediate
/// values when Rec::active.
template <class T = double, class Rec>
NB_HD PixelResult compute_pixel(const KernelParams& p, int spixel, int fpixel, Rec& rec) {
  using V = Vec3T<T>;
  PixelResult out;
  if (p.mask && p.mask[static_cast<long>(spixel) * p.fpixels + fpixel] == 0) {
    out.masked = true;
    return out;
  }
  double I = p.I_bg;
  T polar = p.nopolar ? T(1) : T(0);
  T omega_pixel = 0;
  T capture_fraction = 0;
  V incident, diffracted;
  const V fdet = vec_cast<T>(p.fdet), sdet = vec_cast<T>(p.sdet), odet = vec_cast<T>(p.odet);
  const V pix0 = vec_cast<T>(p.pix0), beam = vec_cast<T>(p.beam), polar_vector = vec_cast<T>(p.polar_vector);
  const V a_star = vec_cast<T>(p.a_star), b_star = vec_cast<T>(p.b_star), c_star = vec_cast<T>(p.c_star);
  const T subpixel_size = static_cast<T>(p.subpixel_size), thickstep = static_cast<T>(p.thickstep);
  const T Na = static_cast<T>(p.Na), Nb = static_cast<T>(p.Nb), Nc = static_cast<T>(p.Nc);
  // Without tricubic interpolation the structure factor depends on the
  // whole indices alone: look it up first and skip the lattice factor when
  // it is 0 (the term is +0 for any finite F_latt, so the sum is the same to
  // the bit) unless a zero F_latt would change what follows (the running-sum
  // factors are skipped with it).
  const bool scales_running_sum = p.oversample_thick || p.oversample_polar || p.oversample_omega;
  const bool skip_zero_F = !Rec::active && !p.interpolate && (!scales_running_sum || p.water_size != 0.0);

  // Orientation carried between sub-paths (C-PARITY-001) or reset (spec).
  const bool first = is_thread_first_pixel(p, spixel, fpixel);
  V ap = vec_cast<T>((p.phi_carry && !first) ? p.carry_a : p.a0);
  V bp = vec_cast<T>((p.phi_carry && !first) ? p.carry_b : p.b0);
  V cp = vec_cast<T>((p.phi_carry && !first) ? p.carry_c : p.c0);

  const long pixel_index = static_cast<long>(spixel) * p.fpixels + fpixel;
  int evaluation = 0;  // structure-factor evaluations so far in this pixel
  for (int thick_tic = 0; thick_tic < p.thicksteps; ++thick_tic) {
    const T Odet = static_cast<T>(thick_tic) * thickstep;
    capture_fraction = 0;
    if (p.thick == 0.0) capture_fraction = 1;

    for (int subS = 0; subS < p.oversample; ++subS) {
      for (int subF = 0; subF < p.oversample; ++subF) {
        // Sub-pixel centre on the detector (m from the first pixel's corner).
        const T Fdet = subpixel_size * static_cast<T>(fpixel * p.oversample + subF) + subpixel_size / T(2);
        const T Sdet = subpixel_size * static_cast<T>(spixel * p.oversample + subS) + subpixel_size / T(2);
        const V pixel_pos = detector_position(Fdet, Sdet, Odet, fdet, sdet, odet, pix0, p.curved,
                                              static_cast<T>(p.distance), beam);
        const T airpath = unitize(pixel_pos, diffracted);
        // Solid angle and absorption once per pixel unless oversampled.
        if (omega_pixel == T(0) || p.oversample_omega)
          omega_pixel = pixel_solid_angle(static_cast<T>(p.pixel_size), airpath, static_cast<T>(p.close_distance),
                                          p.point_pixel);
        out.omega_sum += static_cast<double>(omega_pixel);
        if (capture_fraction == T(0) || p.oversample_thick)
          capture_fraction = layer_capture_fraction(thick_tic, thickstep, static_cast<T>(p.mu), diffracted, odet);

        for (int source = 0; source < p.num_sources; ++source) {
          incident = -vec_cast<T>(p.sources[source].direction);
          const T lambda = static_cast<T>(p.sources[source].lambda);
          const V scattering{(diffracted.x - incident.x) / lambda, (diffracted.y - incident.y) / lambda,
                             (diffracted.z - incident.z) / lambda};
          if constexpr (Rec::active) {
            if (source == 0)
              rec.subpath(p.pix0, p.fdet, p.sdet, pixel_pos, airpath, omega_pixel, p.close_distance, diffracted,
                          incident, lambda, scattering);
          }
          const T stol = T(0.5) * magnitude(scattering);
          if (p.dmin > 0.0 && stol > T(0) && static_cast<T>(p.dmin) > T(0.5) / stol) continue;

          if (polar == T(0) || p.oversample_polar)
            polar = polarization_factor(static_cast<T>(p.kahn), incident, diffracted, polar_vector);

          for (int phi_tic = 0; phi_tic < p.phisteps; ++phi_tic) {
            const double phi = p.phi0 + p.phistep * phi_tic;
            if (phi != 0.0) {
              ap = vec_cast<T>(p.phi_cells[3 * phi_tic]);
              bp = vec_cast<T>(p.phi_cells[3 * phi_tic + 1]);
              cp = vec_cast<T>(p.phi_cells[3 * phi_tic + 2]);
            } else if (!p.phi_carry) {
              ap = vec_cast<T>(p.a0);
              bp = vec_cast<T>(p.b0);
              cp = vec_cast<T>(p.c0);
            }
            for (int mos_tic = 0; mos_tic < p.mosaic_domains; ++mos_tic) {
              V a = ap, b = bp, c = cp;
              if (p.mosaic_spread > 0.0) {
                a = rotate_by_matrix(ap, p.mosaic_umats + 9 * mos_tic);
                b = rotate_by_matrix(bp, p.mosaic_umats + 9 * mos_tic);
                c = rotate_by_matrix(cp, p.mosaic_umats + 9 * mos_tic);
              }
              // Fractional Miller indices and the nearest whole ones.
              const T h = dot(a, scattering);
              const T k = dot(b, scattering);
              const T l = dot(c, scattering);
              const int h0 = static_cast<int>(std::ceil(h - T(0.5)));
              const int k0 = static_cast<int>(std::ceil(k - T(0.5)));
              const int l0 = static_cast<int>(std::ceil(l - T(0.5)));
              const bool traced_step = source == 0 && mos_tic == 0 && phi_tic == 0;
              if constexpr (Rec::active) {
                if (traced_step) rec.orientation(a, b, c, p.a_star, p.b_star, p.c_star, h, k, l, h0, k0, l0);
              }
              T F_cell = 0;
              if (skip_zero_F) {
                F_cell = static_cast<T>(p.hkl.nearest(h0, k0, l0));
                if (F_cell == T(0) && h - h == T(0) && k - k == T(0) && l - l == T(0)) {
                  I += 0.0;  // the +0 term, as the full product gives it (keeps a -0 sum's sign rule)
                  if (p.oversample_thick) I *= static_cast<double>(capture_fraction);
                  if (p.oversample_polar) I *= static_cast<double>(polar);
                  if (p.oversample_omega) I *= static_cast<double>(omega_pixel);
                  continue;
                }
              }

              const LatticeFactorsT<T> lf = lattice_factor(p.shape, h, k, l, h0, k0, l0, Na, Nb, Nc,
                                                           static_cast<T>(p.fudge), a_star, b_star, c_star);
              const T F_latt = lf.total;
              if constexpr (Rec::active) {
                if (p.shape == CrystalShape::square) {
                  if (traced_step) rec.lattice(lf.a, lf.b, lf.c, F_latt);
                  if (source == 0 && mos_tic == 0) rec.phi_step(phi_tic, phi * detail::kRadToDeg, k, lf.b, F_latt);
                }
              }
              if (F_latt == T(0) && p.water_size == 0.0) continue;

              if (!skip_zero_F) {
                // Structure factor: tricubic until the grid first runs out
                // (then nearest neighbour for good), or nearest neighbour throughout.
                const bool interpolating =
                    p.interpolate && (pixel_index < p.interp_stop_pixel ||
                                      (pixel_index == p.interp_stop_pixel && evaluation < p.interp_stop_eval));
                if (!interpolating || !p.hkl.tricubic_at(h, k, l, F_cell)) {
                  const bool stopping = interpolating ? out.first_outside_eval < 0
                                                      : (pixel_index == p.interp_stop_pixel &&
                                                         evaluation == p.interp_stop_eval);
                  if (interpolating && out.first_outside_eval < 0) out.first_outside_eval = evaluation;
                  F_cell = static_cast<T>((stopping && p.interp_stop_default_F) ? p.hkl.default_F
                                                                                : p.hkl.nearest(h0, k0, l0));
                }
                ++evaluation;
              }
              if constexpr (Rec::active) {
                if (traced_step) rec.cell(F_cell);
              }

              I += static_cast<double>(F_cell * F_cell * F_latt * F_latt);
              // These multiply the running sum, not the term (reference behaviour).
              if (p.oversample_thick) I *= static_cast<double>(capture_fraction);
              if (p.oversample_polar) I *= static_cast<double>(polar);
              if (p.oversample_omega) I *= static_cast<double>(omega_pixel);
            }
          }
        }
      }
    }
  }

  // Photons: r_e^2 * fluence * I per sub-path, then the last-value factors.
  double photons = p.r_e_sqr * p.fluence * I / p.steps;
  if (!p.oversample_thick) photons *= static_cast<double>(capture_fraction);
  if (!p.oversample_polar) photons *= static_cast<double>(polar);
  if (!p.oversample_omega) photons *= static_cast<double>(omega_pixel);
  out.value = static_cast<float>(photons);
  if constexpr (Rec::active) {
    rec.final_scaling(I, p.r_e_sqr, p.fluence, p.steps, p.oversample_thick, p.oversample_polar, p.oversample_omega,
                      capture_fraction, polar, omega_pixel, dot(incident, diffracted), photons,
                      static_cast<double>(out.value));
  }
  return out;
}

}  // namespace nbsim
