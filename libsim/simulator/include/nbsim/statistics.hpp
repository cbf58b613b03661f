#pragma once
// What both launchers do around compute_pixel, written once: the rendered
// box (the region of interest clipped to the detector), the image
// statistics (per-pixel accumulation, combination of partial results,
// finalisation, which pixels count in rmsd) and the interpolation-stop
// bookkeeping. NB_HD: the CPU launcher (backend/cpu.cpp) runs them as one
// running sum in pixel order, the CUDA backend (backend/cuda.cu) per GPU
// thread with fixed-shape tree reductions through combine().
#include <cmath>

#include "nbsim/physics/hd.hpp"
#include "nbsim/physics/kernel.hpp"

namespace nbsim {

/// Statistics over the region of interest, as the reference reports them.
struct ImageStats {
  double max_I = 0;
  double max_I_x = 0, max_I_y = 0;  ///< m: detector position of the last sub-pixel of the brightest pixel
  double mean = 0, rms = 0, rmsd = 0;
  long pixels = 0;
  double omega_sum = 0;  ///< sum of sub-pixel solid angles (sr), not yet divided by steps
};

/// The rendered box: rows smin..smax and columns fmin..fmax (inclusive) of
/// a detector `fpixels` wide; empty when either range is.
struct RenderBox {
  int smin = 0, smax = -1, fmin = 0, fmax = -1;
  int fpixels = 0;  ///< row length of the image (pixel index = s*fpixels + f)

  NB_HD int rows() const { return smax >= smin ? smax - smin + 1 : 0; }
  NB_HD int cols() const { return fmax >= fmin ? fmax - fmin + 1 : 0; }
  NB_HD long long count() const { return static_cast<long long>(rows()) * cols(); }
  NB_HD bool contains(int s, int f) const { return s >= smin && s <= smax && f >= fmin && f <= fmax; }
  /// Coordinates and image index of the j-th pixel, row-major (the reference's order).
  NB_HD int slow(long long j) const { return smin + static_cast<int>(j / cols()); }
  NB_HD int fast(long long j) const { return fmin + static_cast<int>(j % cols()); }
  NB_HD long long pixel(long long j) const { return static_cast<long long>(slow(j)) * fpixels + fast(j); }
  /// The same box from row `first_row` on.
  NB_HD RenderBox from_row(int first_row) const {
    RenderBox b = *this;
    if (first_row > b.smin) b.smin = first_row;
    return b;
  }
};

/// The pixels a run renders: the ROI clipped to the detector.
NB_HD inline RenderBox render_box(const KernelParams& p) {
  RenderBox b;
  b.smin = p.roi_smin > 0 ? p.roi_smin : 0;
  b.smax = p.roi_smax < p.spixels - 1 ? p.roi_smax : p.spixels - 1;
  b.fmin = p.roi_fmin > 0 ? p.roi_fmin : 0;
  b.fmax = p.roi_fmax < p.fpixels - 1 ? p.roi_fmax : p.fpixels - 1;
  b.fpixels = p.fpixels;
  return b;
}

/// Visits the box pixels j = first, first + stride, ... in order (one GPU
/// thread's share; first 0 and stride 1: all of them), without a division
/// per pixel.
class BoxWalk {
 public:
  NB_HD BoxWalk(const RenderBox& box, long long first, long long stride)
      : j_(first), count_(box.count()), stride_(stride), fpixels_(box.fpixels), fmin_(box.fmin), cols_(box.cols()) {
    if (j_ < count_) {
      s_ = box.slow(j_);
      f_ = box.fast(j_);
      ds_ = static_cast<int>(stride / cols_);
      df_ = static_cast<int>(stride % cols_);
    }
  }
  NB_HD bool done() const { return j_ >= count_; }
  NB_HD long long index() const { return static_cast<long long>(s_) * fpixels_ + f_; }
  NB_HD int slow() const { return s_; }
  NB_HD int fast() const { return f_; }
  NB_HD void next() {
    j_ += stride_;
    s_ += ds_;
    f_ += df_;
    if (f_ >= fmin_ + cols_) {
      f_ -= cols_;
      ++s_;
    }
  }

