#pragma once
// report.html: one self-contained page per parity bundle or matrix (inline
// PNG images and SVG, inline CSS, no script, a Content-Security-Policy that
// forbids every external load), so that it opens anywhere, offline, and is
// sealed with the bundle like any other file.
#include <cstddef>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "nbtrace/parity/image.hpp"
#include "nbtrace/parity/matrix.hpp"

namespace nbtrace::report {

namespace fs = std::filesystem;

inline constexpr const char* kReportName = "report.html";

/// Two images of one frame, shown as reference, test and signed difference
/// (test − ref) on one colour scale.
struct ImagePair {
  std::string title;
  std::string ref_label = "reference";
  std::string test_label = "test";
  image::Image ref, test;
};

/// One `nbtrace diff --json` document, shown as the per-field table.
struct TraceTable {
  std::string title;
  std::string file;     ///< the JSON's path in the bundle (a link)
  nlohmann::json diff;  ///< the document (diff_to_json's)
};

/// An SVG chart the bundle holds (attribution), inlined as it is.
struct Chart {
  std::string title;
  std::string file;
  std::string svg;
};

/// Everything a bundle's page shows.
struct ReportInput {
  std::string title;
  std::string verdict;
  /// Key facts in order (program, mode, correlation, ...): label, value.
  std::vector<std::pair<std::string, std::string>> facts;
  std::vector<ImagePair> images;
  std::vector<TraceTable> traces;
  std::vector<Chart> charts;
  std::vector<std::string> notes;  ///< failures, invalid-image messages: shown first
};

/// A pixel of largest |test − ref|, as marked and zoomed on the page.
struct WorstPixel {
  std::size_t slow = 0, fast = 0;
  double ref = 0, test = 0;
};

/// Where a panel lies on the page, in CSS pixels from the page's top left
/// (the overview row is laid out at fixed positions, so a browser test can
/// look at exactly those pixels of a screenshot).
struct PanelBox {
  std::string name;  ///< "ref", "test", "diff"
  int x = 0, y = 0, width = 0, height = 0;
};

/// What was written.
struct ReportWritten {
  std::string path;      ///< report.html, relative to the folder given
  std::size_t bytes = 0;
  std::size_t image_pairs = 0;
  std::size_t trace_tables = 0;
  std::size_t charts = 0;
  std::vector<WorstPixel> worst;  ///< of the first image pair
  std::vector<PanelBox> overview; ///< the first image pair's panels
  bool resealed = false;          ///< the bundle was sealed, and is again with the report
};
void to_json(nlohmann::json& j, const WorstPixel& w);
void from_json(const nlohmann::json& j, WorstPixel& w);
void to_json(nlohmann::json& j, const PanelBox& b);
void from_json(const nlohmann::json& j, PanelBox& b);
void to_json(nlohmann::json& j, const ReportWritten& r);
void from_json(const nlohmann::json& j, ReportWritten& r);

/// The page for `in`; `overview` (optional) receives the first pair's panel boxes.
std::string render_report(const ReportInput& in, std::vector<WorstPixel>* worst = nullptr,
                          std::vector<PanelBox>* overview = nullptr);

/// Reads what a parity bundle holds (`nbparity run`'s: metrics.json,
/// ref_image.bin and test_image.bin, diffs/*.json; the demo's: its
/// *_image.bin beside ref_image.bin; any attribution/*.svg). Throws
/// InputError when DIR is not a parity bundle (no metrics.json).
ReportInput read_parity_bundle(const fs::path& dir);

/// Renders DIR's report.html and writes it atomically, nothing else (the
/// parity engine's before_seal hook: the seal that follows lists it).
ReportWritten write_report_file(const fs::path& dir);

/// Renders DIR's report.html and writes it atomically; when DIR is sealed
/// (holds sha256.txt) it is sealed again by `tool`, so the manifest lists
/// the report and still verifies.
ReportWritten write_bundle_report(const fs::path& dir, const std::string& tool);

/// The page of a matrix run: one row per check (verdict, metrics, the first
/// divergence or failure), linking the files the check wrote under
/// `out_dir` and showing its difference image when there is one.
std::string render_matrix_report(const MatrixRun& run, const std::string& cases_file, const fs::path& out_dir);

}  // namespace nbtrace::report
