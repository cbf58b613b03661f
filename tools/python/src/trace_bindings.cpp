// Traces: parse, diff, attribute, compare_scaling (the library calls of
// nbtrace show/diff/attribute and compare_scaling_traces).
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <array>
#include <cmath>
#include <limits>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "bindings.hpp"
#include "nbtrace/base/error.hpp"
#include "nbtrace/trace/attribute.hpp"
#include "nbtrace/trace/diff.hpp"
#include "nbtrace/trace/policy.hpp"
#include "nbtrace/trace/report.hpp"
#include "nbtrace/trace/scaling.hpp"
#include "nbtrace/trace/trace.hpp"
#include "py_json.hpp"

namespace nbpy {

namespace {

using nbtrace::Trace;
using TracePtr = std::shared_ptr<const Trace>;

std::string_view form_name(nbtrace::ValueForm f) {
  switch (f) {
    case nbtrace::ValueForm::numbers: return "numbers";
    case nbtrace::ValueForm::matrix: return "matrix";
    case nbtrace::ValueForm::keyed: return "keyed";
    case nbtrace::ValueForm::text: return "text";
    case nbtrace::ValueForm::marker: return "marker";
  }
  return "numbers";
}

py::dict loop_dict(const std::vector<std::pair<std::string, double>>& coords) {
  py::dict d;
  for (const auto& [k, v] : coords) d[py::str(k)] = v;
  return d;
}

/// One record of a trace as a dict (values as floats, NaN and ±inf kept).
py::dict record_dict(const Trace& t, const nbtrace::Record& r) {
  py::dict d;
  d["name"] = std::string(t.name(r));
  d["form"] = std::string(form_name(r.form));
  py::list values;
  for (double v : t.values(r)) values.append(v);
  d["values"] = values;
  d["text"] = r.form == nbtrace::ValueForm::text ? py::object(py::str(std::string(r.text))) : py::object(py::none());
  if (r.form == nbtrace::ValueForm::keyed) {
    py::list keys;
    for (std::size_t i = 0; i < r.num_values; ++i) keys.append(std::string(t.component_key(r, i)));
    d["keys"] = keys;
  } else {
    d["keys"] = py::none();
  }
  if (r.form == nbtrace::ValueForm::matrix) {
    py::list shape;
    shape.append(r.rows);
    shape.append(t.cols(r));
    d["shape"] = shape;  // [rows, cols]
  } else {
    d["shape"] = py::none();
  }
  py::dict loop;
  for (const nbtrace::LoopCoord& c : t.loop(r)) loop[py::str(std::string(t.names()[c.name_id]))] = c.value;
  d["loop"] = loop;
  d["occurrence"] = r.occurrence;
  d["line"] = r.line;
  d["label"] = t.label(r);
  return d;
}

py::dict stats_dict(const nbtrace::ParseStats& s) {
  py::dict d;
  d["lines"] = s.lines;
  d["trace_lines"] = s.trace_lines;
  d["records"] = s.records;
  d["skipped_lines"] = s.skipped_lines;
  d["foreign_lines"] = s.foreign_lines;
  d["config_lines"] = s.config_lines;
  d["malformed_lines"] = s.malformed_lines;
  d["section_lines"] = s.section_lines;
  d["byte_order_marks"] = s.byte_order_marks;
  return d;
}

/// The traces a diff compares and its result, kept together: a DiffResult
/// points into both traces.
struct DiffHandle {
  TracePtr ref, test;
  nbtrace::DiffOptions options;
  nbtrace::DiffResult result;
};

py::object side_value(const nbtrace::DiffResult& r, const nbtrace::FieldResult& f, const nbtrace::ComponentResult& c,
                      bool ref_side) {
  const std::int32_t idx = ref_side ? f.ref_record : f.test_record;
  if (idx < 0) return py::none();
  const Trace& t = ref_side ? *r.ref : *r.test;
  const nbtrace::Record& rec = t.records()[static_cast<std::size_t>(idx)];
  if (rec.form == nbtrace::ValueForm::text) return py::str(std::string(rec.text));
  if (rec.form == nbtrace::ValueForm::marker) return py::str("");
  return py::float_(ref_side ? r.ref_value(c) : r.test_value(c));
}

py::dict field_dict(const DiffHandle& h, std::size_t index) {
  const nbtrace::DiffResult& r = h.result;
  const nbtrace::FieldResult& f = r.fields[index];
  py::dict d;
  d["index"] = index;
  d["name"] = std::string(r.name(f));
  d["label"] = r.field_label(f);
  d["status"] = std::string(nbtrace::status_name(f.status));
  d["divergent"] = nbtrace::is_divergence(f.status);
  d["present"] = f.ref_record >= 0 && f.test_record >= 0 ? "both" : f.ref_record >= 0 ? "ref" : "test";
  d["occurrence"] = f.occurrence;
  d["loop"] = loop_dict(r.loop_coords(f));
  d["ref_line"] = r.ref_line(f);
  d["test_line"] = r.test_line(f);
  d["max_abs_rel_delta"] = f.max_abs_rel;
  d["max_ulps"] = f.max_ulps;
  const Trace& t = f.ref_record >= 0 ? *r.ref : *r.test;
  const nbtrace::Record& rec = t.records()[static_cast<std::size_t>(f.ref_record >= 0 ? f.ref_record : f.test_record)];
  d["form"] = std::string(form_name(rec.form));
  py::list comps;
  for (std::uint32_t i = 0; i < f.num_components; ++i) {
    const nbtrace::ComponentResult& c = r.components[f.first_component + i];
    py::dict e;
    e["component"] = c.component;
    e["key"] = rec.form == nbtrace::ValueForm::keyed ? py::object(py::str(std::string(t.component_key(rec, c.component))))
                                                     : py::object(py::none());
    e["ref"] = side_value(r, f, c, true);
    e["test"] = side_value(r, f, c, false);
    e["abs_delta"] = r.abs_delta(c);
    e["rel_delta"] = c.rel_delta;
    const std::uint64_t ulps = r.ulps(c);
    e["ulps"] = ulps == std::numeric_limits<std::uint64_t>::max() ? py::object(py::none()) : py::object(py::int_(ulps));
    e["status"] = std::string(nbtrace::status_name(c.status));
    e["underlying_status"] = std::string(nbtrace::status_name(c.underlying));
    e["waiver"] = c.waiver >= 0 ? py::object(py::str(h.options.policy.waivers[static_cast<std::size_t>(c.waiver)].id))
                                : py::object(py::none());
    comps.append(e);
  }
  d["components"] = comps;
  return d;
}

nbtrace::AliasTable aliases_from(const std::vector<std::string>& specs, bool builtin = true) {
  nbtrace::AliasTable t = builtin ? nbtrace::AliasTable::builtin() : nbtrace::AliasTable{};
  for (const std::string& s : specs) t.add_spec(s);
  return t;
}

/// A non-finite double the JSON text wrote as null, put back: the module
/// passes the library's NaN through.
template <typename Json>
void keep_non_finite(Json& j, const char* key, std::optional<double> raw) {
  if (raw && !std::isfinite(*raw)) j[key] = *raw;
}

}  // namespace

void bind_trace(py::module_& m) {
  py::class_<Trace, std::shared_ptr<Trace>>(m, "Trace", "A parsed trace log (nbparity.Trace wraps it).")
      .def_property_readonly("path", &Trace::path)
      .def_property_readonly("tag", &Trace::tag)
      .def("__len__", [](const Trace& t) { return t.records().size(); })
      .def("record", [](const Trace& t, std::size_t i) {
        if (i >= t.records().size()) throw py::index_error("record index out of range");
        return record_dict(t, t.records()[i]);
      })
      .def("records", [](const Trace& t) {
        py::list out;
        for (const nbtrace::Record& r : t.records()) out.append(record_dict(t, r));
        return out;
      })
      .def("find_last", &Trace::find_last)
      .def("stats", [](const Trace& t) { return stats_dict(t.stats()); })
      .def("pixels", [](const Trace& t) {
        py::list out;
        for (const nbtrace::TracedPixel& p : t.pixels()) out.append(py::make_tuple(p.slow, p.fast));
        return out;
      })
      .def("diagnostics", [](const Trace& t) {
        py::list out;
        for (const nbtrace::Diagnostic& d : t.diagnostics()) out.append(py::make_tuple(d.line, d.reason));
        return out;
      });

  m.def(
      "load_trace",
      [](const std::string& path, const std::string& tag, bool allow_malformed) {
        std::ostringstream warnings;
        std::shared_ptr<Trace> t;
        {
          py::gil_scoped_release release;
          t = std::make_shared<Trace>(nbtrace::load_trace_checked(path, tag, allow_malformed, warnings));
        }
        return py::make_tuple(t, warnings.str());
      },
      py::arg("path"), py::arg("tag") = "", py::arg("allow_malformed") = false,
      "load_trace_checked: (Trace, warnings text). InputError for an unreadable file, one without TRACE_<tag> "
      "lines, or (unless allow_malformed) a malformed line.");

  py::class_<DiffHandle, std::shared_ptr<DiffHandle>>(m, "Diff", "A trace diff (nbparity.DiffResult wraps it).")
      .def_property_readonly("verdict", [](const DiffHandle& h) { return std::string(nbtrace::verdict_name(h.result.verdict())); })
      .def_property_readonly("tolerance_rel", [](const DiffHandle& h) { return h.result.tolerance_rel; })
      .def_property_readonly("first_divergence", [](const DiffHandle& h) { return h.result.first_divergence; })
      .def_property_readonly("upstream", [](const DiffHandle& h) { return h.result.upstream; })
      .def_property_readonly("unused_waivers", [](const DiffHandle& h) { return h.result.unused_waivers; })
      .def("counts", [](const DiffHandle& h) {
        const nbtrace::DiffResult& r = h.result;
        py::dict d;
        d["compared"] = r.num_compared;
        d["agree"] = r.num_compared - r.num_divergent - r.num_waived;
        d["divergent"] = r.num_divergent;
        d["divergent_components"] = r.num_divergent_components;
        d["waived"] = r.num_waived;
        d["missing"] = r.num_missing;
        d["non_finite"] = r.num_non_finite;
        d["min_compared"] = r.min_compared;
        return d;
      })
      .def("__len__", [](const DiffHandle& h) { return h.result.fields.size(); })
      .def("field", [](const DiffHandle& h, std::size_t i) {
        if (i >= h.result.fields.size()) throw py::index_error("field index out of range");
        return field_dict(h, i);
      })
      .def("fields", [](const DiffHandle& h) {
        py::list out;
        for (std::size_t i = 0; i < h.result.fields.size(); ++i) out.append(field_dict(h, i));
        return out;
      })
      .def("to_json", [](const DiffHandle& h) { return nbtrace::diff_to_json(h.result); })
      .def("to_dict", [](const DiffHandle& h) { return json_text_to_python(nbtrace::diff_to_json(h.result)); })
      .def("markdown", [](const DiffHandle& h) { return nbtrace::diff_to_markdown(h.result); })
      .def("summary", [](const DiffHandle& h) { return nbtrace::diff_summary_line(h.result); })
      .def(
          "table",
          [](const DiffHandle& h, bool only_divergent, bool show_missing, bool color) {
            nbtrace::TableOptions t;
            t.only_divergent = only_divergent;
            t.show_missing = show_missing;
            t.color = color;
            return nbtrace::diff_to_table(h.result, t);
          },
          py::arg("only_divergent") = false, py::arg("show_missing") = false, py::arg("color") = false);

  m.def(
      "diff",
      [](std::shared_ptr<Trace> ref, std::shared_ptr<Trace> test, std::optional<double> tolerance,
         std::optional<double> abs_floor, const std::string& policy_file, const py::object& policy_dict,
         const std::vector<std::string>& aliases, bool no_builtin_aliases, const std::vector<std::string>& fields) {
        // The order of nbtrace diff: the policy file, then the options that win over it.
        auto h = std::make_shared<DiffHandle>();
        h->ref = ref;
        h->test = test;
        nbtrace::DiffOptions& d = h->options;
        if (!policy_file.empty()) nbtrace::apply_policy_file(nbtrace::load_policy_file(policy_file), d);
        if (!policy_dict.is_none()) {
          nbtrace::apply_policy_file(nbtrace::parse_policy(from_python(policy_dict).dump(), "the policy dict"), d);
        }
        if (no_builtin_aliases) d.aliases = nbtrace::AliasTable{};
        if (tolerance) {
          if (!(*tolerance >= 0)) throw nbtrace::UsageError("tolerance must be a non-negative number");
          d.policy.rel = *tolerance;
        }
        if (abs_floor) {
          if (!(*abs_floor >= 0)) throw nbtrace::UsageError("abs_floor must be a non-negative number");
          d.policy.abs_floor = *abs_floor;
        }
        for (const std::string& a : aliases) d.aliases.add_spec(a);
        d.field_globs = fields;
        {
          py::gil_scoped_release release;
          h->result = nbtrace::diff_traces(*h->ref, *h->test, d);
        }
        return h;
      },
      py::arg("ref"), py::arg("test"), py::arg("tolerance") = std::nullopt, py::arg("abs_floor") = std::nullopt,
      py::arg("policy_file") = "", py::arg("policy_dict") = py::none(), py::arg("aliases") = std::vector<std::string>{},
      py::arg("no_builtin_aliases") = false, py::arg("fields") = std::vector<std::string>{},
      "diff_traces with the options of nbtrace diff.");

  m.def(
      "attribute",
      [](std::shared_ptr<Trace> ref, std::shared_ptr<Trace> test, std::optional<std::array<int, 3>> cells,
         std::string ref_label, std::string test_label, const std::vector<std::string>& aliases) {
        nbtrace::AttributionOptions a;
        a.aliases = aliases_from(aliases);
        if (cells) {
          if ((*cells)[0] < 1 || (*cells)[1] < 1 || (*cells)[2] < 1) {
            throw nbtrace::UsageError("cells takes three positive integers: Na Nb Nc");
          }
          a.cells = *cells;
        }
        // nbtrace attribute's labels: the tags, told apart when equal.
        a.ref_label = ref_label.empty() ? ref->tag() : ref_label;
        a.test_label = test_label.empty() ? test->tag() : test_label;
        if (a.ref_label == a.test_label) {
          a.ref_label += " (ref)";
          a.test_label += " (test)";
        }
        nbtrace::Attribution r;
        {
          py::gil_scoped_release release;
          r = nbtrace::attribute_gap(*ref, *test, a);
        }
        auto doc = nlohmann::ordered_json::parse(nbtrace::attribution_json(r));
        keep_non_finite(doc, "ref_value", r.ref_value);
        keep_non_finite(doc, "test_value", r.test_value);
        keep_non_finite(doc, "gap", r.gap);
        keep_non_finite(doc, "gap_rel", r.gap_rel);
        keep_non_finite(doc, "final_gap_rel", r.final_gap_rel);
        py::dict out;
        out["document"] = to_python(doc);
        out["json"] = nbtrace::attribution_json(r);
        out["markdown"] = nbtrace::attribution_markdown(r, "");
        out["svg"] = nbtrace::attribution_svg(r);
        out["ref_label"] = r.ref_label;
        out["test_label"] = r.test_label;
        return out;
      },
      py::arg("ref"), py::arg("test"), py::arg("cells") = std::nullopt, py::arg("ref_label") = "",
      py::arg("test_label") = "", py::arg("aliases") = std::vector<std::string>{},
      "attribute_gap with the options of nbtrace attribute.");

  m.def(
      "compare_scaling",
      [](std::shared_ptr<Trace> c_trace, std::shared_ptr<Trace> test_trace, double tolerance,
         const std::vector<std::string>& aliases, const std::string& test_label) {
        if (!(tolerance >= 0)) throw nbtrace::UsageError("tolerance must be a non-negative number");
        const nbtrace::ScalingComparison cmp =
            nbtrace::compare_scaling(*c_trace, *test_trace, tolerance, aliases_from(aliases), test_label);
        const std::string text = nbtrace::scaling_metrics_json(cmp);
        auto doc = nlohmann::ordered_json::parse(text);
        py::list factors;
        for (const nbtrace::ScalingFactor& f : cmp.factors) {
          auto& e = doc["factors"][f.name];
          keep_non_finite(e, "c_value", f.c_value);
          keep_non_finite(e, "py_value", f.test_value);
          keep_non_finite(e, "abs_delta", f.abs_delta);
          keep_non_finite(e, "rel_delta", f.rel_delta);
          py::dict d;
          d["name"] = f.name;
          d["passes"] = f.passes;
          d["divergent"] = f.divergent;
          factors.append(d);
        }
        py::dict out;
        out["metrics"] = to_python(doc);
        out["json"] = text;
        out["factors"] = factors;
        out["pixel"] = cmp.pixel ? py::object(py::make_tuple(cmp.pixel->slow, cmp.pixel->fast)) : py::object(py::none());
        out["markdown"] = nbtrace::scaling_summary_markdown(cmp, c_trace->path(), test_trace->path());
        return out;
      },
      py::arg("c_trace"), py::arg("test_trace"), py::arg("tolerance") = 1e-6,
      py::arg("aliases") = std::vector<std::string>{}, py::arg("test_label") = "PyTorch",
      "compare_scaling and scaling_metrics_json, as compare_scaling_traces writes metrics.json.");
}

}  // namespace nbpy
