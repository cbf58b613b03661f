#include "nbtrace/parity/image.hpp"

#include <png.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <limits>

#include "nbtrace/base/error.hpp"

namespace nbtrace::image {

Roi full_roi(const Image& img) { return {0, img.fast ? img.fast - 1 : 0, 0, img.slow ? img.slow - 1 : 0}; }

void check_roi(const Roi& roi, const Image& img) {
  if (roi.xmin > roi.xmax || roi.ymin > roi.ymax) throw UsageError("--roi: xmin > xmax or ymin > ymax");
  if (roi.xmax >= img.fast || roi.ymax >= img.slow) {
    throw UsageError("--roi " + std::to_string(roi.xmin) + " " + std::to_string(roi.xmax) + " " +
                     std::to_string(roi.ymin) + " " + std::to_string(roi.ymax) + " leaves the " +
                     std::to_string(img.fast) + "x" + std::to_string(img.slow) + " image");
  }
}

Image resample_nearest(const Image& img, std::size_t fast, std::size_t slow) {
  if (img.data.empty() || img.fast * img.slow != img.data.size()) {
    throw InputError("cannot resample an image with no pixels (" + std::to_string(img.fast) + "x" +
                     std::to_string(img.slow) + ")");
  }
  if (fast == 0 || slow == 0) {
    throw InputError("cannot resample to " + std::to_string(fast) + "x" + std::to_string(slow) + ": no pixels");
  }
  Image out;
  out.fast = fast;
  out.slow = slow;
  out.data.resize(fast * slow);
  for (std::size_t s = 0; s < slow; ++s) {
    const std::size_t ss = std::min(img.slow - 1, s * img.slow / slow);
    for (std::size_t f = 0; f < fast; ++f) {
      const std::size_t ff = std::min(img.fast - 1, f * img.fast / fast);
      out.data[s * fast + f] = img.at(ss, ff);
    }
  }
  return out;
}

double percentile(std::vector<float> v, double p) {
  if (std::isnan(p)) throw UsageError("a percentile must be a number from 0 to 100, not nan");
  v.erase(std::remove_if(v.begin(), v.end(), [](float x) { return !std::isfinite(x); }), v.end());
  if (v.empty()) return 0;
  const double rank = std::clamp(p, 0.0, 100.0) / 100.0 * static_cast<double>(v.size() - 1);
  const auto lo = static_cast<std::size_t>(std::floor(rank));
  const std::size_t hi = std::min(lo + 1, v.size() - 1);
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(lo), v.end());
  const double a = v[lo];
  double b = a;
  if (hi != lo) b = *std::min_element(v.begin() + static_cast<std::ptrdiff_t>(lo) + 1, v.end());
  return a + (b - a) * (rank - static_cast<double>(lo));
}

namespace {
std::vector<float> roi_values(const Image& img, const Roi& roi) {
  std::vector<float> v;
  v.reserve(roi.width() * roi.height());
  for (std::size_t s = roi.ymin; s <= roi.ymax; ++s) {
    for (std::size_t f = roi.xmin; f <= roi.xmax; ++f) v.push_back(img.at(s, f));
  }
  return v;
}
}  // namespace

NonFinite count_non_finite(const Image& img, const Roi& roi) {
  NonFinite nf;
  for (std::size_t s = roi.ymin; s <= roi.ymax; ++s) {
    for (std::size_t f = roi.xmin; f <= roi.xmax; ++f) {
      const float v = img.at(s, f);
      if (std::isfinite(v)) continue;
      if (nf.count++ == 0) {
        nf.first_slow = s;
        nf.first_fast = f;
        nf.first_value = v;
      }
    }
  }
  return nf;
}

std::string non_finite_name(float v) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  return std::to_string(v);
}

float non_finite_value(std::string_view name) {
  if (name == "nan") return std::numeric_limits<float>::quiet_NaN();
  if (name == "inf") return std::numeric_limits<float>::infinity();
  if (name == "-inf") return -std::numeric_limits<float>::infinity();
  throw InputError("'" + printable(name) + "' is not nan, inf or -inf");
}

