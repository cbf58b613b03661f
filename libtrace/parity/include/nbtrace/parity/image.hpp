#pragma once
// Float-image comparison for parity runs (the behaviour of the peer's
// nb_compare.py, AT-TOOLS-001, with its defects fixed): correlation, MSE,
// RMSE, max |Δ| and where, sums and their ratio on a region of interest, and
// peak registration with one-to-one (Hungarian) matching under a pixel gate.
#include <cstddef>
#include <optional>
#include <string>
#include <vector>

namespace nbtrace::image {

/// An image's size in pixels along its fast and slow axes.
struct Shape {
  std::size_t fast = 0;
  std::size_t slow = 0;
  friend bool operator==(const Shape&, const Shape&) = default;
};

/// A raw float32 image, fast-major: index = slow * fast_size + fast.
struct Image {
  std::size_t fast = 0;
  std::size_t slow = 0;
  std::vector<float> data;
  float at(std::size_t s, std::size_t f) const { return data[s * fast + f]; }
  Shape shape() const { return {fast, slow}; }
};

/// Reads a raw little-endian float32 file of exactly fast·slow values.
/// Throws InputError when it cannot be read or its size does not match.
Image load_float_image(const std::string& path, std::size_t fast, std::size_t slow);
/// Size of a raw float file in values; throws InputError when unreadable.
std::size_t float_count(const std::string& path);

/// Inclusive pixel bounds: fast (x) in [xmin, xmax], slow (y) in [ymin, ymax].
struct Roi {
  std::size_t xmin = 0, xmax = 0, ymin = 0, ymax = 0;
  std::size_t width() const { return xmax - xmin + 1; }
  std::size_t height() const { return ymax - ymin + 1; }
};
/// The whole frame.
Roi full_roi(const Image& img);
/// Throws UsageError when the ROI is empty or leaves the image.
void check_roi(const Roi& roi, const Image& img);

/// Nearest-neighbour resize (for --resample).
Image resample_nearest(const Image& img, std::size_t fast, std::size_t slow);

/// numpy's default (linear) percentile, p in [0, 100].
double percentile(std::vector<float> values, double p);

struct Peak {
  std::size_t slow = 0;
  std::size_t fast = 0;
  double value = 0;
};

/// Local maxima (3×3, ties kept) inside the ROI above the given percentile of
/// the ROI, brightest first, at most `top_n`.
std::vector<Peak> find_peaks(const Image& img, const Roi& roi, std::size_t top_n, double percentile_cut);

struct PeakMatching {
  std::size_t ref_peaks = 0;
  std::size_t test_peaks = 0;
  std::size_t matched = 0;      ///< pairs within the gate
  double matched_fraction = 0;  ///< matched / ref_peaks (0 when no reference peak)
  double mean_displacement = 0; ///< pixels, over matched pairs
  double max_displacement = 0;
  std::vector<std::pair<std::size_t, std::size_t>> pairs;  ///< (ref index, test index)
};

/// One-to-one assignment minimising the total distance (Hungarian
/// algorithm); pairs farther than `gate` pixels count as unmatched.
PeakMatching match_peaks(const std::vector<Peak>& ref, const std::vector<Peak>& test, double gate);

struct CompareOptions {
  std::optional<Roi> roi;
  std::size_t top_peaks = 20;
  double peak_percentile = 95;
  double peak_gate = 2.0;  ///< pixels
};

struct Metrics {
  Roi roi;
  std::size_t pixels = 0;
  std::optional<double> correlation;  ///< absent when either side is constant
  double mse = 0;
  double rmse = 0;
  double max_abs_diff = 0;
  std::size_t max_abs_diff_slow = 0;
  std::size_t max_abs_diff_fast = 0;
  double sum_ref = 0;
  double sum_test = 0;
  std::optional<double> sum_ratio;  ///< test / ref, absent when ref sums to 0
  std::vector<Peak> ref_peaks;
  std::vector<Peak> test_peaks;
  PeakMatching peaks;
};

/// Compares two images of the same shape (throws UsageError otherwise).
Metrics compare(const Image& ref, const Image& test, const CompareOptions& options);

/// 8-bit grayscale preview: linear from 0 to `vmax`, clipped.
void write_png_preview(const std::string& path, const Image& img, const Roi& roi, double vmax);
/// Signed difference heat map (test − ref): blue negative, red positive,
/// scaled to ±`vmax`.
void write_png_diff(const std::string& path, const Image& ref, const Image& test, const Roi& roi, double vmax);
/// The same heat map as PNG bytes, for a caller that writes it in a file set.
std::string png_diff(const Image& ref, const Image& test, const Roi& roi, double vmax);

}  // namespace nbtrace::image
