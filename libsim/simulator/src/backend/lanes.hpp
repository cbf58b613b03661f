#pragma once
// The CPU's fast path: compute_pixel() (nbsim/physics/kernel.hpp) for kLanes
// neighbouring pixels of a row at once. Every pixel of a run goes through
// the same loops (sensor layers, sub-pixels, sources, phi steps, mosaic
// domains), so the lanes stay in step: the per-sub-path set-up runs lane by
// lane (the scalar physics functions), the phi x mosaic loop runs across
// the lanes in `#pragma omp simd` loops the compiler turns into vector code
// (AVX-512 / AVX2 clones chosen at run time, cpu_lanes_*.cpp), and only the
// sines are left to a separate routine:
//   - SinKind::scalar_libm: glibc's scalar sin, lane by lane. With IEEE
//     + - * / and sqrt, no contraction, the same operands in the same order,
//     this gives compute_pixel<double>'s (and nanoBragg.c's) bits exactly.
//   - SinKind::checked_libm: checked_sin() (checked_sin.hpp) in vector code,
//     which knows when its value is the one the C library's sin returns,
//     and scalar sin for the other ~20% of sines. The same bits as
//     scalar_libm, 3-4x faster per sine; the default for float64 runs that
//     must match nanoBragg.c.
//   - SinKind::vector: glibc's libmvec (a few ulp from scalar sin) on the
//     same arguments; spec mode, float64.
//   - float: sin(pi t) by reduction to |t| <= 1/2 and a polynomial
//     (lattice.hpp's sincg_offset), plain arithmetic.
// The orientation of each phi x mosaic step is the same for every pixel but
// the run's first one (C-PARITY-001), so it is computed once (StepCells).
// Interpolated runs and the run's first pixel use compute_pixel itself.
#include <cmath>
#include <type_traits>
#include <vector>

#include "nbsim/physics/kernel.hpp"
#include "checked_sin.hpp"

namespace nbsim::lanes {

inline constexpr int kLanes = 16;

enum class SinKind { scalar_libm, checked_libm, vector };

/// n sines of x into y (n a multiple of 8); glibc's libmvec where the CPU
/// has AVX-512 or AVX2, scalar sin otherwise. Chosen once per process.
void vector_sin(const double* x, double* y, int n);

/// The cell (a, b, c) of each phi x mosaic step as every pixel after the
/// run's first sees it, in T: phi = 0 steps keep the previous orientation
/// (C-PARITY-001, from the carried one at step 0) or take the unrotated cell.
template <class T>
struct StepCells {
  std::vector<Vec3T<T>> abc;  ///< 3 per step, step = phi_tic * mosaic_domains + mos_tic
  explicit StepCells(const KernelParams& p) {
    abc.reserve(3 * static_cast<std::size_t>(p.phisteps) * p.mosaic_domains);
    Vec3T<T> ap = vec_cast<T>(p.carry_a), bp = vec_cast<T>(p.carry_b), cp = vec_cast<T>(p.carry_c);
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
        if (p.mosaic_spread > 0.0) {
          abc.push_back(rotate_by_matrix(ap, p.mosaic_umats + 9 * mos_tic));
          abc.push_back(rotate_by_matrix(bp, p.mosaic_umats + 9 * mos_tic));
          abc.push_back(rotate_by_matrix(cp, p.mosaic_umats + 9 * mos_tic));
        } else {
          abc.push_back(ap);
          abc.push_back(bp);
          abc.push_back(cp);
        }
      }
    }
  }
};

/// Whether the lanes can render the run (else compute_pixel per pixel).
inline bool lanes_apply(const KernelParams& p) { return !p.interpolate; }

/// ceil(y) as an int without a libm call (vectorizes): in double (exact
/// for float too), the nearest whole number by the 1.5*2^52 shift, raised
/// by one when below y. The same value as static_cast<int>(std::ceil(y)).
template <class T>
inline int ceil_int(T y) {
  const double yd = static_cast<double>(y);
  double c = (yd + 6755399441055744.0) - 6755399441055744.0;
  c = c < yd ? c + 1.0 : c;
  if (!(std::fabs(yd) < 2251799813685248.0)) c = yd;  // |y| >= 2^51: already whole
  return static_cast<int>(c);
}

