#pragma once
// What one nbsim run reports about its image, as a type: `-stats_json FILE`
// writes it (numbers round-trip), so tools that run nbsim read statistics
// without parsing its printed lines.
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <vector>

namespace nbsim {

/// The image statistics over the region of interest, as nanoBragg prints
/// them (max_I, mean, rms, rmsd), at full precision.
struct StatisticsRecord {
  double max_I = 0;
  double max_I_x = 0, max_I_y = 0;  ///< m: detector position of the brightest pixel's last sub-pixel
  double mean = 0, rms = 0, rmsd = 0;
  long pixels = 0;                  ///< pixels counted (ROI, unmasked)
};

struct RunSummary {
  std::string version;  ///< nbsim's
  std::string mode;     ///< spec or c-parity
  /// The quirk ids the run followed (the mode's set with -quirk/-no_quirk
  /// applied), in table order (nbsim/quirks.hpp).
  std::vector<std::string> quirks;
  std::string device;   ///< cpu or cuda
  std::string dtype;    ///< float64 or float32
  int fpixels = 0, spixels = 0;
  StatisticsRecord statistics;
  double solid_angle_sr = 0;  ///< solid angle the detector subtends
  /// Where interpolation stopped for good (slow, fast), when it did.
  std::optional<std::pair<int, int>> interpolation_stop;
};

void to_json(nlohmann::json& j, const StatisticsRecord& s);
void from_json(const nlohmann::json& j, StatisticsRecord& s);
void to_json(nlohmann::json& j, const RunSummary& s);
void from_json(const nlohmann::json& j, RunSummary& s);

/// `-stats_json` text: the summary as indented JSON with a final newline.
std::string summary_json_text(const RunSummary& s);
/// Reads a -stats_json file; throws nbtrace::InputError naming it.
RunSummary read_summary(const std::string& path);

}  // namespace nbsim
