// The explain result as JSON (to_json/from_json beside the types), as
// explain.md and as the lines the tool prints.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>

#include "nbtrace/base/numbers.hpp"
#include "nbtrace/explain/explain.hpp"
#include "nbtrace/report/html.hpp"

namespace nbtrace::explain {

using nlohmann::json;

namespace {

template <typename T>
void put_optional(json& j, const char* key, const std::optional<T>& v) {
  j[key] = v ? json(*v) : json(nullptr);
}

template <typename T>
void get_optional(const json& j, const char* key, std::optional<T>& v) {
  if (j.contains(key) && !j.at(key).is_null()) v = j.at(key).get<T>();
  else v.reset();
}

std::string ids(const std::vector<std::string>& q) { return q.empty() ? "(none: spec)" : fmt::format("{}", fmt::join(q, " + ")); }

std::string pct(const std::optional<double>& v) { return v ? fmt::format("{:.2f}%", 100 * *v) : "-"; }

std::string num(const std::optional<double>& v) { return v ? fmt::format("{:.9g}", *v) : "-"; }

}  // namespace

void to_json(json& j, const PixelGap& v) {
  j = json{{"slow", v.slow}, {"fast", v.fast}, {"port_I_before_scaling", v.port}, {"c_I_before_scaling", v.c}};
}
void from_json(const json& j, PixelGap& v) {
  j.at("slow").get_to(v.slow);
  j.at("fast").get_to(v.fast);
  j.at("port_I_before_scaling").get_to(v.port);
  j.at("c_I_before_scaling").get_to(v.c);
}

void to_json(json& j, const TraceMatch& v) {
  j = json{{"fields_compared", v.compared}, {"fields_agree", v.agree}, {"I_before_scaling_rel_gap", v.i_rel_gap}};
}
void from_json(const json& j, TraceMatch& v) {
  j.at("fields_compared").get_to(v.compared);
  j.at("fields_agree").get_to(v.agree);
  v.i_rel_gap.clear();
  // NaN (a zero on the side) is written as null.
  for (const json& x : j.at("I_before_scaling_rel_gap")) v.i_rel_gap.push_back(x.is_null() ? std::nan("") : x.get<double>());
}

void to_json(json& j, const ImageMatch& v) {
  j = json::object();
  put_optional(j, "correlation", v.correlation);
  put_optional(j, "sum_ratio", v.sum_ratio);
}
void from_json(const json& j, ImageMatch& v) {
  get_optional(j, "correlation", v.correlation);
  get_optional(j, "sum_ratio", v.sum_ratio);
}

void to_json(json& j, const SetRun& v) {
  j = json{{"quirks", v.quirks}, {"I_before_scaling", v.i_before_scaling}, {"mismatch_port", v.mismatch_port},
           {"mismatch_c", v.mismatch_c}};
  put_optional(j, "vs_port_trace", v.vs_port_trace);
  put_optional(j, "vs_c_trace", v.vs_c_trace);
  put_optional(j, "vs_port_image", v.vs_port_image);
  put_optional(j, "vs_c_image", v.vs_c_image);
}
void from_json(const json& j, SetRun& v) {
  j.at("quirks").get_to(v.quirks);
  v.i_before_scaling.clear();
  for (const json& x : j.at("I_before_scaling")) v.i_before_scaling.push_back(x.is_null() ? std::nan("") : x.get<double>());
  j.at("mismatch_port").get_to(v.mismatch_port);
  j.at("mismatch_c").get_to(v.mismatch_c);
  get_optional(j, "vs_port_trace", v.vs_port_trace);
  get_optional(j, "vs_c_trace", v.vs_c_trace);
  get_optional(j, "vs_port_image", v.vs_port_image);
  get_optional(j, "vs_c_image", v.vs_c_image);
}

void to_json(json& j, const Explanation& v) {
  j = json{{"quirks", v.quirks}, {"share", v.share}, {"port_quirks", v.port_quirks}, {"c_quirks", v.c_quirks}};
  put_optional(j, "share_I_before_scaling", v.share_i_before_scaling);
  put_optional(j, "share_image", v.share_image);
}
void from_json(const json& j, Explanation& v) {
  j.at("quirks").get_to(v.quirks);
  j.at("share").get_to(v.share);
  j.at("port_quirks").get_to(v.port_quirks);
  j.at("c_quirks").get_to(v.c_quirks);
  get_optional(j, "share_I_before_scaling", v.share_i_before_scaling);
  get_optional(j, "share_image", v.share_image);
}

void to_json(json& j, const FirstDivergence& v) {
  j = json{{"slow", v.slow}, {"fast", v.fast}, {"field", v.field}, {"status", v.status}, {"max_abs_rel", v.max_abs_rel}};
}
void from_json(const json& j, FirstDivergence& v) {
  j.at("slow").get_to(v.slow);
  j.at("fast").get_to(v.fast);
  j.at("field").get_to(v.field);
  j.at("status").get_to(v.status);
  v.max_abs_rel = j.at("max_abs_rel").is_null() ? std::nan("") : j.at("max_abs_rel").get<double>();
}

void to_json(json& j, const ExplainResult& v) {
  j = json{{"tool", "nbparity explain"},
           {"verdict", v.verdict},
           {"threshold", v.threshold},
           {"pixels", v.pixels},
           {"port_set", v.port_set},
           {"c_set", v.c_set},
           {"explanations", v.explanations},
           {"inert", v.inert},
           {"runs", v.runs}};
  put_optional(j, "port_vs_c_image", v.port_vs_c_image);
  put_optional(j, "first_divergence", v.first_divergence);
  put_optional(j, "c_threads", v.c_threads);
  if (!v.c_threads_note.empty()) j["c_threads_note"] = v.c_threads_note;
}
void from_json(const json& j, ExplainResult& v) {
  j.at("verdict").get_to(v.verdict);
  j.at("threshold").get_to(v.threshold);
  j.at("pixels").get_to(v.pixels);
  j.at("port_set").get_to(v.port_set);
  j.at("c_set").get_to(v.c_set);
  j.at("explanations").get_to(v.explanations);
  j.at("inert").get_to(v.inert);
  j.at("runs").get_to(v.runs);
  get_optional(j, "port_vs_c_image", v.port_vs_c_image);
  get_optional(j, "first_divergence", v.first_divergence);
  get_optional(j, "c_threads", v.c_threads);
  v.c_threads_note = j.value("c_threads_note", std::string());
}

std::string explain_summary(const ExplainResult& r) {
  std::string s;
  if (r.verdict == "no_gap") return "explain: no gap: the port and nanoBragg.c agree in everything compared\n";
  if (r.verdict == "explained") {
    const Explanation& e = r.explanations.front();
    s += fmt::format("explain: {} explains {} of the port-vs-C gap (port modelled by {}, C by {})\n", ids(e.quirks),
                     pct(e.share), ids(e.port_quirks), ids(e.c_quirks));
  } else {
    s += fmt::format("explain: no quirk set explains the gap (best: {} at {}; threshold {})\n",
                     r.explanations.empty() ? "none" : ids(r.explanations.front().quirks),
                     r.explanations.empty() ? "-" : pct(r.explanations.front().share), pct(r.threshold));
  }
  s += fmt::format("nbsim reproduces the port with {}, nanoBragg.c with {}\n", ids(r.port_set), ids(r.c_set));
  if (r.c_threads)
    s += fmt::format("C's image is nanoBragg.c's with {} OpenMP thread{}: nbsim reproduces it bit for bit{}\n", *r.c_threads,
                     *r.c_threads == 1 ? "" : "s", *r.c_threads == 1 ? "" : fmt::format(" with -c_threads {}", *r.c_threads));
  else if (!r.c_threads_note.empty())
    s += "thread count: " + r.c_threads_note + "\n";
  if (r.first_divergence)
    s += fmt::format("first divergence (port vs C): {} {} at pixel ({}, {}), max |rel delta| {}\n", r.first_divergence->field,
                     r.first_divergence->status, r.first_divergence->slow, r.first_divergence->fast,
                     format_double(r.first_divergence->max_abs_rel));
  return s;
}

std::string explain_markdown(const ExplainResult& r) {
  std::string md = "# nbparity explain\n\n";
  md += "Verdict: **" + r.verdict + "**. " + explain_summary(r) + "\n";
  if (!r.pixels.empty()) {
    md += "## Traced pixels\n\n| pixel (slow, fast) | port I_before_scaling | C I_before_scaling | C / port |\n| --- | --- | --- | --- |\n";
    for (const auto& p : r.pixels)
      md += fmt::format("| ({}, {}) | {:.9g} | {:.9g} | {} |\n", p.slow, p.fast, p.port, p.c,
                        p.port != 0 ? fmt::format("{:.6g}", p.c / p.port) : "-");
    md += "\n";
  }
  if (r.port_vs_c_image)
    md += fmt::format("Port image vs C image: correlation {}, sum ratio (port / C) {}.\n\n", num(r.port_vs_c_image->correlation),
                      num(r.port_vs_c_image->sum_ratio));
  md += fmt::format("## Explanations (best first; threshold {})\n\n", pct(r.threshold));
  md += "| quirks | share | share I_before_scaling | share image | port modelled by | C modelled by |\n| --- | --- | --- | --- | --- | --- |\n";
  for (const auto& e : r.explanations)
    md += fmt::format("| {} | {} | {} | {} | {} | {} |\n", ids(e.quirks), pct(e.share), pct(e.share_i_before_scaling),
                      pct(e.share_image), ids(e.port_quirks), ids(e.c_quirks));
  md += fmt::format("\nInert here (no output changes when switched on alone): {}.\n\n", r.inert.empty() ? "none" : fmt::format("{}", fmt::join(r.inert, ", ")));
  md += "## Runs\n\n| quirks over spec | distance to port | distance to C | trace fields agreeing (port / C) | image correlation (port / C) |\n| --- | --- | --- | --- | --- |\n";
  for (const auto& run : r.runs) {
    auto fields = [](const std::optional<TraceMatch>& t) {
      return t ? fmt::format("{}/{}", t->agree, t->compared) : std::string("-");
    };
    auto corr = [](const std::optional<ImageMatch>& m) { return m ? num(m->correlation) : std::string("-"); };
    md += fmt::format("| {} | {:.6g} | {:.6g} | {} / {} | {} / {} |\n", ids(run.quirks), run.mismatch_port, run.mismatch_c,
                      fields(run.vs_port_trace), fields(run.vs_c_trace), corr(run.vs_port_image), corr(run.vs_c_image));
  }
  if (r.first_divergence)
    md += fmt::format("\n## First divergence (port vs C)\n\n`{}` ({}) at pixel ({}, {}), max |rel delta| {}: as `nbtrace diff C_TRACE PORT_TRACE` names it.\n",
                      r.first_divergence->field, r.first_divergence->status, r.first_divergence->slow,
                      r.first_divergence->fast, format_double(r.first_divergence->max_abs_rel));
  return md;
}

}  // namespace nbtrace::explain