/// Renders pixels f0 .. f0+count-1 (count <= kLanes) of row s; none of them
/// the run's first pixel when p.phi_carry.
template <class T, SinKind K>
inline void render_lanes(const KernelParams& p, const StepCells<T>& cells, int s, int f0, int count, float* image,
                         double& row_omega) {
  using V = Vec3T<T>;
  constexpr int W = kLanes;
  const V fdet = vec_cast<T>(p.fdet), sdet = vec_cast<T>(p.sdet), odet = vec_cast<T>(p.odet);
  const V pix0 = vec_cast<T>(p.pix0), beam = vec_cast<T>(p.beam), polar_vector = vec_cast<T>(p.polar_vector);
  const V a_star = vec_cast<T>(p.a_star), b_star = vec_cast<T>(p.b_star), c_star = vec_cast<T>(p.c_star);
  const T subpixel_size = static_cast<T>(p.subpixel_size), thickstep = static_cast<T>(p.thickstep);
  const T Na = static_cast<T>(p.Na), Nb = static_cast<T>(p.Nb), Nc = static_cast<T>(p.Nc);
  const T fudge = static_cast<T>(p.fudge);
  const bool square = p.shape == CrystalShape::square;
  const bool scales_running_sum = p.oversample_thick || p.oversample_polar || p.oversample_omega;
  const bool skip_zero_F = !scales_running_sum || p.water_size != 0.0;  // as compute_pixel
  const int steps = p.phisteps * p.mosaic_domains;
  const bool use_a = Na > T(1), use_b = Nb > T(1), use_c = Nc > T(1);
  const bool no_water = p.water_size == 0.0;
  const bool whole_N = Na == std::nearbyint(Na) && Nb == std::nearbyint(Nb) && Nc == std::nearbyint(Nc);
  constexpr T pi = static_cast<T>(3.14159265358979323846);

  bool masked[W];
  double I[W], omega_sum[W];
  T polar[W], omega[W], capture[W];
  V diffracted[W];
  for (int j = 0; j < W; ++j) {
    masked[j] = j >= count || (p.mask && p.mask[static_cast<long>(s) * p.fpixels + f0 + j] == 0);
    I[j] = p.I_bg;
    omega_sum[j] = 0;
    polar[j] = p.nopolar ? T(1) : T(0);
    omega[j] = 0;
    capture[j] = 0;
  }

  alignas(64) T sx[W], sy[W], sz[W];
  alignas(64) T h[W], k[W], l[W], F[W], latt[W];
  alignas(64) int h0[W], k0[W], l0[W];
  // Lane masks as int (0/1): bool arrays have no vector type in GCC.
  alignas(64) int active[W], need[W];
  alignas(64) double sin_in[6 * W], sin_out[6 * W];
  alignas(64) int unsure[6 * W];  // checked_libm: 1 where checked_sin was not certain
  alignas(64) int redo[6 * W];    // checked_libm: which sines the C library computes

  for (int thick_tic = 0; thick_tic < p.thicksteps; ++thick_tic) {
    const T Odet = static_cast<T>(thick_tic) * thickstep;
    for (int j = 0; j < W; ++j) capture[j] = p.thick == 0.0 ? T(1) : T(0);
    for (int subS = 0; subS < p.oversample; ++subS) {
      for (int subF = 0; subF < p.oversample; ++subF) {
        const T Sdet = subpixel_size * static_cast<T>(s * p.oversample + subS) + subpixel_size / T(2);
        for (int j = 0; j < W; ++j) {
          if (masked[j]) continue;
          const T Fdet = subpixel_size * static_cast<T>((f0 + j) * p.oversample + subF) + subpixel_size / T(2);
          const V pixel_pos =
              detector_position(Fdet, Sdet, Odet, fdet, sdet, odet, pix0, p.curved, static_cast<T>(p.distance), beam);
          const T airpath = unitize(pixel_pos, diffracted[j]);
          if (omega[j] == T(0) || p.oversample_omega)
            omega[j] = pixel_solid_angle(static_cast<T>(p.pixel_size), airpath, static_cast<T>(p.close_distance),
                                         p.point_pixel);
          omega_sum[j] += static_cast<double>(omega[j]);
          if (capture[j] == T(0) || p.oversample_thick)
            capture[j] = layer_capture_fraction(thick_tic, thickstep, static_cast<T>(p.mu), diffracted[j], odet);
        }
        for (int source = 0; source < p.num_sources; ++source) {
          const T lambda = static_cast<T>(p.sources[source].lambda);
          for (int j = 0; j < W; ++j) {
            active[j] = 0;
            sx[j] = sy[j] = sz[j] = 0;
            if (masked[j]) continue;
            V incident = -vec_cast<T>(p.sources[source].direction);
            const V S{(diffracted[j].x - incident.x) / lambda, (diffracted[j].y - incident.y) / lambda,
                      (diffracted[j].z - incident.z) / lambda};
            const T stol = T(0.5) * magnitude(S);
            if (p.dmin > 0.0 && stol > T(0) && static_cast<T>(p.dmin) > T(0.5) / stol) continue;
            if (polar[j] == T(0) || p.oversample_polar)
              polar[j] = polarization_factor(static_cast<T>(p.kahn), incident, diffracted[j], polar_vector);
            active[j] = 1;
            sx[j] = S.x;
            sy[j] = S.y;
            sz[j] = S.z;
          }
          for (int step = 0; step < steps; ++step) {
            const V a = cells.abc[3 * step], b = cells.abc[3 * step + 1], c = cells.abc[3 * step + 2];
#pragma omp simd
            for (int j = 0; j < W; ++j) {
              h[j] = a.x * sx[j] + a.y * sy[j] + a.z * sz[j];
              k[j] = b.x * sx[j] + b.y * sy[j] + b.z * sz[j];
              l[j] = c.x * sx[j] + c.y * sy[j] + c.z * sz[j];
              h0[j] = ceil_int(h[j] - T(0.5));
              k0[j] = ceil_int(k[j] - T(0.5));
              l0[j] = ceil_int(l[j] - T(0.5));
            }
            // Structure factors (a gather with bounds checks), and which
            // lanes need their lattice factor.
            for (int j = 0; j < W; ++j) {
              F[j] = active[j] != 0 ? static_cast<T>(p.hkl.nearest(h0[j], k0[j], l0[j])) : T(0);
              const bool finite = h[j] - h[j] == T(0) && k[j] - k[j] == T(0) && l[j] - l[j] == T(0);
              need[j] = active[j] != 0 && !(skip_zero_F && F[j] == T(0) && finite);
            }
            if (!square) {
              for (int j = 0; j < W; ++j)
                latt[j] = need[j] != 0 ? lattice_factor(p.shape, h[j], k[j], l[j], h0[j], k0[j], l0[j], Na, Nb, Nc, fudge,
                                                   a_star, b_star, c_star)
                                        .total
                                  : T(1);
            } else if constexpr (std::is_same_v<T, float>) {
              if (whole_N) {
                // Every factor computed, the unused ones replaced by 1 (x*1 = x
                // exactly): no branch in the loop, so it vectorizes.
#pragma omp simd
                for (int j = 0; j < W; ++j) {
                  const T fa = sincg_offset(h[j] - static_cast<T>(h0[j]), h0[j], Na);
                  const T fb = sincg_offset(k[j] - static_cast<T>(k0[j]), k0[j], Nb);
                  const T fc = sincg_offset(l[j] - static_cast<T>(l0[j]), l0[j], Nc);
                  const T f = T(1) * (use_a ? fa : T(1)) * (use_b ? fb : T(1)) * (use_c ? fc : T(1));
                  latt[j] = need[j] != 0 ? f : T(1);
                }
              } else {
                for (int j = 0; j < W; ++j)
                  latt[j] = need[j] != 0 ? lattice_factor(p.shape, h[j], k[j], l[j], h0[j], k0[j], l0[j], Na, Nb, Nc,
                                                     fudge, a_star, b_star, c_star)
                                          .total
                                    : T(1);
              }
            } else if constexpr (K == SinKind::vector || K == SinKind::checked_libm) {
              // x = pi h and N x for the three axes, all lanes, one call.
#pragma omp simd
              for (int j = 0; j < W; ++j) {
                sin_in[j] = pi * h[j];
                sin_in[W + j] = sin_in[j] * Na;
                sin_in[2 * W + j] = pi * k[j];
                sin_in[3 * W + j] = sin_in[2 * W + j] * Nb;
                sin_in[4 * W + j] = pi * l[j];
                sin_in[5 * W + j] = sin_in[4 * W + j] * Nc;
              }
              if constexpr (K == SinKind::vector) {
                vector_sin(sin_in, sin_out, 6 * W);
              } else {
#pragma omp simd
                for (int i = 0; i < 6 * W; ++i) {
                  unsure[i] = checked_sin(sin_in[i], sin_out[i]) ? 0 : 1;
                }
                // The uncertain ones from the C library, where they are used:
                // listed first without a branch (which of them are uncertain
                // is random, so a branch per sine would mispredict), then
                // called in a loop of known length.
                int redo_count = 0;
                for (int axis = 0; axis < 3; ++axis) {
                  if (!(axis == 0 ? use_a : axis == 1 ? use_b : use_c)) continue;
                  for (int i = 2 * W * axis; i < 2 * W * (axis + 1); ++i) {
                    redo[redo_count] = i;
                    redo_count += unsure[i] & need[i % W];
                  }
                }
                for (int r = 0; r < redo_count; ++r) sin_out[redo[r]] = std::sin(sin_in[redo[r]]);
              }
#pragma omp simd
              for (int j = 0; j < W; ++j) {
                const T fa = sin_in[j] == T(0) ? Na : sin_out[W + j] / sin_out[j];
                const T fb = sin_in[2 * W + j] == T(0) ? Nb : sin_out[3 * W + j] / sin_out[2 * W + j];
                const T fc = sin_in[4 * W + j] == T(0) ? Nc : sin_out[5 * W + j] / sin_out[4 * W + j];
                const T f = T(1) * (use_a ? fa : T(1)) * (use_b ? fb : T(1)) * (use_c ? fc : T(1));
                latt[j] = need[j] != 0 ? f : T(1);
              }
            } else {
              // Bit-identical path: glibc's scalar sin, only where needed.
              for (int j = 0; j < W; ++j) {
                if (need[j] == 0) {
                  latt[j] = T(1);
                  continue;
                }
                T f = T(1);
                if (Na > T(1)) f *= sincg(pi * h[j], Na);
                if (Nb > T(1)) f *= sincg(pi * k[j], Nb);
                if (Nc > T(1)) f *= sincg(pi * l[j], Nc);
                latt[j] = f;
              }
            }
            // I += term, then the running-sum factors (x*1 = x exactly when
            // a factor is off); lanes that skip keep their sum. No branch.
#pragma omp simd
            for (int j = 0; j < W; ++j) {
              const T Fl = latt[j];
              const bool adds = active[j] != 0 && !(Fl == T(0) && no_water);
              const double sum = (I[j] + static_cast<double>(F[j] * F[j] * Fl * Fl)) *
                                 (p.oversample_thick ? static_cast<double>(capture[j]) : 1.0) *
                                 (p.oversample_polar ? static_cast<double>(polar[j]) : 1.0) *
                                 (p.oversample_omega ? static_cast<double>(omega[j]) : 1.0);
              I[j] = adds ? sum : I[j];
            }
          }
        }
      }
    }
  }
  for (int j = 0; j < count; ++j) {
    if (masked[j]) continue;
    double photons = p.r_e_sqr * p.fluence * I[j] / p.steps;
    if (!p.oversample_thick) photons *= static_cast<double>(capture[j]);
    if (!p.oversample_polar) photons *= static_cast<double>(polar[j]);
    if (!p.oversample_omega) photons *= static_cast<double>(omega[j]);
    image[f0 + j] = static_cast<float>(photons);
    row_omega += omega_sum[j];
  }
}

