#pragma once
// Image metrics as JSON, for any nlohmann JSON type: a ParityResult's
// (sorted keys) and nb-compare's summary.json (keys in this order) share it.
#include <cmath>
#include <nlohmann/json.hpp>

#include "nbtrace/parity/image.hpp"

namespace nbtrace::image {

template <typename Json>
void to_json(Json& j, const Shape& s) {
  j = Json::array({s.fast, s.slow});
}

template <typename Json>
void from_json(const Json& j, Shape& s) {
  s.fast = j.at(0).template get<std::size_t>();
  s.slow = j.at(1).template get<std::size_t>();
}

template <typename Json>
void to_json(Json& j, const Peak& p) {
  j = Json{{"slow", p.slow}, {"fast", p.fast}, {"value", p.value}};
}

template <typename Json>
void from_json(const Json& j, Peak& p) {
  j.at("slow").get_to(p.slow);
  j.at("fast").get_to(p.fast);
  j.at("value").get_to(p.value);
}

/// null when absent or not finite (JSON has no NaN).
template <typename Json>
Json optional_number(const std::optional<double>& v) {
  return v && std::isfinite(*v) ? Json(*v) : Json(nullptr);
}

/// null when not finite (JSON has no NaN); number_or_nan reads it back.
template <typename Json>
Json finite_or_null(double v) {
  return std::isfinite(v) ? Json(v) : Json(nullptr);
}
template <typename Json>
double number_or_nan(const Json& j) {
  return j.is_number() ? j.template get<double>() : std::nan("");
}

template <typename Json>
std::optional<double> read_optional_number(const Json& j) {
  return j.is_number() ? std::optional<double>(j.template get<double>()) : std::nullopt;
}

/// {"count": N, "first": {"slow", "fast", "value": "nan" | "inf" | "-inf"}},
/// "first" null when the count is 0 (JSON has no NaN).
template <typename Json>
void to_json(Json& j, const NonFinite& nf) {
  j = Json::object();
  j["count"] = nf.count;
  j["first"] = nf.count ? Json{{"slow", nf.first_slow}, {"fast", nf.first_fast}, {"value", non_finite_name(nf.first_value)}}
                        : Json(nullptr);
}

template <typename Json>
void from_json(const Json& j, NonFinite& nf) {
  nf = NonFinite{};
  j.at("count").get_to(nf.count);
  const Json& first = j.at("first");
  if (first.is_null()) return;
  first.at("slow").get_to(nf.first_slow);
  first.at("fast").get_to(nf.first_fast);
  nf.first_value = non_finite_value(first.at("value").template get<std::string>());
}

template <typename Json>
void to_json(Json& j, const Metrics& m) {
  j = Json::object();
  j["roi"] = Json::array({m.roi.xmin, m.roi.xmax, m.roi.ymin, m.roi.ymax});
  j["pixels"] = m.pixels;
  j["compared_pixels"] = m.compared;
  j["non_finite_ref"] = m.non_finite_ref;
  j["non_finite_test"] = m.non_finite_test;
  j["correlation"] = optional_number<Json>(m.correlation);
  j["mse"] = m.mse;
  j["rmse"] = m.rmse;
  j["max_abs_diff"] = m.max_abs_diff;
  j["max_abs_diff_at"] = {{"slow", m.max_abs_diff_slow}, {"fast", m.max_abs_diff_fast}};
  j["sum_ref"] = m.sum_ref;
  j["sum_test"] = m.sum_test;
  j["sum_ratio"] = optional_number<Json>(m.sum_ratio);
  j["peaks"] = {{"ref_found", m.peaks.ref_peaks},
                {"test_found", m.peaks.test_peaks},
                {"matched", m.peaks.matched},
                {"matched_fraction", m.peaks.matched_fraction},
                {"mean_displacement_px", m.peaks.mean_displacement},
                {"max_displacement_px", m.peaks.max_displacement},
                {"ref", m.ref_peaks},
                {"test", m.test_peaks}};
}

template <typename Json>
void from_json(const Json& j, Metrics& m) {
  const Json& roi = j.at("roi");
  m.roi = Roi{roi.at(0).template get<std::size_t>(), roi.at(1).template get<std::size_t>(),
              roi.at(2).template get<std::size_t>(), roi.at(3).template get<std::size_t>()};
  j.at("pixels").get_to(m.pixels);
  j.at("compared_pixels").get_to(m.compared);
  j.at("non_finite_ref").get_to(m.non_finite_ref);
  j.at("non_finite_test").get_to(m.non_finite_test);
  m.correlation = read_optional_number(j.at("correlation"));
  j.at("mse").get_to(m.mse);
  j.at("rmse").get_to(m.rmse);
  j.at("max_abs_diff").get_to(m.max_abs_diff);
  j.at("max_abs_diff_at").at("slow").get_to(m.max_abs_diff_slow);
  j.at("max_abs_diff_at").at("fast").get_to(m.max_abs_diff_fast);
  j.at("sum_ref").get_to(m.sum_ref);
  j.at("sum_test").get_to(m.sum_test);
  m.sum_ratio = read_optional_number(j.at("sum_ratio"));
  const Json& p = j.at("peaks");
  p.at("ref_found").get_to(m.peaks.ref_peaks);
  p.at("test_found").get_to(m.peaks.test_peaks);
  p.at("matched").get_to(m.peaks.matched);
  p.at("matched_fraction").get_to(m.peaks.matched_fraction);
  p.at("mean_displacement_px").get_to(m.peaks.mean_displacement);
  p.at("max_displacement_px").get_to(m.peaks.max_displacement);
  p.at("ref").get_to(m.ref_peaks);
  p.at("test").get_to(m.test_peaks);
}

/// The image metrics the PyTorch port's files carry, under its flat key names
/// ("c" the reference, "py" the side under test): nb_compare.py's
/// summary.json and the matrix's <case>/<run>_metrics.json both start with
/// them (nb-compare's PeerSummary and the matrix's SuiteRunMetrics extend it).
struct PeerImageMetrics {
  std::optional<double> correlation;  ///< Pearson r; null when either image is constant (the port wrote NaN)
  double mse = 0, rmse = 0, max_abs_diff = 0;
  double c_sum = 0, py_sum = 0;
  std::optional<double> sum_ratio;  ///< py_sum / c_sum; null when c_sum is 0 (the port wrote Infinity)
};

inline PeerImageMetrics peer_image_metrics(const Metrics& m) {
  return {m.correlation, m.mse, m.rmse, m.max_abs_diff, m.sum_ref, m.sum_test, m.sum_ratio};
}

/// Adds the seven keys to `j` in the port's order; non-finite numbers as null.
template <typename Json>
void write_peer_image_metrics(Json& j, const PeerImageMetrics& m) {
  const auto number = finite_or_null<Json>;
  j["correlation"] = optional_number<Json>(m.correlation);
  j["mse"] = number(m.mse);
  j["rmse"] = number(m.rmse);
  j["max_abs_diff"] = number(m.max_abs_diff);
  j["c_sum"] = number(m.c_sum);
  j["py_sum"] = number(m.py_sum);
  j["sum_ratio"] = optional_number<Json>(m.sum_ratio);
}

/// The seven keys back (null reads as NaN, or as absent for the optional ones).
template <typename Json>
void read_peer_image_metrics(const Json& j, PeerImageMetrics& m) {
  const auto number = number_or_nan<Json>;
  m.correlation = read_optional_number(j.at("correlation"));
  m.mse = number(j.at("mse"));
  m.rmse = number(j.at("rmse"));
  m.max_abs_diff = number(j.at("max_abs_diff"));
  m.c_sum = number(j.at("c_sum"));
  m.py_sum = number(j.at("py_sum"));
  m.sum_ratio = read_optional_number(j.at("sum_ratio"));
}

}  // namespace nbtrace::image
