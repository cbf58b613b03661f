// The parity engine's results as JSON: summaries only (no images, traces or
// diffs), so a result can be stored or sent to another rank and read back.
#include <nlohmann/json.hpp>

#include "nbtrace/base/error.hpp"
#include "nbtrace/parity/engine.hpp"
#include "nbtrace/parity/image_json.hpp"

namespace nbtrace {

using nlohmann::json;

namespace {

Verdict verdict_from_name(const std::string& name) {
  for (Verdict v : {Verdict::pass, Verdict::divergent, Verdict::program_failed, Verdict::shape_mismatch,
                    Verdict::invalid_image, Verdict::not_compared})
    if (verdict_name(v) == name) return v;
  throw InputError("unknown parity verdict '" + name + "'");
}

template <typename T>
json optional_json(const std::optional<T>& v) {
  return v ? json(*v) : json(nullptr);
}

template <typename T>
void read_optional(const json& j, std::optional<T>& v) {
  if (j.is_null()) v.reset();
  else v = j.get<T>();
}

}  // namespace

void to_json(json& j, const SideResult& s) {
  j = json{{"label", s.label},
           {"command", s.command},
           {"exit_code", s.exit_code},
           {"seconds", s.seconds},
           {"image", s.image.string()},
           {"shape", optional_json(s.shape)},
           {"summary", optional_json(s.summary)}};
}

void from_json(const json& j, SideResult& s) {
  j.at("label").get_to(s.label);
  j.at("command").get_to(s.command);
  j.at("exit_code").get_to(s.exit_code);
  j.at("seconds").get_to(s.seconds);
  s.image = j.at("image").get<std::string>();
  read_optional(j.at("shape"), s.shape);
  read_optional(j.at("summary"), s.summary);
}

void to_json(json& j, const ParityFailure& f) { j = json{{"what", f.what}, {"error_output", f.error_output}}; }

void from_json(const json& j, ParityFailure& f) {
  j.at("what").get_to(f.what);
  j.at("error_output").get_to(f.error_output);
}

void to_json(json& j, const ImageComparison& c) {
  j = json{{"shape", c.shape},
           {"test_resampled_from", optional_json(c.test_resampled_from)},
           {"metrics", c.metrics},
           {"max_abs_diff_rel", c.max_abs_diff_rel},
           {"failed_checks", c.failed_checks}};
}

void from_json(const json& j, ImageComparison& c) {
  j.at("shape").get_to(c.shape);
  read_optional(j.at("test_resampled_from"), c.test_resampled_from);
  j.at("metrics").get_to(c.metrics);
  j.at("max_abs_diff_rel").get_to(c.max_abs_diff_rel);
  j.at("failed_checks").get_to(c.failed_checks);
}

void to_json(json& j, const PixelResult& p) {
  j = json{{"slow", p.pixel.slow},
           {"fast", p.pixel.fast},
           {"ref_trace", p.ref_trace.string()},
           {"test_trace", p.test_trace.string()},
           {"first_divergence", optional_json(p.first_divergence)},
           {"first_divergence_label", optional_json(p.first_divergence_label)},
           {"num_compared", p.num_compared},
           {"num_divergent", p.num_divergent},
           {"num_waived", p.num_waived},
           {"num_non_finite", p.num_non_finite},
           {"trace_verdict", std::string(verdict_name(p.trace_verdict))},
           {"tolerance_rel", p.tolerance_rel}};
}

void from_json(const json& j, PixelResult& p) {
  j.at("slow").get_to(p.pixel.slow);
  j.at("fast").get_to(p.pixel.fast);
  p.ref_trace = j.at("ref_trace").get<std::string>();
  p.test_trace = j.at("test_trace").get<std::string>();
  read_optional(j.at("first_divergence"), p.first_divergence);
  read_optional(j.at("first_divergence_label"), p.first_divergence_label);
  j.at("num_compared").get_to(p.num_compared);
  j.at("num_divergent").get_to(p.num_divergent);
  j.at("num_waived").get_to(p.num_waived);
  j.at("num_non_finite").get_to(p.num_non_finite);
  p.trace_verdict = diff_verdict_from_name(j.at("trace_verdict").get<std::string>());
  j.at("tolerance_rel").get_to(p.tolerance_rel);
}

void to_json(json& j, const ParityResult& r) {
  j = json{{"ref", r.ref},
           {"test", r.test},
           {"images", optional_json(r.images)},
           {"pixels", r.pixels},
           {"failures", r.failures},
           {"verdict", std::string(verdict_name(r.verdict))}};
}

void from_json(const json& j, ParityResult& r) {
  j.at("ref").get_to(r.ref);
  j.at("test").get_to(r.test);
  read_optional(j.at("images"), r.images);
  j.at("pixels").get_to(r.pixels);
  j.at("failures").get_to(r.failures);
  r.verdict = verdict_from_name(j.at("verdict").get<std::string>());
}

}  // namespace nbtrace