/// One row segment [fmin, fmax] of row s through the lanes (the run's first
/// pixel, under C-PARITY-001, through compute_pixel).
template <class T, SinKind K>
inline void render_row(const KernelParams& p, const StepCells<T>& cells, int s, int fmin, int fmax, float* row,
                       double& row_omega) {
  NullRecorder none;
  for (int f = fmin; f <= fmax; f += kLanes) {
    const int count = fmax - f + 1 < kLanes ? fmax - f + 1 : kLanes;
    const int t = reference_thread_of_row(s, p.spixels, p.reference_threads);
    if (p.phi_carry && s == p.thread_first_spixel[t] && p.thread_first_fpixel[t] >= f &&
        p.thread_first_fpixel[t] < f + count) {
      for (int i = f; i < f + count; ++i) {
        const PixelResult px = compute_pixel<T>(p, s, i, none);
        if (px.masked) continue;
        row[i] = px.value;
        row_omega += px.omega_sum;
      }
      continue;
    }
    render_lanes<T, K>(p, cells, s, f, count, row, row_omega);
  }
}

/// The instantiations, each compiled as AVX-512, AVX2 and baseline clones
/// (the CPU picks one at load time): float64 with scalar libm sin or the
/// checked sines (both bit-identical), float64 with libmvec (spec mode), float32
/// (cpu_lanes_float.cpp, built with -Wdouble-promotion -Werror).
void render_row_f64(const KernelParams& p, const StepCells<double>& cells, SinKind sin_kind, int s, int fmin,
                    int fmax, float* row, double& row_omega);

/// checked_sin() over n arguments in this CPU's vector code (the clone
/// render_row_f64 uses): y[i] its value, certain[i] 1 where it is certainly
/// the C library's sin(x[i]), else 0. For the self-check, tests and bench/.
void checked_sines(const double* x, double* y, int* certain, int n);

/// Whether SinKind::checked_libm may stand in for scalar_libm in this
/// process: the CPU has FMA (else checked_sin's fma calls are slow library
/// calls), and checked_sin agrees with this C library's sin on every
/// certain value of a fixed sample of 8192 arguments, through
/// checked_sines() (a C library less accurate than checked_sin assumes
/// fails this). Decided once.
bool checked_sines_usable();
void render_row_f32(const KernelParams& p, const StepCells<float>& cells, int s, int fmin, int fmax, float* row,
                    double& row_omega);

}  // namespace nbsim::lanes
