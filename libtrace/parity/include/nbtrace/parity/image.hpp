#pragma once
// Float-image comparison for parity runs (the behaviour of the peer's
// nb_compare.py, AT-TOOLS-001, with its defects fixed): correlation, MSE,
// RMSE, max |Δ| and where, sums and their ratio on a region of interest, and
// peak registration with one-to-one (Hungarian) matching under a pixel gate.
// A comparison is never vacuous: an image with no pixels is refused when it
// is read, and a NaN or infinite pixel fails it whatever the thresholds
// (invalid_checks), the metrics standing for the finite pixels only.
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
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

/// The image file formats read, told by their first bytes and never by the
/// file's name (image_io.cpp). Raw float32 has no signature: it is what a
/// file is when its first bytes name no format.
enum class ImageFormat { raw_float32, npy, smv, cbf };
/// "raw float32", ".npy", "SMV", "CBF".
std::string_view format_name(ImageFormat f);
/// The format of a file from its first bytes. Throws InputError when it is
/// missing, unreadable or a folder, and when its first bytes name a format
/// not read here ("x.tif: not an image format nb-compare or nbparity reads
/// (TIFF?); formats: raw float32, .npy, SMV, CBF"). An empty file is raw.
ImageFormat image_format(const std::string& path);
/// Whether this build reads CBF (CBFlib found when it was configured).
bool cbf_supported();

/// Reads an image of any of these formats into float32, fast-major.
/// Raw float32: `shape` is its shape (none: the square its size makes, the
/// rule of parity runs). .npy, SMV and CBF give their own shape; a `shape`
/// given must equal it (InputError naming both, the given one as coming
/// from `shape_from`, e.g. "--fpixels/--spixels"), and is what a 1-D .npy
/// array is read as. Throws InputError for anything unreadable: see
/// load_float_image and docs/nb-compare.md#image-formats.
Image read_image(const std::string& path, const std::optional<Shape>& shape = std::nullopt,
                 std::string_view shape_from = "the shape given");

/// Reads a raw little-endian float32 file of exactly fast·slow values.
/// Throws InputError when it cannot be read, is a folder, is empty (no
/// pixels to compare) or its size does not match.
Image load_float_image(const std::string& path, std::size_t fast, std::size_t slow);
/// Size of a raw float file in values (0 for an empty file); throws
/// InputError when it is missing, unreadable, a folder or not a whole
/// number of floats.
std::size_t float_count(const std::string& path);
/// The square a raw float32 file's size makes: side round(√n) for n values
/// (load_float_image then refuses a file that is not that square).
Shape square_shape(const std::string& path);

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

/// Nearest-neighbour resize (for --resample). Throws InputError when the
/// image or the requested shape has no pixels.
Image resample_nearest(const Image& img, std::size_t fast, std::size_t slow);

/// numpy's default (linear) percentile, p in [0, 100], of the finite values
/// (NaN and ±inf are left out; 0 when none is left). Throws UsageError when
/// p is NaN.
double percentile(std::vector<float> values, double p);

/// The NaN and ±inf pixels of an image inside a ROI.
struct NonFinite {
  std::size_t count = 0;
  std::size_t first_slow = 0;  ///< the first one in fast-major order (when count > 0)
  std::size_t first_fast = 0;
  float first_value = 0;  ///< NaN, +inf or -inf
  friend bool operator==(const NonFinite&, const NonFinite&) = default;
};
NonFinite count_non_finite(const Image& img, const Roi& roi);
/// "nan", "inf" or "-inf" (any NaN, whatever its sign bit, is "nan").
std::string non_finite_name(float v);
/// The inverse of non_finite_name; throws InputError for anything else.
float non_finite_value(std::string_view name);

struct Peak {
  std::size_t slow = 0;
  std::size_t fast = 0;
  double value = 0;
};

/// Local maxima (3×3, ties kept) inside the ROI above the given percentile of
/// the ROI's finite values, brightest first, at most `top_n`; a non-finite
/// pixel is never a peak.
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

/// Every metric but the non-finite counts is over the `compared` pixels: the
/// ROI's pixels that are finite on both sides.
struct Metrics {
  Roi roi;
  std::size_t pixels = 0;    ///< in the ROI
  std::size_t compared = 0;  ///< finite on both sides
  NonFinite non_finite_ref, non_finite_test;
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

/// Compares two images of the same shape (throws UsageError otherwise, or
/// for a ROI that leaves them; InputError when they have no pixels).
Metrics compare(const Image& ref, const Image& test, const CompareOptions& options);

/// The checks `m` fails whatever the thresholds, because its numbers do not
/// stand for the whole ROI: "non_finite_ref", "non_finite_test" (a NaN or
/// ±inf pixel on that side), "nothing_compared" (no pixel finite on both
/// sides). Empty for a valid comparison.
std::vector<std::string> invalid_checks(const Metrics& m);
/// One sentence for each of invalid_checks(m), e.g. "reference image has
/// 1048576 non-finite pixels (first at slow 0, fast 0: nan)".
std::vector<std::string> invalid_messages(const Metrics& m);

/// 8-bit grayscale preview of the ROI as PNG bytes: linear from 0 to
/// `vmax`, clipped; +inf is white, NaN and -inf black.
std::string png_preview(const Image& img, const Roi& roi, double vmax);
/// Signed difference heat map (test − ref) of the ROI as PNG bytes: white
/// at 0, towards blue (negative) or red (positive), full at ±`vmax`; a NaN
/// difference is black.
std::string png_diff(const Image& ref, const Image& test, const Roi& roi, double vmax);

}  // namespace nbtrace::image