std::vector<Peak> find_peaks(const Image& img, const Roi& roi, std::size_t top_n, double percentile_cut) {
  const double cut = percentile(roi_values(img, roi), percentile_cut);
  std::vector<Peak> peaks;
  for (std::size_t s = roi.ymin; s <= roi.ymax; ++s) {
    for (std::size_t f = roi.xmin; f <= roi.xmax; ++f) {
      const float v = img.at(s, f);
      if (!std::isfinite(v) || !(v > cut)) continue;
      bool is_max = true;
      // Neighbours inside the ROI; the border counts as reflected (itself).
      for (int ds = -1; ds <= 1 && is_max; ++ds) {
        for (int df = -1; df <= 1; ++df) {
          const auto ns = static_cast<long>(s) + ds;
          const auto nf = static_cast<long>(f) + df;
          if (ns < static_cast<long>(roi.ymin) || ns > static_cast<long>(roi.ymax) || nf < static_cast<long>(roi.xmin) ||
              nf > static_cast<long>(roi.xmax)) {
            continue;
          }
          if (img.at(static_cast<std::size_t>(ns), static_cast<std::size_t>(nf)) > v) {
            is_max = false;
            break;
          }
        }
      }
      if (is_max) peaks.push_back({s, f, v});
    }
  }
  std::stable_sort(peaks.begin(), peaks.end(), [](const Peak& a, const Peak& b) { return a.value > b.value; });
  if (peaks.size() > top_n) peaks.resize(top_n);
  return peaks;
}

namespace {

/// Hungarian algorithm (Kuhn–Munkres, O(n³)) on a square cost matrix;
/// returns for each row the assigned column.
std::vector<std::size_t> hungarian(const std::vector<std::vector<double>>& cost) {
  const std::size_t n = cost.size();
  const double inf = std::numeric_limits<double>::infinity();
  std::vector<double> u(n + 1, 0), v(n + 1, 0);
  std::vector<std::size_t> p(n + 1, 0), way(n + 1, 0);
  for (std::size_t i = 1; i <= n; ++i) {
    p[0] = i;
    std::size_t j0 = 0;
    std::vector<double> minv(n + 1, inf);
    std::vector<bool> used(n + 1, false);
    do {
      used[j0] = true;
      const std::size_t i0 = p[j0];
      double delta = inf;
      std::size_t j1 = 0;
      for (std::size_t j = 1; j <= n; ++j) {
        if (used[j]) continue;
        const double cur = cost[i0 - 1][j - 1] - u[i0] - v[j];
        if (cur < minv[j]) {
          minv[j] = cur;
          way[j] = j0;
        }
        if (minv[j] < delta) {
          delta = minv[j];
          j1 = j;
        }
      }
      for (std::size_t j = 0; j <= n; ++j) {
        if (used[j]) {
          u[p[j]] += delta;
          v[j] -= delta;
        } else {
          minv[j] -= delta;
        }
      }
      j0 = j1;
    } while (p[j0] != 0);
    do {
      const std::size_t j1 = way[j0];
      p[j0] = p[j1];
      j0 = j1;
    } while (j0);
  }
  std::vector<std::size_t> row_to_col(n, 0);
  for (std::size_t j = 1; j <= n; ++j) {
    if (p[j]) row_to_col[p[j] - 1] = j - 1;
  }
  return row_to_col;
}

double distance(const Peak& a, const Peak& b) {
  const double ds = static_cast<double>(a.slow) - static_cast<double>(b.slow);
  const double df = static_cast<double>(a.fast) - static_cast<double>(b.fast);
  return std::sqrt(ds * ds + df * df);
}

}  // namespace

PeakMatching match_peaks(const std::vector<Peak>& ref, const std::vector<Peak>& test, double gate) {
  PeakMatching m;
  m.ref_peaks = ref.size();
  m.test_peaks = test.size();
  const std::size_t n = std::max(ref.size(), test.size());
  if (ref.empty() || test.empty()) return m;
  // Pairs beyond the gate cost as much as leaving both unmatched, so the
  // assignment never trades a close pair for a far one.
  const double far = gate + 1.0;
  std::vector<std::vector<double>> cost(n, std::vector<double>(n, far));
  for (std::size_t i = 0; i < ref.size(); ++i) {
    for (std::size_t j = 0; j < test.size(); ++j) cost[i][j] = std::min(distance(ref[i], test[j]), far);
  }
  const auto assign = hungarian(cost);
  double total = 0;
  for (std::size_t i = 0; i < ref.size(); ++i) {
    const std::size_t j = assign[i];
    if (j >= test.size()) continue;
    const double d = distance(ref[i], test[j]);
    if (d > gate) continue;
    m.pairs.emplace_back(i, j);
    total += d;
    m.max_displacement = std::max(m.max_displacement, d);
  }
  m.matched = m.pairs.size();
  m.matched_fraction = static_cast<double>(m.matched) / static_cast<double>(ref.size());
  m.mean_displacement = m.matched ? total / static_cast<double>(m.matched) : 0.0;
  return m;
}