 private:
  long long j_, count_, stride_, fpixels_;
  int fmin_, cols_, s_ = 0, f_ = 0, ds_ = 0, df_ = 0;
};

/// Whether a pixel is rendered and counts in max_I, mean and rms: no mask,
/// or its mask value is non-zero.
NB_HD inline bool is_unmasked(const unsigned short* mask, long long i) { return !mask || mask[i] != 0; }

/// Whether a box pixel counts in rmsd: unmasked ones always, masked ones
/// too with C-PARITY-009 (the reference's second pass has no mask test).
NB_HD inline bool counts_in_rmsd(const unsigned short* mask, long long i, bool rmsd_counts_masked) {
  return rmsd_counts_masked || is_unmasked(mask, i);
}

/// The first pass over the image: brightest pixel, sums, count, solid angle.
struct Moments {
  double max_I = 0;          ///< brightest value > 0 (the reference starts max_I at 0)
  long long max_pixel = -1;  ///< its image index (the first in pixel order); -1: none
  double sum = 0;
  double sumsqr = 0;  ///< of single-precision squares, as the reference squares its floats
  long long count = 0;  ///< pixels accumulated (the unmasked ones)
  double omega = 0;     ///< sub-pixel solid angles (sr)
};

/// One unmasked pixel `v` at image index `i`, after those before it.
NB_HD inline void accumulate(Moments& m, float v, long long i) {
  if (v > m.max_I) {
    m.max_I = v;
    m.max_pixel = i;
  }
  m.sum += v;
  const float sq = v * v;
  m.sumsqr += sq;
  ++m.count;
}

/// Adds `b` (other pixels) to `a`. The brightest pixel is the same whatever
/// the grouping: the larger value, on a tie the smaller index (as a running
/// maximum in pixel order keeps the first); the sums are rounded in the
/// grouping's order.
NB_HD inline void combine(Moments& a, const Moments& b) {
  if (b.max_pixel >= 0 && (a.max_pixel < 0 || b.max_I > a.max_I || (b.max_I == a.max_I && b.max_pixel < a.max_pixel))) {
    a.max_I = b.max_I;
    a.max_pixel = b.max_pixel;
  }
  a.sum += b.sum;
  a.sumsqr += b.sumsqr;
  a.omega += b.omega;
  a.count += b.count;
}

/// The second pass: squared deviations from the mean.
struct Deviation {
  double sum = 0;
  long long count = 0;  ///< pixels that count in rmsd
};

NB_HD inline void accumulate(Deviation& d, float v, double mean) {
  const double t = v - mean;
  d.sum += t * t;
  ++d.count;
}

NB_HD inline void combine(Deviation& a, const Deviation& b) {
  a.sum += b.sum;
  a.count += b.count;
}

/// The first pass over the box pixels first, first + stride, ...: unmasked
/// pixels accumulate; `omega` (per-pixel solid angles, may be null) adds
/// every pixel's (a masked pixel's is 0).
NB_HD inline Moments box_moments(const float* image, const double* omega, const unsigned short* mask,
                                 const RenderBox& box, long long first = 0, long long stride = 1) {
  Moments m;
  for (BoxWalk w(box, first, stride); !w.done(); w.next()) {
    const long long i = w.index();
    if (omega) m.omega += omega[i];
    if (is_unmasked(mask, i)) accumulate(m, image[i], i);
  }
  return m;
}

/// The second pass over the same pixels, around `mean`.
NB_HD inline Deviation box_deviation(const float* image, const unsigned short* mask, bool rmsd_counts_masked,
                                     const RenderBox& box, double mean, long long first = 0, long long stride = 1) {
  Deviation d;
  for (BoxWalk w(box, first, stride); !w.done(); w.next()) {
    const long long i = w.index();
    if (counts_in_rmsd(mask, i, rmsd_counts_masked)) accumulate(d, image[i], mean);
  }
  return d;
}

/// max_I (at its pixel's last sub-pixel, m), mean, rms, pixels and the
/// solid angle from the first pass, with the reference's divisors.
inline void finalize(const Moments& m, const KernelParams& p, ImageStats& st) {
  st.pixels = static_cast<long>(m.count);
  long sumn = static_cast<long>(m.count);
  if (sumn <= 0) sumn = 1;
  st.mean = m.sum / static_cast<double>(sumn);
  if (sumn <= 1) sumn = 2;
  st.rms = std::sqrt(m.sumsqr / static_cast<double>(sumn - 1));
  if (m.max_pixel >= 0) {
    const int f = static_cast<int>(m.max_pixel % p.fpixels), s = static_cast<int>(m.max_pixel / p.fpixels);
    st.max_I = m.max_I;
    st.max_I_x = p.subpixel_size * (f * p.oversample + p.oversample - 1) + p.subpixel_size / 2.0;
    st.max_I_y = p.subpixel_size * (s * p.oversample + p.oversample - 1) + p.subpixel_size / 2.0;
  }
  st.omega_sum = m.omega;
}

/// rmsd from the second pass.
inline void finalize(const Deviation& d, ImageStats& st) {
  long m = static_cast<long>(d.count);
  if (m <= 1) m = 2;
  st.rmsd = std::sqrt(d.sum / static_cast<double>(m - 1));
}

/// Where interpolation stops for good: evaluation `eval` of pixel `pixel`,
/// the first (in pixel order) whose grid neighbourhood ran out in the first
/// pass (interpolating everywhere). kNeverStops: it never does.
struct InterpolationStop {
  long long pixel = kNeverStops;
  int eval = 0;
  NB_HD bool stops() const { return pixel != kNeverStops; }
};

/// A pixel's candidate from its first-pass PixelResult::first_outside_eval
/// (negative: it stayed on the grid).
NB_HD inline InterpolationStop stop_candidate(long long pixel, int first_outside_eval) {
  InterpolationStop s;
  if (first_outside_eval >= 0) {
    s.pixel = pixel;
    s.eval = first_outside_eval;
  }
  return s;
}

/// The earlier of two candidates.
NB_HD inline void combine(InterpolationStop& a, const InterpolationStop& b) {
  if (b.pixel < a.pixel) a = b;
}

/// The stop over the box from the first pass's per-pixel values, in order.
inline InterpolationStop find_interpolation_stop(const int* first_outside_eval, const RenderBox& box) {
  for (BoxWalk w(box, 0, 1); !w.done(); w.next()) {
    const InterpolationStop s = stop_candidate(w.index(), first_outside_eval[w.index()]);
    if (s.stops()) return s;
  }
  return {};
}

/// Records the stop in the parameters (the second pass and later traces
/// see it) and returns the rows the second pass redoes: those of the box
/// from the stop pixel's row on.
inline RenderBox apply_interpolation_stop(KernelParams& p, const InterpolationStop& stop, const RenderBox& box) {
  p.interp_stop_pixel = static_cast<long>(stop.pixel);
  p.interp_stop_eval = stop.eval;
  return box.from_row(static_cast<int>(stop.pixel / box.fpixels));
}

}  // namespace nbsim
