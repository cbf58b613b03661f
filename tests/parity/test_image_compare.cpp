#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>

#include "nbtrace/base/error.hpp"
#include "nbtrace/parity/image.hpp"
#include "nbtrace/parity/image_json.hpp"
#include "test_support.hpp"

using namespace nbtrace::image;
namespace fs = std::filesystem;

namespace {
Image blank(std::size_t f, std::size_t s) { return Image{f, s, std::vector<float>(f * s, 0.0f)}; }
void put(Image& img, std::size_t s, std::size_t f, float v) { img.data[s * img.fast + f] = v; }
constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();
constexpr float kInf = std::numeric_limits<float>::infinity();


/// Width and height from a PNG's IHDR (big-endian, bytes 16..23).
std::pair<unsigned, unsigned> png_size(const std::string& png) {
  const auto be32 = [&](std::size_t at) {
    unsigned v = 0;
    for (std::size_t i = 0; i < 4; ++i) v = v << 8 | static_cast<unsigned char>(png.at(at + i));
    return v;
  };
  return {be32(16), be32(20)};
}
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

TEST_CASE("non-finite pixels: counted with the first position, left out of the metrics, never valid") {
  Image ref = blank(4, 3), test = blank(4, 3);
  for (std::size_t i = 0; i < ref.data.size(); ++i) ref.data[i] = test.data[i] = static_cast<float>(i);
  put(test, 1, 2, kNaN);   // index 6
  put(test, 2, 0, -kInf);  // index 8
  put(ref, 2, 3, kInf);    // index 11
  put(test, 0, 1, 5);      // a finite difference of 4 at (slow 0, fast 1)
  const Metrics m = compare(ref, test, {});
  CHECK(m.pixels == 12);
  CHECK(m.compared == 9);
  CHECK(m.non_finite_test.count == 2);
  CHECK(m.non_finite_test.first_slow == 1);
  CHECK(m.non_finite_test.first_fast == 2);
  CHECK(std::isnan(m.non_finite_test.first_value));
  CHECK(m.non_finite_ref.count == 1);
  CHECK(m.non_finite_ref.first_value == kInf);
  // Over the 9 finite pairs: 0..10 without 6 and 8 is 0+1+2+3+4+5+7+9+10 = 41 on the reference.
  CHECK(m.sum_ref == 41);
  CHECK(m.sum_test == 45);
  CHECK(m.max_abs_diff == 4);
  CHECK(m.max_abs_diff_slow == 0);
  CHECK(m.max_abs_diff_fast == 1);
  CHECK(m.mse == doctest::Approx(16.0 / 9.0));
  REQUIRE(m.correlation);
  CHECK(std::isfinite(*m.correlation));
  CHECK(invalid_checks(m) == std::vector<std::string>{"non_finite_ref", "non_finite_test"});
  CHECK(invalid_messages(m) ==
        std::vector<std::string>{"reference image has 1 non-finite pixel (first at slow 2, fast 3: inf)",
                                 "test image has 2 non-finite pixels (first at slow 1, fast 2: nan)"});
  // A ROI that leaves them out is a valid comparison.
  CompareOptions roi;
  roi.roi = Roi{0, 3, 0, 0};
  const Metrics row = compare(ref, test, roi);
  CHECK(row.compared == 4);
  CHECK(invalid_checks(row).empty());
}

TEST_CASE("all NaN: nothing compared, every metric zero or absent, and the reasons") {
  Image nan_img = blank(1024, 1024);
  std::fill(nan_img.data.begin(), nan_img.data.end(), kNaN);
  const Metrics m = compare(nan_img, blank(1024, 1024), {});
  CHECK(m.compared == 0);
  CHECK(m.max_abs_diff == 0);
  CHECK(m.rmse == 0);
  CHECK_FALSE(m.correlation);
  CHECK_FALSE(m.sum_ratio);
  CHECK(m.ref_peaks.empty());
  CHECK(invalid_checks(m) == std::vector<std::string>{"non_finite_ref", "nothing_compared"});
  const auto why = invalid_messages(m);
  REQUIRE(why.size() == 2);
  CHECK(why[0] == "reference image has 1048576 non-finite pixels (first at slow 0, fast 0: nan)");
  CHECK(why[1] == "no pixel of the 1048576 in the region is finite in both images: nothing was compared");
}

TEST_CASE("non-finite counts as JSON: the value by name, read back equal") {
  Image ref = blank(3, 2), test = blank(3, 2);
  put(ref, 1, 2, -kInf);
  const Metrics m = compare(ref, test, {});
  const nlohmann::json j = m;
  CHECK(j["compared_pixels"] == 5);
  CHECK(j["non_finite_ref"] ==
        nlohmann::json{{"count", 1}, {"first", {{"slow", 1}, {"fast", 2}, {"value", "-inf"}}}});
  CHECK(j["non_finite_test"] == nlohmann::json{{"count", 0}, {"first", nullptr}});
  const Metrics back = j.get<Metrics>();
  CHECK(back.non_finite_ref == m.non_finite_ref);
  CHECK(back.non_finite_test == m.non_finite_test);
  CHECK(back.compared == 5);
  CHECK(non_finite_name(-kNaN) == "nan");
  CHECK(std::isnan(non_finite_value("nan")));
  CHECK_THROWS_AS(non_finite_value("1.5"), nbtrace::InputError);
}

TEST_CASE("percentile and peaks leave non-finite values out") {
  CHECK(percentile({kNaN, 1, 2, kInf, 3, -kInf}, 100) == 3);
  CHECK(percentile({kNaN, kInf}, 50) == 0);
  CHECK_THROWS_AS(percentile({1, 2}, std::nan("")), nbtrace::UsageError);
  Image img = blank(10, 10);
  put(img, 2, 2, 5);
  put(img, 5, 5, kInf);
  put(img, 7, 7, kNaN);
  const auto peaks = find_peaks(img, full_roi(img), 10, 95);
  REQUIRE(peaks.size() == 1);
  CHECK(peaks[0].slow == 2);
}

TEST_CASE("nothing to compare is refused: empty images, resampling them, empty files, folders") {
  const Image empty{};
  CHECK(nbtest::message_of<nbtrace::InputError>([&] { compare(empty, empty, {}); }) ==
        "the images have no pixels: nothing to compare");
  CHECK(nbtest::message_of<nbtrace::InputError>([&] { resample_nearest(empty, 4, 4); }) ==
        "cannot resample an image with no pixels (0x0)");
  CHECK_THROWS_AS(resample_nearest(blank(2, 2), 0, 3), nbtrace::InputError);
  const Image short_one{3, 2, std::vector<float>(5, 0.0f)};  // at() would read past its end
  CHECK(nbtest::message_of<nbtrace::InputError>([&] { compare(short_one, short_one, {}); }) == "a 3x2 image holds 5 values");
  nbtest::TempDir dir;
  nbtest::write_file(dir / "empty.bin", "");
  CHECK(float_count((dir / "empty.bin").string()) == 0);
  CHECK(nbtest::message_of<nbtrace::InputError>([&] { load_float_image((dir / "empty.bin").string(), 0, 0); }) ==
        (dir / "empty.bin").string() + ": is empty (0 bytes): no pixels to compare");
  CHECK(nbtest::message_of<nbtrace::InputError>([&] { load_float_image(dir.path().string(), 4, 4); }) ==
        dir.path().string() + ": is a folder, not a float image");
  CHECK(nbtest::message_of<nbtrace::InputError>([&] { load_float_image((dir / "none.bin").string(), 4, 4); }) ==
        (dir / "none.bin").string() + ": cannot read float image: No such file or directory");
  // 2^32 x 2^32 wraps round to 0 in 64 bits: refused, not read as 16 floats.
  nbtest::write_file(dir / "16.bin", std::string(64, '\0'));
  CHECK(nbtest::message_of<nbtrace::InputError>([&] { load_float_image((dir / "16.bin").string(), 1ull << 32, 1ull << 32); }) ==
        (dir / "16.bin").string() + ": holds 16 floats, not 4294967296x4294967296");
  CHECK(load_float_image((dir / "16.bin").string(), 4, 4).data.size() == 16);
  // A control character in the name is escaped in the message.
  CHECK(nbtest::message_of<nbtrace::InputError>([&] { float_count((dir / "a\x1b[2Jb.bin").string()); })
            .find("a\\x1b[2Jb.bin: cannot read") != std::string::npos);
}

TEST_CASE("one-pixel and odd-sized images: metrics, resampling, previews") {
  Image one = blank(1, 1);
  one.data = {3};
  const Metrics m = compare(one, one, {});
  CHECK(m.pixels == 1);
  CHECK(m.compared == 1);
  CHECK(m.ref_peaks.empty());  // nothing exceeds its own percentile
  CHECK(invalid_checks(m).empty());
  const Image big = resample_nearest(one, 3, 5);
  CHECK(big.data == std::vector<float>(15, 3));
  const Image back = resample_nearest(big, 1, 1);
  CHECK(back.data == std::vector<float>{3});
  CHECK(png_size(png_preview(one, full_roi(one), 3)) == std::pair<unsigned, unsigned>{1, 1});
  Image odd = blank(7, 3);
  CHECK(png_size(png_preview(odd, Roi{1, 5, 0, 2}, 1)) == std::pair<unsigned, unsigned>{5, 3});
  CHECK(png_size(png_diff(odd, odd, full_roi(odd), 0)) == std::pair<unsigned, unsigned>{7, 3});
}

TEST_CASE("previews of non-finite pixels: NaN and -inf black, +inf white, a NaN difference black") {
  Image nan_img = blank(2, 2), zero = blank(2, 2), inf_img = blank(2, 2), full = blank(2, 2);
  std::fill(nan_img.data.begin(), nan_img.data.end(), kNaN);
  std::fill(inf_img.data.begin(), inf_img.data.end(), kInf);
  std::fill(full.data.begin(), full.data.end(), 10.0f);
  const Roi roi = full_roi(zero);
  CHECK(png_preview(nan_img, roi, 10) == png_preview(zero, roi, 10));
  CHECK(png_preview(inf_img, roi, 10) == png_preview(full, roi, 10));
  CHECK(png_preview(inf_img, roi, 10) != png_preview(zero, roi, 10));
  CHECK(png_diff(zero, inf_img, roi, 10) == png_diff(zero, full, roi, 10));  // +inf: full red
  CHECK(png_diff(zero, nan_img, roi, 10) != png_diff(zero, zero, roi, 10));
  CHECK(png_diff(zero, nan_img, roi, 10) != png_diff(zero, full, roi, 10));
}