namespace nbtrace::explain {

std::string explain_html(const ExplainResult& r) {
  namespace html = report::html;
  const std::string verdict_status = r.verdict == "unexplained" ? "DIVERGENT" : "PASS";
  std::string body = fmt::format(
      "<header><h1>nbparity explain</h1><div>Verdict: <span class=\"verdict {}\" id=\"verdict\">{}</span> · "
      "nbparity report, self-contained (no external resources)</div></header>\n<div class=\"flow\" "
      "style=\"padding-top:72px\">\n",
      html::status_class(verdict_status), html::escape(r.verdict));
  body += "<p>" + html::escape(explain_summary(r)) + "</p>\n";
  // The shares as bars: one per explanation, best first, the threshold as a line.
  if (!r.explanations.empty()) {
    constexpr int kBarWidth = 480, kRow = 22, kLabel = 260;
    const int height = static_cast<int>(r.explanations.size()) * kRow + 24;
    body += fmt::format("<h2>Share of the port-vs-C gap each explanation makes</h2>\n<svg width=\"{}\" height=\"{}\" "
                        "role=\"img\" aria-label=\"shares\">",
                        kLabel + kBarWidth + 80, height);
    int y = 4;
    for (const Explanation& e : r.explanations) {
      const double share = std::isfinite(e.share) ? std::clamp(e.share, 0.0, 1.0) : 0.0;
      body += fmt::format("<text x=\"0\" y=\"{}\" font-size=\"12\">{}</text>", y + 14, html::escape(ids(e.quirks)));
      body += fmt::format("<rect x=\"{}\" y=\"{}\" width=\"{:.1f}\" height=\"16\" fill=\"{}\"/>", kLabel, y,
                          share * kBarWidth, e.share >= r.threshold ? "#2e9e44" : "#c0504d");
      body += fmt::format("<text x=\"{:.1f}\" y=\"{}\" font-size=\"12\">{}</text>", kLabel + share * kBarWidth + 4,
                          y + 13, html::escape(pct(e.share)));
      y += kRow;
    }
    const double tx = kLabel + r.threshold * kBarWidth;
    body += fmt::format("<line x1=\"{:.1f}\" y1=\"0\" x2=\"{:.1f}\" y2=\"{}\" stroke=\"#000\" stroke-dasharray=\"4 3\"/>"
                        "<text x=\"{:.1f}\" y=\"{}\" font-size=\"11\">threshold {}</text></svg>\n",
                        tx, tx, y, tx + 3, y + 14, html::escape(pct(r.threshold)));
    body += "<table><tr><th>quirks</th><th>share</th><th>share I_before_scaling</th><th>share image</th><th>port "
            "modelled by</th><th>C modelled by</th></tr>\n";
    for (const Explanation& e : r.explanations)
      body += fmt::format("<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>\n",
                          html::escape(ids(e.quirks)), pct(e.share), pct(e.share_i_before_scaling), pct(e.share_image),
                          html::escape(ids(e.port_quirks)), html::escape(ids(e.c_quirks)));
    body += "</table>\n";
  }
  if (!r.pixels.empty()) {
    body += "<h2>Traced pixels</h2>\n<table><tr><th>pixel (slow, fast)</th><th>port I_before_scaling</th><th>C "
            "I_before_scaling</th></tr>\n";
    for (const PixelGap& p : r.pixels)
      body += fmt::format("<tr><td>({}, {})</td><td>{}</td><td>{}</td></tr>\n", p.slow, p.fast, num(p.port), num(p.c));
    body += "</table>\n";
  }
  if (r.first_divergence)
    body += fmt::format("<h2>First divergence (port vs C)</h2>\n<table><tr class=\"first\" id=\"first-divergence-0\">"
                        "<td><code>{}</code></td><td>{}</td><td>pixel ({}, {})</td><td>max |rel Δ| {}</td></tr></table>\n",
                        html::escape(r.first_divergence->field), html::escape(r.first_divergence->status),
                        r.first_divergence->slow, r.first_divergence->fast,
                        html::escape(format_double(r.first_divergence->max_abs_rel)));
  body += "<h2>Runs</h2>\n<table><tr><th>quirks over spec</th><th>distance to port</th><th>distance to C</th><th>trace "
          "fields agreeing (port / C)</th><th>image correlation (port / C)</th></tr>\n";
  for (const SetRun& run : r.runs) {
    const auto fields = [](const std::optional<TraceMatch>& t) {
      return t ? fmt::format("{}/{}", t->agree, t->compared) : std::string("-");
    };
    const auto corr = [](const std::optional<ImageMatch>& m) { return m ? num(m->correlation) : std::string("-"); };
    body += fmt::format("<tr><td>{}</td><td>{:.6g}</td><td>{:.6g}</td><td>{} / {}</td><td>{} / {}</td></tr>\n",
                        html::escape(ids(run.quirks)), run.mismatch_port, run.mismatch_c, fields(run.vs_port_trace),
                        fields(run.vs_c_trace), corr(run.vs_port_image), corr(run.vs_c_image));
  }
  body += "</table>\n</div>\n";
  return html::page("nbparity explain", body);
}

}  // namespace nbtrace::explain
