#include <cmath>

#include "nbtrace/base/error.hpp"
#include "nbtrace/parity/image.hpp"
#include "test_support.hpp"

using namespace nbtrace::image;

namespace {
Image blank(std::size_t f, std::size_t s) { return Image{f, s, std::vector<float>(f * s, 0.0f)}; }
void put(Image& img, std::size_t s, std::size_t f, float v) { img.data[s * img.fast + f] = v; }
}  // namespace

TEST_CASE("percentile interpolates linearly like numpy") {
  CHECK(percentile({1, 2, 3, 4}, 50) == doctest::Approx(2.5));
  CHECK(percentile({5, 1, 3}, 100) == 5);
  CHECK(percentile({5, 1, 3}, 0) == 1);
  CHECK(percentile({0, 10}, 95) == doctest::Approx(9.5));
}

TEST_CASE("metrics on the ROI: correlation, MSE, max |diff| and where, sums") {
  Image a = blank(4, 3), b = blank(4, 3);
  for (std::size_t i = 0; i < a.data.size(); ++i) {
    a.data[i] = static_cast<float>(i);
    b.data[i] = static_cast<float>(2 * i);  // perfectly correlated, twice as bright
  }
  put(b, 2, 3, 100);  // one outlier at slow 2, fast 3
  const Metrics full = compare(a, b, {});
  CHECK(full.pixels == 12);
  CHECK(full.sum_ref == 66);
  CHECK(full.max_abs_diff == 89);
  CHECK(full.max_abs_diff_slow == 2);
  CHECK(full.max_abs_diff_fast == 3);
  REQUIRE(full.correlation);
  CHECK(*full.correlation < 1.0);
  CompareOptions roi;
  roi.roi = Roi{0, 2, 0, 1};  // excludes the outlier
  const Metrics part = compare(a, b, roi);
  CHECK(part.pixels == 6);
  CHECK(*part.correlation == doctest::Approx(1.0));
  CHECK(*part.sum_ratio == doctest::Approx(2.0));
  CHECK(part.mse == doctest::Approx((0 + 1 + 4 + 16 + 25 + 36) / 6.0));
  CHECK_THROWS_AS(compare(a, blank(3, 4), {}), nbtrace::UsageError);
  roi.roi = Roi{0, 4, 0, 1};
  CHECK_THROWS_AS(compare(a, b, roi), nbtrace::UsageError);
}

TEST_CASE("constant images have no correlation") {
  const Metrics m = compare(blank(3, 3), blank(3, 3), {});
  CHECK_FALSE(m.correlation.has_value());
  CHECK_FALSE(m.sum_ratio.has_value());
}

TEST_CASE("peaks: local maxima above the percentile, brightest first") {
  Image img = blank(10, 10);
  put(img, 2, 2, 5);
  put(img, 7, 7, 9);
  put(img, 7, 8, 8);  // beside the 9: not a local maximum
  const auto peaks = find_peaks(img, full_roi(img), 10, 95);
  REQUIRE(peaks.size() == 2);
  CHECK(peaks[0].slow == 7);
  CHECK(peaks[0].fast == 7);
  CHECK(peaks[1].value == 5);
}

TEST_CASE("Hungarian matching is one-to-one and honours the gate") {
  // Nearest-neighbour matching (the peer's) would pair both reference peaks
  // with test peak 0; the assignment pairs each with its own.
  const std::vector<Peak> ref{{10, 10, 1}, {10, 12, 1}};
  const std::vector<Peak> test{{10, 11, 1}, {10, 13, 1}};
  const PeakMatching m = match_peaks(ref, test, 2.0);
  CHECK(m.matched == 2);
  CHECK(m.matched_fraction == 1.0);
  CHECK(m.mean_displacement == doctest::Approx(1.0));
  const PeakMatching tight = match_peaks(ref, {{30, 30, 1}}, 2.0);
  CHECK(tight.matched == 0);
  CHECK(tight.matched_fraction == 0);
  const PeakMatching uneven = match_peaks({{0, 0, 1}, {5, 5, 1}, {9, 9, 1}}, {{5, 6, 1}}, 2.0);
  REQUIRE(uneven.matched == 1);
  CHECK(uneven.pairs[0].first == 1);
}

TEST_CASE("nearest-neighbour resample") {
  Image img = blank(2, 2);
  img.data = {1, 2, 3, 4};
  const Image big = resample_nearest(img, 4, 4);
  CHECK(big.at(0, 0) == 1);
  CHECK(big.at(0, 3) == 2);
  CHECK(big.at(3, 0) == 3);
  CHECK(big.at(3, 3) == 4);
}