Metrics compare(const Image& ref, const Image& test, const CompareOptions& opt) {
  if (ref.fast != test.fast || ref.slow != test.slow) {
    throw UsageError("images differ in shape: " + std::to_string(ref.fast) + "x" + std::to_string(ref.slow) + " vs " +
                     std::to_string(test.fast) + "x" + std::to_string(test.slow));
  }
  if (ref.data.empty() || test.data.empty()) throw InputError("the images have no pixels: nothing to compare");
  for (const Image* img : {&ref, &test}) {
    if (img->data.size() != img->fast * img->slow) {
      throw InputError("a " + std::to_string(img->fast) + "x" + std::to_string(img->slow) + " image holds " +
                       std::to_string(img->data.size()) + " values");
    }
  }
  Metrics m;
  m.roi = opt.roi ? *opt.roi : full_roi(ref);
  check_roi(m.roi, ref);
  m.pixels = m.roi.width() * m.roi.height();
  m.non_finite_ref = count_non_finite(ref, m.roi);
  m.non_finite_test = count_non_finite(test, m.roi);
  const bool all_finite = m.non_finite_ref.count == 0 && m.non_finite_test.count == 0;
  const auto both_finite = [&](double r, double t) { return all_finite || (std::isfinite(r) && std::isfinite(t)); };
  // Two passes in double: means first, then centred sums (stable correlation).
  double sr = 0, st = 0;
  for (std::size_t s = m.roi.ymin; s <= m.roi.ymax; ++s) {
    for (std::size_t f = m.roi.xmin; f <= m.roi.xmax; ++f) {
      const double r = ref.at(s, f), t = test.at(s, f);
      if (!both_finite(r, t)) continue;
      sr += r;
      st += t;
      ++m.compared;
    }
  }
  m.sum_ref = sr;
  m.sum_test = st;
  if (sr != 0) m.sum_ratio = st / sr;
  if (m.compared > 0) {
    const double n = static_cast<double>(m.compared);
    const double mr = sr / n, mt = st / n;
    double crt = 0, crr = 0, ctt = 0, sq = 0;
    for (std::size_t s = m.roi.ymin; s <= m.roi.ymax; ++s) {
      for (std::size_t f = m.roi.xmin; f <= m.roi.xmax; ++f) {
        const double r = ref.at(s, f), t = test.at(s, f);
        if (!both_finite(r, t)) continue;
        crt += (r - mr) * (t - mt);
        crr += (r - mr) * (r - mr);
        ctt += (t - mt) * (t - mt);
        const double d = t - r;
        sq += d * d;
        if (std::fabs(d) > m.max_abs_diff) {
          m.max_abs_diff = std::fabs(d);
          m.max_abs_diff_slow = s;
          m.max_abs_diff_fast = f;
        }
      }
    }
    if (crr > 0 && ctt > 0) m.correlation = crt / std::sqrt(crr * ctt);
    m.mse = sq / n;
    m.rmse = std::sqrt(m.mse);
  }
  m.ref_peaks = find_peaks(ref, m.roi, opt.top_peaks, opt.peak_percentile);
  m.test_peaks = find_peaks(test, m.roi, opt.top_peaks, opt.peak_percentile);
  m.peaks = match_peaks(m.ref_peaks, m.test_peaks, opt.peak_gate);
  return m;
}

std::vector<std::string> invalid_checks(const Metrics& m) {
  std::vector<std::string> out;
  if (m.non_finite_ref.count) out.emplace_back("non_finite_ref");
  if (m.non_finite_test.count) out.emplace_back("non_finite_test");
  if (m.compared == 0) out.emplace_back("nothing_compared");
  return out;
}

