// Renderings of an Attribution: JSON for scripts, Markdown and an SVG bar
// chart for bundles.
#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>

#include <fmt/format.h>

#include "attribution_text.hpp"
#include "nbtrace/trace/attribute.hpp"

namespace nbtrace {

using namespace attribution_text;

std::string attribution_json(const Attribution& a) {
  using json = nlohmann::ordered_json;
  auto opt = [](const std::optional<double>& v) { return v && std::isfinite(*v) ? json(*v) : json(nullptr); };
  json d;
  d["quantity"] = a.quantity;
  d["ref"] = a.ref_path;
  d["test"] = a.test_path;
  d["ref_value"] = a.ref_value;
  d["test_value"] = a.test_value;
  d["gap"] = a.gap;
  d["gap_rel"] = a.gap_rel;
  d["final_gap_rel"] = opt(a.final_gap_rel);
  d["step_channel"] = a.step_channel;
  d["ref_terms_over_total"] = a.ref_terms_over_total;
  d["test_terms_over_total"] = a.test_terms_over_total;
  d["terms_inconsistent"] = a.terms_inconsistent;
  d["attributed_share"] = a.attributed_share;
  d["unattributed_share"] = 1.0 - a.attributed_share;
  json steps = json::array();
  for (const auto& s : a.steps) {
    json loop = json::object();
    for (const auto& [k, v] : s.loop) loop[k] = v;
    steps.push_back({{"loop", loop},
                     {"ref_term", opt(s.ref_term)},
                     {"test_term", opt(s.test_term)},
                     {"share", opt(s.share)},
                     {"ref_F_latt", opt(s.ref_f_latt)},
                     {"test_F_latt", opt(s.test_f_latt)},
                     {"ref_F_cell", opt(s.ref_f_cell)},
                     {"test_F_cell", opt(s.test_f_cell)},
                     {"test_source", s.test_source}});
  }
  d["steps"] = steps;
  auto factors = [](const std::vector<FactorTerm>& v) {
    json arr = json::array();
    for (const auto& f : v) arr.push_back({{"factor", f.factor}, {"ref", f.ref}, {"test", f.test}, {"log_ratio", f.log_ratio}});
    return arr;
  };
  d["first_step_factors"] = factors(a.first_step_factors);
  d["scaling_factors"] = factors(a.scaling_factors);
  json lat = json::array();
  for (const auto& c : a.lattice) {
    lat.push_back({{"side", c.side},
                   {"axis", std::string(1, c.axis)},
                   {"cells", c.cells},
                   {"frac", c.frac},
                   {"traced", c.traced},
                   {"sincg_pi_h", c.sincg_h},
                   {"sincg_pi_h_minus_h0", c.sincg_h_minus_h0},
                   {"matches", c.matches}});
  }
  d["lattice"] = lat;
  json hyp = json::array();
  for (const auto& h : a.hypotheses) hyp.push_back({{"id", h.id}, {"title", h.title}, {"score", h.score}, {"evidence", h.evidence}});
  d["hypotheses"] = hyp;
  d["narrative"] = a.narrative;
  return d.dump(2) + "\n";
}

std::string attribution_markdown(const Attribution& a, const std::string& svg_name) {
  std::string md = "# Attribution of the " + a.quantity + " gap\n\n";
  md += "- Reference (" + a.ref_label + "): `" + a.ref_path + "`\n";
  md += "- Test (" + a.test_label + "): `" + a.test_path + "`\n";
  md += "- " + a.quantity + ": " + num(a.ref_value) + " vs " + num(a.test_value) + ", gap " +
        fmt::format("{:+.4e}", a.gap) + " (" + fmt::format("{:+.4f}%", 100 * a.gap_rel) + ")\n";
  if (a.final_gap_rel) md += "- I_pixel_final gap: " + fmt::format("{:+.4f}%", 100 * *a.final_gap_rel) + "\n";
  md += "- Attributed to traced steps: " + pct(a.attributed_share) + "; not attributable from the data: " +
        pct(1 - a.attributed_share) + "\n\n";
  md += "## Summary\n\n" + a.narrative + "\n\n";
  md += "## Per-step terms F_cell²·F_latt²\n\n";
  if (!svg_name.empty()) md += "![per-step terms](" + svg_name + ")\n\n";
  md += "| Step | " + a.ref_label + " F_latt | " + a.test_label + " F_latt | " + a.ref_label + " term | " + a.test_label +
        " term | Share of gap | Test values from |\n|---|---|---|---|---|---|---|\n";
  auto o = [](const std::optional<double>& v) { return v ? num(*v) : std::string("—"); };
  for (const auto& s : a.steps) {
    md += "| " + coords_label(s.loop) + " | " + o(s.ref_f_latt) + " | " + o(s.test_f_latt) + " | " + o(s.ref_term) +
          " | " + o(s.test_term) + " | " + (s.share ? pct(*s.share) : "not attributable") + " | " + s.test_source +
          " |\n";
  }
  if (!a.first_step_factors.empty()) {
    md += "\n## Log-ratio of the first step's factors\n\nEach row: 2·ln|test/ref| (intensity goes as F²).\n\n";
    md += "| Factor | Reference | Test | Contribution to ln(test/ref) |\n|---|---|---|---|\n";
    for (const auto& f : a.first_step_factors) {
      md += "| " + f.factor + " | " + num(f.ref) + " | " + num(f.test) + " | " + fmt::format("{:+.4e}", f.log_ratio) + " |\n";
    }
  }
  if (!a.scaling_factors.empty()) {
    md += "\n## Log-ratio of I_pixel_final over its scaling chain\n\n";
    md += "| Factor | Reference | Test | Contribution to ln(test/ref) |\n|---|---|---|---|\n";
    for (const auto& f : a.scaling_factors) {
      md += "| " + f.factor + " | " + num(f.ref) + " | " + num(f.test) + " | " + fmt::format("{:+.4e}", f.log_ratio) + " |\n";
    }
  }
  if (!a.lattice.empty()) {
    md += "\n## Lattice factors recomputed from the traced fractional hkl\n\n";
    md += "| Side | Axis | N | h | traced F_latt | sincg(π·h, N) | sincg(π·(h−h0), N) | matches |\n|---|---|---|---|---|---|---|---|\n";
    for (const auto& c : a.lattice) {
      md += "| " + c.side + " | " + std::string(1, c.axis) + " | " + std::to_string(c.cells) + " | " + num(c.frac) + " | " +
            num(c.traced) + " | " + num(c.sincg_h) + " | " + num(c.sincg_h_minus_h0) + " | " + c.matches + " |\n";
    }
  }
  md += "\n## Hypotheses, ranked\n\n";
  int rank = 1;
  for (const auto& h : a.hypotheses) {
    md += std::to_string(rank++) + ". **" + h.id + "** (score " + fmt::format("{:.3f}", h.score) + "): " + h.title + "\n";
    for (const auto& e : h.evidence) md += "   - " + e + "\n";
  }
  if (a.hypotheses.empty()) md += "None: the traces hold too little to rank causes.\n";
  return md;
}

std::string attribution_svg(const Attribution& a) {
  const int width = 720, height = 340, left = 70, right = 20, top = 40, bottom = 60;
  double max_term = 0;
  for (const auto& s : a.steps) {
    if (s.ref_term) max_term = std::max(max_term, *s.ref_term);
    if (s.test_term) max_term = std::max(max_term, *s.test_term);
  }
  if (max_term <= 0) max_term = 1;
  const std::size_t n = std::max<std::size_t>(a.steps.size(), 1);
  const double slot = static_cast<double>(width - left - right) / static_cast<double>(n);
  const double bar = slot * 0.38;
  const double plot_h = height - top - bottom;
  std::string s = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" + std::to_string(width) + "\" height=\"" +
                  std::to_string(height) + "\" font-family=\"sans-serif\" font-size=\"11\">\n";
  s += "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n";
  s += "<text x=\"" + std::to_string(left) + "\" y=\"20\" font-size=\"14\">Per-step terms F_cell^2*F_latt^2 (" +
       a.quantity + " gap " + fmt::format("{:+.2f}%", 100 * a.gap_rel) + ")</text>\n";
  s += "<line x1=\"" + std::to_string(left) + "\" y1=\"" + std::to_string(top) + "\" x2=\"" + std::to_string(left) +
       "\" y2=\"" + std::to_string(height - bottom) + "\" stroke=\"black\"/>\n";
  s += "<line x1=\"" + std::to_string(left) + "\" y1=\"" + std::to_string(height - bottom) + "\" x2=\"" +
       std::to_string(width - right) + "\" y2=\"" + std::to_string(height - bottom) + "\" stroke=\"black\"/>\n";
  for (int t = 0; t <= 4; ++t) {
    const double v = max_term * t / 4.0;
    const double y = height - bottom - plot_h * t / 4.0;
    s += "<text x=\"" + std::to_string(left - 4) + "\" y=\"" + fmt::format("{:.1f}", y + 4) + "\" text-anchor=\"end\">" +
         fmt::format("{:.3g}", v) + "</text>\n";
  }
  for (std::size_t i = 0; i < a.steps.size(); ++i) {
    const auto& st = a.steps[i];
    const double x0 = left + slot * static_cast<double>(i) + slot * 0.1;
    auto rect = [&](double x, const std::optional<double>& v, const char* fill) {
      if (!v) {
        s += "<rect x=\"" + fmt::format("{:.1f}", x) + "\" y=\"" + fmt::format("{:.1f}", static_cast<double>(top)) + "\" width=\"" + fmt::format("{:.1f}", bar) +
             "\" height=\"" + fmt::format("{:.1f}", plot_h) + "\" fill=\"none\" stroke=\"#bbb\" stroke-dasharray=\"4 3\"/>\n";
        return;
      }
      const double h = plot_h * (*v / max_term);
      s += "<rect x=\"" + fmt::format("{:.1f}", x) + "\" y=\"" + fmt::format("{:.1f}", height - bottom - h) + "\" width=\"" +
           fmt::format("{:.1f}", bar) + "\" height=\"" + fmt::format("{:.1f}", h) + "\" fill=\"" + fill + "\"/>\n";
    };
    rect(x0, st.ref_term, "#3b6fb6");
    rect(x0 + bar, st.test_term, "#e08a2c");
    std::string label = st.loop.empty() ? "all" : format_double(st.loop.front().second);
    s += "<text x=\"" + fmt::format("{:.1f}", x0 + bar) + "\" y=\"" + std::to_string(height - bottom + 14) +
         "\" text-anchor=\"middle\">" + label + "</text>\n";
  }
  const std::string axis_name = (!a.steps.empty() && !a.steps.front().loop.empty()) ? a.steps.front().loop.front().first : "step";
  s += "<text x=\"" + std::to_string((width + left) / 2) + "\" y=\"" + std::to_string(height - bottom + 32) +
       "\" text-anchor=\"middle\">" + axis_name + "</text>\n";
  s += "<rect x=\"" + std::to_string(width - 260) + "\" y=\"" + std::to_string(height - 18) +
       "\" width=\"10\" height=\"10\" fill=\"#3b6fb6\"/><text x=\"" + std::to_string(width - 246) + "\" y=\"" +
       std::to_string(height - 9) + "\">" + a.ref_label + "</text>\n";
  s += "<rect x=\"" + std::to_string(width - 150) + "\" y=\"" + std::to_string(height - 18) +
       "\" width=\"10\" height=\"10\" fill=\"#e08a2c\"/><text x=\"" + std::to_string(width - 136) + "\" y=\"" +
       std::to_string(height - 9) + "\">" + a.test_label + " (dashed: not traced)</text>\n";
  s += "</svg>\n";
  return s;
}

}  // namespace nbtrace
