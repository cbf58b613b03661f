#pragma once
// The image panels of a report (private): reference, test and signed
// difference on one colour scale, the worst pixels marked and zoomed.
#include <string>
#include <vector>

#include "nbtrace/report/report.hpp"

namespace nbtrace::report::panels {

/// Page layout of the overview row, CSS pixels.
inline constexpr int kHeaderHeight = 64;  ///< the fixed header above it
inline constexpr int kCaptionHeight = 24;
inline constexpr int kPanelSize = 360;    ///< each panel fits a square of this side
inline constexpr int kGap = 24;
inline constexpr int kLeft = 16;
/// Height of the overview block below the header (captions, panels, scale).
inline constexpr int kOverviewHeight = kCaptionHeight + kPanelSize + 56;

/// The colour scales of one pair: images linear from 0 to vmax_image (the
/// 99.5th percentile of both sides' finite values, so that a few hot pixels
/// do not leave the rest black), differences ±vmax_diff (the largest |Δ|).
struct Scales {
  double vmax_image = 1;
  double vmax_diff = 1;
};
Scales scales_of(const ImagePair& pair);

/// The k pixels of largest |test − ref|.
std::vector<WorstPixel> worst_of(const ImagePair& pair, std::size_t k);

/// The overview row (absolutely placed below the header): three panels
/// with the worst pixels circled; their boxes go to `boxes`.
std::string overview_html(const ImagePair& pair, const Scales& s, const std::vector<WorstPixel>& worst,
                          std::vector<PanelBox>& boxes);

/// A pair shown in the page's flow (the second and later pairs): the same
/// three panels, smaller, without fixed positions.
std::string pair_html(const ImagePair& pair);

/// The zoomed panels (21×21 pixels around each worst pixel, ref | test |
/// diff, at 8×) and the table of the worst pixels.
std::string zooms_html(const ImagePair& pair, const Scales& s, const std::vector<WorstPixel>& worst);

}  // namespace nbtrace::report::panels
