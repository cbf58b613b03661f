#pragma once
// The flat keys of the PyTorch port's nb_compare.py summary.json, which
// nb-compare's runner mode writes beside its own nested ones, so scripts
// written for the peer read ours unchanged (docs/nb-compare.md, "Drop-in for
// nb_compare.py"). "c" is the reference side, "py" the side under test.
#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "nbtrace/parity/image_json.hpp"

namespace nbtrace {

struct PeerSummary : image::PeerImageMetrics {
  /// Displacement of the matched peak pairs in pixels (nb-compare's one-to-one
  /// matching under --peak-gate); null when no pair matched (the peer: NaN).
  std::optional<double> mean_peak_distance, max_peak_distance;
  std::int64_t runtime_c_ms = 0, runtime_py_ms = 0;  ///< wall time, whole milliseconds (truncated, as the peer)
  std::optional<double> speedup;                     ///< C time over Py time; null when the Py time is 0
  std::vector<std::string> args;                     ///< forwarded to both programs
  std::string c_binary, py_binary;                   ///< the commands' program parts, as sh words
  std::optional<std::array<std::size_t, 4>> roi;     ///< xmin xmax ymin ymax, inclusive pixels
  bool resample = false;
  std::string png_scale_method = "percentile";
  double png_scale_percentile = 99.5;
  std::optional<std::string> resample_note;  ///< present only when the Py image was resampled
};

template <typename Json>
void to_json(Json& j, const PeerSummary& s) {
  using image::optional_number;
  j = Json::object();
  image::write_peer_image_metrics(j, s);
  j["mean_peak_distance"] = optional_number<Json>(s.mean_peak_distance);
  j["max_peak_distance"] = optional_number<Json>(s.max_peak_distance);
  j["runtime_c_ms"] = s.runtime_c_ms;
  j["runtime_py_ms"] = s.runtime_py_ms;
  j["speedup"] = optional_number<Json>(s.speedup);
  j["args"] = s.args;
  j["c_binary"] = s.c_binary;
  j["py_binary"] = s.py_binary;
  j["roi"] = s.roi ? Json(*s.roi) : Json(nullptr);
  j["resample"] = s.resample;
  j["png_scale_method"] = s.png_scale_method;
  j["png_scale_percentile"] = s.png_scale_percentile;
  if (s.resample_note) j["resample_note"] = *s.resample_note;
}

template <typename Json>
void from_json(const Json& j, PeerSummary& s) {
  using image::read_optional_number;
  s = PeerSummary{};
  image::read_peer_image_metrics(j, s);
  s.mean_peak_distance = read_optional_number(j.at("mean_peak_distance"));
  s.max_peak_distance = read_optional_number(j.at("max_peak_distance"));
  j.at("runtime_c_ms").get_to(s.runtime_c_ms);
  j.at("runtime_py_ms").get_to(s.runtime_py_ms);
  s.speedup = read_optional_number(j.at("speedup"));
  j.at("args").get_to(s.args);
  j.at("c_binary").get_to(s.c_binary);
  j.at("py_binary").get_to(s.py_binary);
  if (!j.at("roi").is_null()) s.roi = j.at("roi").template get<std::array<std::size_t, 4>>();
  j.at("resample").get_to(s.resample);
  j.at("png_scale_method").get_to(s.png_scale_method);
  j.at("png_scale_percentile").get_to(s.png_scale_percentile);
  if (j.contains("resample_note")) s.resample_note = j.at("resample_note").template get<std::string>();
}

}  // namespace nbtrace
