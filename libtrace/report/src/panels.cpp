#include "panels.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "nbtrace/report/html.hpp"
#include "nbtrace/parity/engine.hpp"

namespace nbtrace::report::panels {

namespace {

/// At most this many image pixels per panel side: a full detector
/// (2463×2527) is max-pooled to about 616×632 so the page stays a few MiB.
constexpr std::size_t kMaxPanelPixels = 720;

struct Pooled {
  image::Image ref, test, diff;  ///< diff: test − ref, pooled by largest |Δ|
  std::size_t factor = 1;
};

/// Max-pools k×k blocks (the peaks stay visible); the difference keeps the
/// value of largest magnitude in each block, with its sign.
Pooled pool(const ImagePair& p) {
  Pooled out;
  const std::size_t longest = std::max(p.ref.fast, p.ref.slow);
  out.factor = std::max<std::size_t>(1, (longest + kMaxPanelPixels - 1) / kMaxPanelPixels);
  const std::size_t k = out.factor;
  const std::size_t fast = (p.ref.fast + k - 1) / k, slow = (p.ref.slow + k - 1) / k;
  for (image::Image* img : {&out.ref, &out.test, &out.diff}) {
    img->fast = fast;
    img->slow = slow;
    img->data.assign(fast * slow, 0.0f);
  }
  std::vector<bool> seen(fast * slow, false);
  for (std::size_t s = 0; s < p.ref.slow; ++s) {
    for (std::size_t f = 0; f < p.ref.fast; ++f) {
      const std::size_t i = (s / k) * fast + f / k;
      const float r = p.ref.at(s, f), t = p.test.at(s, f), d = t - r;
      if (!seen[i]) {
        out.ref.data[i] = r;
        out.test.data[i] = t;
        out.diff.data[i] = d;
        seen[i] = true;
        continue;
      }
      // NaN wins: a non-finite pixel must not be pooled away.
      if (std::isnan(r) || r > out.ref.data[i]) out.ref.data[i] = r;
      if (std::isnan(t) || t > out.test.data[i]) out.test.data[i] = t;
      if (std::isnan(d) || std::fabs(d) > std::fabs(out.diff.data[i])) out.diff.data[i] = d;
    }
  }
  return out;
}

image::Image zeros_like(const image::Image& img) {
  image::Image z;
  z.fast = img.fast;
  z.slow = img.slow;
  z.data.assign(img.data.size(), 0.0f);
  return z;
}

std::string png_uri(const std::string& png) { return html::data_uri("image/png", png); }

/// A panel: the PNG scaled to (w, h) CSS px inside an SVG, the worst pixels
/// circled (positions in image pixels, scaled).
std::string panel_svg(const std::string& png, std::size_t img_w, std::size_t img_h, int w, int h,
                      const std::vector<WorstPixel>& worst, double pixel_scale, const std::string& style,
                      const std::string& name) {
  std::string svg = fmt::format(
      "<svg class=\"panel\" data-panel=\"{}\" width=\"{}\" height=\"{}\" "
      "viewBox=\"0 0 {} {}\" style=\"{}\">"
      "<image width=\"{}\" height=\"{}\" preserveAspectRatio=\"none\" style=\"image-rendering:pixelated\" "
      "href=\"{}\"/>",
      name, w, h, img_w, img_h, style, img_w, img_h, png_uri(png));
  const double radius = std::max(3.0, 6.0 / pixel_scale);
  int rank = 1;
  for (const WorstPixel& p : worst) {
    svg += fmt::format("<circle cx=\"{:.2f}\" cy=\"{:.2f}\" r=\"{:.2f}\" fill=\"none\" stroke=\"#00e5ff\" "
                       "stroke-width=\"{:.2f}\"><title>#{} (slow {}, fast {})</title></circle>",
                       (static_cast<double>(p.fast) + 0.5) / pixel_scale, (static_cast<double>(p.slow) + 0.5) / pixel_scale,
                       radius, std::max(1.0, 1.5 / pixel_scale * (img_w > 0 ? 1.0 : 1.0)), rank, p.slow, p.fast);
    ++rank;
  }
  svg += "</svg>";
  return svg;
}

/// The colour bars under the overview: 0..vmax grey, −vmax..+vmax blue-white-red.
std::string scale_bars(const Scales& s, int left, int top) {
  std::string out = fmt::format(
      "<svg class=\"panel\" style=\"left:{}px;top:{}px;background:none\" "
      "width=\"{}\" height=\"40\">"
      "<defs><linearGradient id=\"g-grey\"><stop offset=\"0\" stop-color=\"#000\"/><stop offset=\"1\" stop-color=\"#fff\"/>"
      "</linearGradient><linearGradient id=\"g-diff\"><stop offset=\"0\" stop-color=\"#0000ff\"/>"
      "<stop offset=\"0.5\" stop-color=\"#fff\"/><stop offset=\"1\" stop-color=\"#ff0000\"/></linearGradient></defs>",
      left, top, 3 * kPanelSize + 2 * kGap);
  const int w2 = 2 * kPanelSize + kGap;
  out += fmt::format("<rect x=\"0\" y=\"0\" width=\"{}\" height=\"12\" fill=\"url(#g-grey)\" stroke=\"#888\"/>", w2);
  out += fmt::format("<text x=\"0\" y=\"28\" font-size=\"12\">0</text><text x=\"{}\" y=\"28\" font-size=\"12\" "
                     "text-anchor=\"end\">{} (and above)</text>",
                     w2, html::escape(html::number(s.vmax_image)));
  const int x3 = w2 + kGap;
  out += fmt::format("<rect x=\"{}\" y=\"0\" width=\"{}\" height=\"12\" fill=\"url(#g-diff)\" stroke=\"#888\"/>", x3,
                     kPanelSize);
  out += fmt::format("<text x=\"{}\" y=\"28\" font-size=\"12\">−{}</text><text x=\"{}\" y=\"28\" font-size=\"12\" "
                     "text-anchor=\"middle\">0</text><text x=\"{}\" y=\"28\" font-size=\"12\" text-anchor=\"end\">+{}</text>",
                     x3, html::escape(html::number(s.vmax_diff)), x3 + kPanelSize / 2, x3 + kPanelSize,
                     html::escape(html::number(s.vmax_diff)));
  out += "</svg>";
  return out;
}

}  // namespace

Scales scales_of(const ImagePair& pair) {
  Scales s;
  std::vector<float> both(pair.ref.data);
  both.insert(both.end(), pair.test.data.begin(), pair.test.data.end());
  s.vmax_image = image::percentile(both, 99.5);
  if (!(s.vmax_image > 0)) {
    float top = 0;
    for (const float v : both) top = std::isfinite(v) ? std::max(top, v) : top;
    s.vmax_image = top > 0 ? top : 1.0;
  }
  double dmax = 0;
  for (std::size_t i = 0; i < pair.ref.data.size(); ++i) {
    const double d = std::fabs(static_cast<double>(pair.test.data[i]) - pair.ref.data[i]);
    if (std::isfinite(d)) dmax = std::max(dmax, d);
  }
  s.vmax_diff = dmax > 0 ? dmax : 1.0;
  return s;
}

std::vector<WorstPixel> worst_of(const ImagePair& pair, std::size_t k) {
  std::vector<WorstPixel> out;
  for (const TracedPixel& p : worst_pixels(pair.ref, pair.test, k)) {
    WorstPixel w;
    w.slow = static_cast<std::size_t>(p.slow);
    w.fast = static_cast<std::size_t>(p.fast);
    w.ref = pair.ref.at(w.slow, w.fast);
    w.test = pair.test.at(w.slow, w.fast);
    if (w.ref == w.test) break;  // no difference left to show
    out.push_back(w);
  }
  return out;
}

std::string overview_html(const ImagePair& pair, const Scales& s, const std::vector<WorstPixel>& worst,
                          std::vector<PanelBox>& boxes) {
  const Pooled pooled = pool(pair);
  const double longest = static_cast<double>(std::max(pooled.ref.fast, pooled.ref.slow));
  const double css_per_pixel = kPanelSize / longest;
  const int w = static_cast<int>(std::lround(static_cast<double>(pooled.ref.fast) * css_per_pixel));
  const int h = static_cast<int>(std::lround(static_cast<double>(pooled.ref.slow) * css_per_pixel));
  const std::string pngs[3] = {image::png_preview(pooled.ref, image::full_roi(pooled.ref), s.vmax_image),
                               image::png_preview(pooled.test, image::full_roi(pooled.test), s.vmax_image),
                               image::png_diff(zeros_like(pooled.diff), pooled.diff, image::full_roi(pooled.diff),
                                               s.vmax_diff)};
  const char* names[3] = {"ref", "test", "diff"};
  const std::string captions[3] = {pair.ref_label, pair.test_label,
                                   "difference (" + pair.test_label + " − " + pair.ref_label + ")"};
  std::string out = "<section class=\"overview\">\n";
  boxes.clear();
  for (int i = 0; i < 3; ++i) {
    const int x = kLeft + i * (kPanelSize + kGap);
    out += fmt::format("<div class=\"caption\" style=\"left:{}px;top:2px;width:{}px\">{}</div>\n", x, kPanelSize,
                       html::escape(captions[i]));
    out += panel_svg(pngs[i], pooled.ref.fast, pooled.ref.slow, w, h, worst, static_cast<double>(pooled.factor),
                     fmt::format("left:{}px;top:{}px", x, kCaptionHeight), names[i]) +
           "\n";
    boxes.push_back(PanelBox{names[i], x, kHeaderHeight + kCaptionHeight, w, h});
  }
  out += scale_bars(s, kLeft, kCaptionHeight + kPanelSize + 8);
  out += "\n</section>\n";
  return out;
}

std::string pair_html(const ImagePair& pair) {
  const Scales s = scales_of(pair);
  const Pooled pooled = pool(pair);
  const std::string pngs[3] = {image::png_preview(pooled.ref, image::full_roi(pooled.ref), s.vmax_image),
                               image::png_preview(pooled.test, image::full_roi(pooled.test), s.vmax_image),
                               image::png_diff(zeros_like(pooled.diff), pooled.diff, image::full_roi(pooled.diff),
                                               s.vmax_diff)};
  std::string out = fmt::format("<h3>{}</h3>\n<p>{} | {} | difference; images 0 to {}, difference ±{}</p>\n<p>",
                                html::escape(pair.title), html::escape(pair.ref_label), html::escape(pair.test_label),
                                html::escape(html::number(s.vmax_image)), html::escape(html::number(s.vmax_diff)));
  for (const std::string& png : pngs)
    out += "<img class=\"pair\" style=\"width:240px;image-rendering:pixelated;margin-right:8px;border:1px solid #888\" src=\"" +
           png_uri(png) + "\" alt=\"\">";
  out += "</p>\n";
  return out;
}

std::string zooms_html(const ImagePair& pair, const Scales& s, const std::vector<WorstPixel>& worst) {
  if (worst.empty()) return "<p>The two images are equal pixel for pixel: no difference to mark.</p>\n";
  std::string out =
      "<h2>Worst pixels</h2>\n<table><tr><th>#</th><th>slow</th><th>fast</th><th>" + html::escape(pair.ref_label) +
      "</th><th>" + html::escape(pair.test_label) + "</th><th>Δ</th></tr>\n";
  int rank = 1;
  for (const WorstPixel& w : worst) {
    out += fmt::format("<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>\n", rank++, w.slow,
                       w.fast, html::number(w.ref), html::number(w.test), html::number(w.test - w.ref));
  }
  out += "</table>\n";
  constexpr std::size_t kHalf = 10;  // 21×21 image pixels around the worst pixel
  const std::size_t shown = std::min<std::size_t>(3, worst.size());
  for (std::size_t i = 0; i < shown; ++i) {
    const WorstPixel& w = worst[i];
    image::Roi roi;
    roi.xmin = w.fast > kHalf ? w.fast - kHalf : 0;
    roi.xmax = std::min(pair.ref.fast - 1, w.fast + kHalf);
    roi.ymin = w.slow > kHalf ? w.slow - kHalf : 0;
    roi.ymax = std::min(pair.ref.slow - 1, w.slow + kHalf);
    out += fmt::format("<p class=\"zooms\">#{} around (slow {}, fast {}), pixels {}–{} × {}–{}:<br>", i + 1, w.slow,
                       w.fast, roi.ymin, roi.ymax, roi.xmin, roi.xmax);
    out += "<img class=\"zoom\" alt=\"\" src=\"" + png_uri(image::png_preview(pair.ref, roi, s.vmax_image)) + "\">";
    out += "<img class=\"zoom\" alt=\"\" src=\"" + png_uri(image::png_preview(pair.test, roi, s.vmax_image)) + "\">";
    out += "<img class=\"zoom\" alt=\"\" src=\"" + png_uri(image::png_diff(pair.ref, pair.test, roi, s.vmax_diff)) +
           "\"></p>\n";
  }
  return out;
}

}  // namespace nbtrace::report::panels
