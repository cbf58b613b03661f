#include "nbsim/summary.hpp"

#include <nlohmann/json.hpp>

#include "nbtrace/base/error.hpp"
#include "nbtrace/base/files.hpp"

namespace nbsim {

using nlohmann::json;

void to_json(json& j, const StatisticsRecord& s) {
  j = json{{"max_I", s.max_I}, {"max_I_x_m", s.max_I_x}, {"max_I_y_m", s.max_I_y}, {"mean", s.mean},
           {"rms", s.rms},     {"rmsd", s.rmsd},        {"pixels", s.pixels}};
}

void from_json(const json& j, StatisticsRecord& s) {
  j.at("max_I").get_to(s.max_I);
  j.at("max_I_x_m").get_to(s.max_I_x);
  j.at("max_I_y_m").get_to(s.max_I_y);
  j.at("mean").get_to(s.mean);
  j.at("rms").get_to(s.rms);
  j.at("rmsd").get_to(s.rmsd);
  j.at("pixels").get_to(s.pixels);
}

void to_json(json& j, const RunSummary& s) {
  j = json::object();
  j["tool"] = "nbsim";
  j["version"] = s.version;
  j["mode"] = s.mode;
  j["quirks"] = s.quirks;
  j["device"] = s.device;
  j["dtype"] = s.dtype;
  j["fpixels"] = s.fpixels;
  j["spixels"] = s.spixels;
  j["statistics"] = s.statistics;
  j["solid_angle_sr"] = s.solid_angle_sr;
  j["interpolation_stop"] = s.interpolation_stop
                                ? json{{"slow", s.interpolation_stop->first}, {"fast", s.interpolation_stop->second}}
                                : json(nullptr);
}

void from_json(const json& j, RunSummary& s) {
  j.at("version").get_to(s.version);
  j.at("mode").get_to(s.mode);
  // Summaries written before -quirk existed have no list.
  s.quirks = j.value("quirks", std::vector<std::string>{});
  j.at("device").get_to(s.device);
  j.at("dtype").get_to(s.dtype);
  j.at("fpixels").get_to(s.fpixels);
  j.at("spixels").get_to(s.spixels);
  j.at("statistics").get_to(s.statistics);
  j.at("solid_angle_sr").get_to(s.solid_angle_sr);
  const json& stop = j.at("interpolation_stop");
  if (stop.is_null()) s.interpolation_stop.reset();
  else s.interpolation_stop = std::pair<int, int>{stop.at("slow").get<int>(), stop.at("fast").get<int>()};
}

std::string summary_json_text(const RunSummary& s) { return json(s).dump(2) + "\n"; }

RunSummary read_summary(const std::string& path) {
  try {
    return json::parse(nbtrace::read_text_file(path)).get<RunSummary>();
  } catch (const json::exception& e) {
    throw nbtrace::InputError(path + ": not an nbsim -stats_json file (" + std::string(e.what()) + ")");
  }
}

}  // namespace nbsim
