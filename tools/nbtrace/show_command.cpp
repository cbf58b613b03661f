// nbtrace show LOG: the records parsed from a log, for debugging a trace.
#include <cmath>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>

#include "commands.hpp"
#include "nbtrace/base/error.hpp"
#include "nbtrace/base/numbers.hpp"
#include "nbtrace/trace/trace.hpp"

namespace {

struct ShowCommandOptions {
  std::string log;
  std::string tag;
  bool json = false;
};

/// One record per line (or JSON), counts on stderr. 0, or 5 when the log has
/// malformed lines (they are listed) or no TRACE_<tag> line.
int run_show(const ShowCommandOptions& opt) {
  using namespace nbtrace;
  using json = nlohmann::ordered_json;
  std::ostream& out = std::cout;
  std::ostream& err = std::cerr;
  const Trace t = load_trace(opt.log, ParseOptions{opt.tag});
  if (opt.json) {
    json doc;
    doc["path"] = t.path();
    doc["tag"] = t.tag();
    json recs = json::array();
    for (const Record& r : t.records()) {
      json e;
      e["name"] = std::string(t.name(r));
      e["line"] = r.line;
      e["occurrence"] = r.occurrence;
      json loop = json::object();
      for (const LoopCoord& c : t.loop(r)) loop[std::string(t.names()[c.name_id])] = c.value;
      e["loop"] = loop;
      if (r.form == ValueForm::text) e["text"] = std::string(r.text);
      json vals = json::array();
      for (double v : t.values(r)) vals.push_back(std::isfinite(v) ? json(v) : json(format_double(v)));
      e["values"] = vals;
      recs.push_back(std::move(e));
    }
    doc["records"] = std::move(recs);
    out << doc.dump(2) << "\n";
  } else {
    for (const Record& r : t.records()) {
      out << r.line << "\t" << t.label(r) << "\t";
      switch (r.form) {
        case ValueForm::text: out << "text '" << r.text << "'"; break;
        case ValueForm::marker: out << "(marker)"; break;
        default: {
          const auto vals = t.values(r);
          if (r.form == ValueForm::matrix) out << "matrix " << r.rows << "x" << t.cols(r) << " ";
          for (std::size_t i = 0; i < vals.size(); ++i) {
            if (i) out << ' ';
            if (r.form == ValueForm::keyed) out << t.component_key(r, i) << ':';
            out << format_double(vals[i]);
          }
        }
      }
      out << "\n";
    }
  }
  const ParseStats& s = t.stats();
  const std::string shown_path = nbtrace::printable(t.path());
  err << shown_path << ": tag " << (t.tag().empty() ? "(none)" : "TRACE_" + t.tag()) << ", " << s.lines << " lines, "
      << s.trace_lines << " trace lines, " << s.records << " records, " << s.skipped_lines << " skipped, "
      << s.foreign_lines << " other-tag, " << s.config_lines << " TRACE_CONFIG, " << s.malformed_lines
      << " malformed";
  if (s.section_lines) err << ", " << s.section_lines << " banner";
  if (s.byte_order_marks) err << ", " << s.byte_order_marks << " UTF-8 byte-order mark(s) removed";
  err << "\n";
  for (const TracedPixel& p : t.pixels()) err << "traced pixel: slow " << p.slow << ", fast " << p.fast << "\n";
  for (const Diagnostic& d : t.diagnostics()) err << shown_path << ":" << d.line << ": " << d.reason << "\n";
  if (t.tag().empty()) {
    err << shown_path << ": no TRACE_<tag> lines found\n";
    return exit_code::input;
  }
  return t.diagnostics().empty() ? exit_code::ok : exit_code::input;
}

}  // namespace

std::function<int()> setup_show(CLI::App& app) {
  auto opt = std::make_shared<ShowCommandOptions>();
  CLI::App* cmd = app.add_subcommand("show", "Print the records parsed from a trace log, for debugging a trace.");
  cmd->add_option("LOG", opt->log, "trace log")->required();
  cmd->add_option("--tag", opt->tag, "tag to read, e.g. C or PY (default: detected)");
  cmd->add_flag("--json", opt->json, "print the records as JSON");
  return [=] { return run_show(*opt); };
}