std::vector<std::string> invalid_messages(const Metrics& m) {
  std::vector<std::string> out;
  const auto side = [&](const char* name, const NonFinite& nf) {
    if (!nf.count) return;
    out.push_back(std::string(name) + " image has " + std::to_string(nf.count) + " non-finite pixel" +
                  (nf.count == 1 ? "" : "s") + " (first at slow " + std::to_string(nf.first_slow) + ", fast " +
                  std::to_string(nf.first_fast) + ": " + non_finite_name(nf.first_value) + ")");
  };
  side("reference", m.non_finite_ref);
  side("test", m.non_finite_test);
  if (m.compared == 0) {
    out.push_back("no pixel of the " + std::to_string(m.pixels) +
                  " in the region is finite in both images: nothing was compared");
  }
  return out;
}

namespace {

/// Encodes rows of `channels`-byte pixels as PNG into memory.
std::string encode_png(std::size_t width, std::size_t height, int color_type, const std::vector<unsigned char>& pixels) {
  png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, nullptr, nullptr, nullptr);
  if (!png) throw OutputError("libpng: cannot create a writer");
  png_infop info = png_create_info_struct(png);
  std::string out;
  if (!info || setjmp(png_jmpbuf(png))) {
    png_destroy_write_struct(&png, &info);
    throw OutputError("libpng: encoding failed");
  }
  png_set_write_fn(
      png, &out,
      [](png_structp p, png_bytep data, png_size_t len) {
        static_cast<std::string*>(png_get_io_ptr(p))->append(reinterpret_cast<const char*>(data), len);
      },
      nullptr);
  png_set_IHDR(png, info, static_cast<png_uint_32>(width), static_cast<png_uint_32>(height), 8, color_type,
               PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
  png_write_info(png, info);
  const std::size_t channels = color_type == PNG_COLOR_TYPE_RGB ? 3 : 1;
  for (std::size_t y = 0; y < height; ++y) {
    png_write_row(png, const_cast<png_bytep>(pixels.data() + y * width * channels));
  }
  png_write_end(png, nullptr);
  png_destroy_write_struct(&png, &info);
  return out;
}

}  // namespace

std::string png_preview(const Image& img, const Roi& roi, double vmax) {
  std::vector<unsigned char> px;
  px.reserve(roi.width() * roi.height());
  for (std::size_t s = roi.ymin; s <= roi.ymax; ++s) {
    for (std::size_t f = roi.xmin; f <= roi.xmax; ++f) {
      const float raw = img.at(s, f);
      double v = 0;  // NaN, -inf and everything at or below 0: black
      if (raw == std::numeric_limits<float>::infinity()) v = 1;
      else if (std::isfinite(raw) && vmax > 0) v = std::clamp(raw / vmax, 0.0, 1.0);
      px.push_back(static_cast<unsigned char>(std::lround(v * 255.0)));
    }
  }
  return encode_png(roi.width(), roi.height(), PNG_COLOR_TYPE_GRAY, px);
}

std::string png_diff(const Image& ref, const Image& test, const Roi& roi, double vmax) {
  std::vector<unsigned char> px;
  px.reserve(roi.width() * roi.height() * 3);
  for (std::size_t s = roi.ymin; s <= roi.ymax; ++s) {
    for (std::size_t f = roi.xmin; f <= roi.xmax; ++f) {
      const double raw = static_cast<double>(test.at(s, f)) - ref.at(s, f);
      if (std::isnan(raw)) {
        px.insert(px.end(), {0, 0, 0});
        continue;
      }
      // ±inf clamps to full colour even when vmax is 0.
      const double d = std::isinf(raw) ? (raw > 0 ? 1.0 : -1.0) : vmax > 0 ? std::clamp(raw / vmax, -1.0, 1.0) : 0.0;
      // White at zero, towards red (test brighter) or blue (test dimmer).
      const auto fade = static_cast<unsigned char>(std::lround(255.0 * (1.0 - std::fabs(d))));
      px.push_back(d >= 0 ? 255 : fade);
      px.push_back(fade);
      px.push_back(d <= 0 ? 255 : fade);
    }
  }
  return encode_png(roi.width(), roi.height(), PNG_COLOR_TYPE_RGB, px);
}

}  // namespace nbtrace::image
