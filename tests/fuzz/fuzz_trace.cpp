// Fuzz target: the trace parser (nbtrace/trace/trace.hpp) on any text, with
// the tag detected and with a fixed one; every record's values, loop
// coordinates and label are read back (views into the parser's pools), and
// require_well_formed may throw only InputError.
#include <cstddef>
#include <cstdint>
#include <string>

#include "nbtrace/base/error.hpp"
#include "nbtrace/trace/trace.hpp"

namespace {
// Touches everything a record points to, so a view past its pool shows up
// under AddressSanitizer.
double walk(const nbtrace::Trace& t) {
  double sum = 0;
  for (const nbtrace::Record& r : t.records()) {
    sum += static_cast<double>(t.name(r).size() + t.label(r).size() + r.text.size());
    for (double v : t.values(r)) sum += v;
    for (const nbtrace::LoopCoord& c : t.loop(r)) sum += c.value + t.names()[c.name_id].size();
    if (r.form == nbtrace::ValueForm::keyed) {
      for (std::size_t i = 0; i < r.num_values; ++i) sum += static_cast<double>(t.component_key(r, i).size());
    }
    sum += static_cast<double>(t.cols(r) + t.loop_tuple(r.loop_tuple).size());
  }
  for (const nbtrace::Diagnostic& d : t.diagnostics()) sum += static_cast<double>(d.reason.size());
  if (t.records().size() > 0) {
    const auto last = t.find_last(t.name(t.records()[t.records().size() - 1]));
    if (!last) __builtin_trap();  // the last record's own name must be found
  }
  return sum;
}

void parse(const std::string& text, const std::string& tag) {
  try {
    nbtrace::ParseOptions o;
    o.tag = tag;
    const nbtrace::Trace t = nbtrace::parse_trace(text, "fuzz.log", o);
    volatile double sink = walk(t);
    (void)sink;
    nbtrace::require_well_formed(t);
  } catch (const nbtrace::InputError&) {
    // The documented error (UTF-16/32 text, malformed lines).
  }
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  parse(text, "");
  parse(text, "C");
  (void)nbtrace::detect_tag(text);
  return 0;
}
