// A matrix run's report.html: one row per check, linking what each check
// wrote under the output folder, with its difference image when it has one.
#include <fmt/format.h>

#include "nbtrace/report/html.hpp"
#include "nbtrace/base/files.hpp"
#include "nbtrace/parity/matrix.hpp"
#include "nbtrace/report/report.hpp"

namespace nbtrace::report {


std::string render_matrix_report(const MatrixRun& run, const std::string& cases_file, const fs::path& out_dir) {
  std::size_t failed = 0;
  for (const CaseResult& r : run.cases) failed += r.pass ? 0 : 1;
  const std::string verdict = failed == 0 && !run.cases.empty() ? "PASS" : (run.cases.empty() ? "NOT_COMPARED" : "FAIL");
  std::string body = fmt::format(
      "<header><h1>Parity matrix: {}</h1><div>Verdict: <span class=\"verdict {}\" id=\"verdict\">{}</span> · {} "
      "passed, {} failed · schema {}</div></header>\n<div class=\"flow\" style=\"padding-top:72px\">\n",
      html::escape(cases_file), html::status_class(verdict), verdict, run.cases.size() - failed, failed,
      html::escape(std::string(schema_name(run.schema))));
  body += "<table>\n<tr><th>check</th><th>verdict</th><th>correlation</th><th>sum ratio</th><th>max |Δ|</th>"
          "<th>traces agreeing</th><th>first divergence / failure</th><th>files</th><th>difference</th></tr>\n";
  for (const CaseResult& r : run.cases) {
    std::string why = r.error;
    if (why.empty()) {
      for (const std::string& f : r.failed_checks) why += (why.empty() ? "" : ", ") + f;
      if (!r.first_divergence.empty()) why += (why.empty() ? "" : "; ") + std::string("first divergence ") + r.first_divergence;
    }
    std::string links, thumb;
    for (const std::string& f : r.files) {
      links += "<a href=\"" + html::escape(f) + "\">" + html::escape(fs::path(f).filename().string()) + "</a><br>";
      if (fs::path(f).extension() == ".png" && fs::is_regular_file(out_dir / f))
        thumb = "<img alt=\"\" style=\"width:96px;image-rendering:pixelated\" src=\"" +
                html::data_uri("image/png", read_text_file(out_dir / f)) + "\">";
    }
    body += fmt::format(
        "<tr><td>{}</td><td class=\"{}\">{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}/{}</td><td>{}</td><td>{}</td>"
        "<td>{}</td></tr>\n",
        html::escape(r.label()), html::status_class(r.verdict), html::escape(r.verdict), html::number(r.correlation),
        html::number(r.sum_ratio), html::number(r.max_abs_diff), r.traces - r.traces_divergent, r.traces,
        html::escape(why), links, thumb);
  }
  body += "</table>\n</div>\n";
  return html::page("Parity matrix " + cases_file, body);
}

}  // namespace nbtrace::report
