// A parity bundle's report.html: what the bundle holds, read back from its
// files (so `nbparity report DIR` rebuilds it for any existing bundle), and
// rendered into one page.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <fstream>

#include "nbtrace/report/html.hpp"
#include "nbtrace/base/error.hpp"
#include "nbtrace/base/files.hpp"
#include "nbtrace/bundle/bundle.hpp"
#include "nbtrace/parity/image_json.hpp"
#include "nbtrace/report/report.hpp"
#include "panels.hpp"

namespace nbtrace::report {

using nlohmann::json;

void to_json(json& j, const WorstPixel& w) {
  j = {{"slow", w.slow}, {"fast", w.fast}, {"ref", w.ref}, {"test", w.test}};
}
void from_json(const json& j, WorstPixel& w) {
  j.at("slow").get_to(w.slow);
  j.at("fast").get_to(w.fast);
  j.at("ref").get_to(w.ref);
  j.at("test").get_to(w.test);
}
void to_json(json& j, const PanelBox& b) {
  j = {{"name", b.name}, {"x", b.x}, {"y", b.y}, {"width", b.width}, {"height", b.height}};
}
void from_json(const json& j, PanelBox& b) {
  j.at("name").get_to(b.name);
  j.at("x").get_to(b.x);
  j.at("y").get_to(b.y);
  j.at("width").get_to(b.width);
  j.at("height").get_to(b.height);
}
void to_json(json& j, const ReportWritten& r) {
  j = {{"path", r.path},         {"bytes", r.bytes},   {"image_pairs", r.image_pairs}, {"trace_tables", r.trace_tables},
       {"charts", r.charts},     {"worst", r.worst},   {"overview", r.overview},       {"resealed", r.resealed}};
}
void from_json(const json& j, ReportWritten& r) {
  j.at("path").get_to(r.path);
  j.at("bytes").get_to(r.bytes);
  j.at("image_pairs").get_to(r.image_pairs);
  j.at("trace_tables").get_to(r.trace_tables);
  j.at("charts").get_to(r.charts);
  j.at("worst").get_to(r.worst);
  j.at("overview").get_to(r.overview);
  j.at("resealed").get_to(r.resealed);
}

namespace {

/// A number of metrics.json or a diff document; null (written for a
/// non-finite value, image_json.hpp) or absent: none.
std::optional<double> number_at(const json& j, const char* key) {
  return image::read_optional_number(j.value(key, json(nullptr)));
}

std::string cell(const json& v) {
  if (v.is_null()) return "—";
  if (v.is_number()) return html::number(v.get<double>());
  if (v.is_string()) return v.get<std::string>();
  return v.dump();
}

/// A field's label as nbtrace diff names it: NAME, NAME[i], with its loop.
std::string field_label(const json& f) {
  std::string label = f.value("name", std::string());
  if (f.contains("loop") && f["loop"].is_object() && !f["loop"].empty()) {
    std::string loop;
    for (const auto& [k, v] : f["loop"].items()) loop += (loop.empty() ? "" : ",") + k + "=" + cell(v);
    label += " @" + loop;
  }
  return label;
}

std::string trace_table_html(const TraceTable& t, std::size_t index) {
  const json& d = t.diff;
  const std::string verdict = d.value("verdict", std::string("?"));
  const json detail = d.value("first_divergence_detail", json(nullptr));
  const long first_ref_line = detail.is_object() ? detail.value("ref_line", -1L) : -1L;
  std::string out = fmt::format("<h3 id=\"trace-{}\">{} <span class=\"verdict {}\">{}</span></h3>\n", index,
                                html::escape(t.title), html::status_class(verdict), html::escape(verdict));
  out += fmt::format("<p>{} fields compared, {} divergent, {} waived, {} non-finite, {} on one side only; relative "
                     "tolerance {}. <a href=\"{}\">{}</a></p>\n",
                     d.value("num_compared", 0), d.value("num_divergent", 0), d.value("num_waived", 0),
                     d.value("num_non_finite", 0), d.value("num_missing", 0), html::number(number_at(d, "tolerance_rel")),
                     html::escape(t.file), html::escape(t.file));
  if (detail.is_object()) {
    out += fmt::format("<p>First divergence: <b>{}</b> ({}), reference line {}, test line {}.</p>\n",
                       html::escape(detail.value("label", std::string())), html::escape(detail.value("status", std::string())),
                       detail.value("ref_line", 0L), detail.value("test_line", 0L));
  } else {
    out += "<p>No divergence.</p>\n";
  }
  std::string compared, missing;
  std::size_t missing_count = 0;
  bool first_marked = false;
  for (const json& f : d.value("fields", json::array())) {
    const std::string status = f.value("status", std::string());
    const bool is_first = !first_marked && first_ref_line >= 0 && f.value("ref_line", -2L) == first_ref_line &&
                          status != "PASS" && status != "MISSING" && status != "WAIVED";
    first_marked = first_marked || is_first;
    const std::string row = fmt::format(
        "<tr{}><td><code>{}</code></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td class=\"{}\">{}</td></tr>\n",
        is_first ? " class=\"first\" id=\"first-divergence-" + std::to_string(index) + "\"" : "",
        html::escape(field_label(f)), f.value("component", 0), html::escape(cell(f.value("ref", json(nullptr)))),
        html::escape(cell(f.value("test", json(nullptr)))), html::escape(cell(f.value("rel_delta", json(nullptr)))),
        html::status_class(status), html::escape(status));
    if (status == "MISSING") {
      missing += row;
      ++missing_count;
    } else {
      compared += row;
    }
  }
  const std::string head = "<tr><th>field</th><th>component</th><th>reference</th><th>test</th><th>rel Δ</th><th>status</th></tr>\n";
  out += "<table>\n" + head + compared + "</table>\n";
  if (missing_count > 0) {
    out += fmt::format("<details><summary>{} fields on one side only</summary>\n<table>\n{}{}</table></details>\n",
                       missing_count, head, missing);
  }
  return out;
}

}  // namespace

std::string render_report(const ReportInput& in, std::vector<WorstPixel>* worst_out, std::vector<PanelBox>* boxes_out) {
  std::string body = fmt::format("<header><h1>{}</h1><div>Verdict: <span class=\"verdict {}\" id=\"verdict\">{}</span>"
                                 " · nbparity report, self-contained (no external resources)</div></header>\n",
                                 html::escape(in.title), html::status_class(in.verdict), html::escape(in.verdict));
  int flow_top = panels::kHeaderHeight + 8;
  std::vector<WorstPixel> worst;
  std::vector<PanelBox> boxes;
  panels::Scales scales;
  if (!in.images.empty()) {
    const ImagePair& first = in.images.front();
    scales = panels::scales_of(first);
    worst = panels::worst_of(first, 8);
    body += panels::overview_html(first, scales, worst, boxes);
    flow_top = panels::kHeaderHeight + panels::kOverviewHeight + 8;
  }
  // The header and the overview are placed absolutely, so they do not push
  // the flow down: it starts below them by their heights.
  body += fmt::format("<div class=\"flow\" style=\"padding-top:{}px\">\n", flow_top);
  for (const std::string& n : in.notes) body += "<div class=\"note\">" + html::escape(n) + "</div>\n";
  if (!in.facts.empty()) {
    body += "<h2>Run</h2>\n<table>\n";
    for (const auto& [k, v] : in.facts)
      body += "<tr><th>" + html::escape(k) + "</th><td>" + html::escape(v) + "</td></tr>\n";
    body += "</table>\n";
  }
  if (!in.images.empty()) {
    const ImagePair& first = in.images.front();
    body += "<h2>" + html::escape(first.title) + "</h2>\n";
    body += fmt::format("<p>{} × {} pixels (fast × slow); both images on one scale, 0 to {} (the 99.5th percentile of "
                        "both); the difference ±{} (its largest magnitude). Circles: the pixels of largest |Δ|.</p>\n",
                        first.ref.fast, first.ref.slow, html::escape(html::number(scales.vmax_image)),
                        html::escape(html::number(scales.vmax_diff)));
    body += panels::zooms_html(first, scales, worst);
    for (std::size_t i = 1; i < in.images.size(); ++i) body += panels::pair_html(in.images[i]);
  }
  if (!in.traces.empty()) {
    body += "<h2>Traces</h2>\n";
    for (std::size_t i = 0; i < in.traces.size(); ++i) body += trace_table_html(in.traces[i], i);
  }
  for (const Chart& c : in.charts) {
    body += "<h2>" + html::escape(c.title) + "</h2>\n<p><img alt=\"\" src=\"" + html::data_uri("image/svg+xml", c.svg) +
            "\"> <a href=\"" + html::escape(c.file) + "\">" + html::escape(c.file) + "</a></p>\n";
  }
  body += "</div>\n";
  if (worst_out) *worst_out = worst;
  if (boxes_out) *boxes_out = boxes;
  return html::page(in.title, body);
}

ReportInput read_parity_bundle(const fs::path& dir) {
  if (!fs::is_directory(dir)) throw InputError(dir.string() + ": no such folder");
  const fs::path metrics_file = dir / "metrics.json";
  if (!fs::is_regular_file(metrics_file))
    throw InputError(dir.string() + ": not a parity bundle (no metrics.json)");
  json m;
  try {
    m = json::parse(read_text_file(metrics_file));
  } catch (const json::exception& e) {
    throw InputError(metrics_file.string() + ": not JSON (" + e.what() + ")");
  }
  ReportInput in;
  const std::string id = m.value("bundle_id", dir.filename().string());
  in.title = fmt::format("{} {}", m.value("tool", std::string("parity bundle")), id);
  // nbparity run's verdict; the demo records whether its expectations hold.
  if (m.contains("verdict") && m["verdict"].is_string()) {
    in.verdict = m["verdict"].get<std::string>();
  } else if (m.contains("expectations_hold") && m["expectations_hold"].is_boolean()) {
    in.verdict = m["expectations_hold"].get<bool>() ? "PASS" : "DIVERGENT";
    in.facts.emplace_back("expectations", m["expectations_hold"].get<bool>() ? "hold" : "do not hold");
  } else {
    in.verdict = "UNKNOWN";
    in.notes.push_back("metrics.json records no verdict");
  }
  if (m.contains("case") && m["case"].is_string()) in.facts.emplace_back("case", m["case"].get<std::string>());
  if (m.contains("programs") && m["programs"].is_object()) {
    for (const auto& [side, p] : m["programs"].items()) {
      in.facts.emplace_back(side + " program", fmt::format("{} (exit {}, {:.2f} s)", p.value("binary", std::string()),
                                                           p.value("exit_code", 0), p.value("runtime_s", 0.0)));
    }
  }
  if (m.contains("mode") && m["mode"].is_string()) in.facts.emplace_back("mode", m["mode"].get<std::string>());
  if (m.contains("args") && m["args"].is_array()) {
    std::string args;
    for (const json& a : m["args"]) args += (args.empty() ? "" : " ") + cell(a);
    in.facts.emplace_back("simulator arguments", args);
  }
  std::optional<image::Shape> shape;
  if (m.contains("image") && m["image"].is_object()) {
    const json& im = m["image"];
    if (im.contains("shape")) shape = im["shape"].get<image::Shape>();
    in.facts.emplace_back("correlation", html::number(number_at(im, "correlation")));
    in.facts.emplace_back("sum ratio (test/ref)", html::number(number_at(im, "sum_ratio")));
    in.facts.emplace_back("RMSE", html::number(number_at(im, "rmse")));
    in.facts.emplace_back("max |Δ|", html::number(number_at(im, "max_abs_diff")));
    in.facts.emplace_back("peaks matched", html::number(number_at(im, "peaks_matched_fraction")));
    for (const char* side : {"non_finite_ref", "non_finite_test"}) {
      if (im.value(side, json(0)).is_number() && im.value(side, 0) > 0)
        in.notes.push_back(fmt::format("{}: {} non-finite pixels", side, im.value(side, 0)));
    }
  }
  if (m.contains("trace_tolerance")) in.facts.emplace_back("trace tolerance (relative)", cell(m["trace_tolerance"]));
  for (const json& f : m.value("failures", json::array())) in.notes.push_back("Failure: " + cell(f));

  // ref_image.bin against test_image.bin (nbparity run), then against every
  // other *_image.bin (the demo's nbsim images), the most different first.
  const fs::path ref_file = dir / "ref_image.bin";
  if (fs::is_regular_file(ref_file)) {
    const image::Image ref = image::read_image(ref_file.string(), shape);
    std::vector<fs::path> tests;
    if (fs::is_regular_file(dir / "test_image.bin")) tests.push_back(dir / "test_image.bin");
    std::vector<fs::path> others;
    for (const auto& e : fs::directory_iterator(dir)) {
      const std::string name = e.path().filename().string();
      if (e.is_regular_file() && name.ends_with("_image.bin") && name != "ref_image.bin" && name != "test_image.bin")
        others.push_back(e.path());
    }
    std::sort(others.begin(), others.end());
    tests.insert(tests.end(), others.begin(), others.end());
    std::vector<std::pair<double, ImagePair>> pairs;
    for (const fs::path& t : tests) {
      ImagePair p;
      p.ref = ref;
      p.test = image::read_image(t.string(), shape ? shape : std::optional<image::Shape>(ref.shape()));
      const std::string stem = t.stem().string();
      p.test_label = t.filename() == "test_image.bin" ? "test" : stem.substr(0, stem.size() - std::string("_image").size());
      p.title = "Images: " + p.test_label + " against the reference";
      if (!(p.ref.shape() == p.test.shape())) {
        in.notes.push_back(t.filename().string() + ": a different shape from ref_image.bin; not shown");
        continue;
      }
      double largest = 0;
      for (std::size_t i = 0; i < p.ref.data.size(); ++i) {
        const double d = std::fabs(static_cast<double>(p.test.data[i]) - p.ref.data[i]);
        largest = std::isnan(d) ? HUGE_VAL : std::max(largest, d);
      }
      pairs.emplace_back(t.filename() == "test_image.bin" ? HUGE_VAL : largest, std::move(p));
    }
    std::stable_sort(pairs.begin(), pairs.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
    for (auto& [largest, p] : pairs) in.images.push_back(std::move(p));
  }
  std::vector<fs::path> diffs;
  if (fs::is_directory(dir / "diffs"))
    for (const auto& e : fs::directory_iterator(dir / "diffs"))
      if (e.is_regular_file() && e.path().extension() == ".json") diffs.push_back(e.path());
  std::sort(diffs.begin(), diffs.end());
  for (const fs::path& p : diffs) {
    json d;
    try {
      d = json::parse(read_text_file(p));
    } catch (const json::exception& e) {
      throw InputError(p.string() + ": not JSON (" + e.what() + ")");
    }
    if (d.value("tool", std::string()) != "nbtrace diff") continue;
    const std::string rel = fs::relative(p, dir).generic_string();
    in.traces.push_back(TraceTable{"Trace diff " + p.stem().string(), rel, std::move(d)});
  }
  std::vector<fs::path> svgs;
  for (const fs::path& folder : {dir, dir / "attribution"})
    if (fs::is_directory(folder))
      for (const auto& e : fs::directory_iterator(folder))
        if (e.is_regular_file() && e.path().extension() == ".svg") svgs.push_back(e.path());
  std::sort(svgs.begin(), svgs.end());
  for (const fs::path& p : svgs)
    in.charts.push_back(Chart{"Chart " + p.stem().string(), fs::relative(p, dir).generic_string(), read_text_file(p)});
  return in;
}

ReportWritten write_report_file(const fs::path& dir) {
  const ReportInput in = read_parity_bundle(dir);
  ReportWritten out;
  const std::string page = render_report(in, &out.worst, &out.overview);
  write_file_atomic(dir / kReportName, page);
  out.path = kReportName;
  out.bytes = page.size();
  out.image_pairs = in.images.size();
  out.trace_tables = in.traces.size();
  out.charts = in.charts.size();
  return out;
}

ReportWritten write_bundle_report(const fs::path& dir, const std::string& tool) {
  const bool sealed = fs::is_regular_file(dir / bundle::kManifestName);
  if (sealed) {
    // Resealing a bundle that does not verify would bless whatever changed
    // in it: refuse, and leave it as it is.
    const bundle::VerifyResult v = bundle::verify_manifest(dir, bundle::kManifestName, 0, false);
    if (!v.all_ok())
      throw InputError(dir.string() + ": the bundle does not verify (nbbundle verify " + dir.string() +
                       "); no report written");
  }
  ReportWritten out = write_report_file(dir);
  if (sealed) {
    bundle::SealOptions seal;
    seal.dir = dir.string();
    seal.tool = tool;
    bundle::seal_bundle(seal);
    out.resealed = true;
  }
  return out;
}

}  // namespace nbtrace::report
