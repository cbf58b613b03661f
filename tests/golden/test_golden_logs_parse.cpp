// Every TRACE_ line of every real log in ../shared parses.
#include <cstdio>
#include <sstream>

#include "golden_cases.hpp"
#include "nbtrace/trace/trace.hpp"

using namespace nbtrace;

TEST_CASE("every TRACE_ line of every golden log parses, nothing is dropped") {
  if (!nbtest::require_shared("golden logs")) return;
  const auto logs = nbtest::golden_logs(false);
  REQUIRE(logs.size() >= 50);
  std::size_t total_records = 0;
  for (const auto& path : logs) {
    CAPTURE(path.string());
    const Trace t = load_trace(path.string());
    // Count TRACE_ lines independently of the parser.
    std::istringstream in(nbtest::read_file(path));
    std::uint64_t trace_lines = 0;
    std::uint64_t lines = 0;
    for (std::string line; std::getline(in, line);) {
      ++lines;
      if (line.rfind("TRACE_", 0) == 0) ++trace_lines;
    }
    CHECK(t.diagnostics().empty());
    CHECK(t.stats().lines == lines);
    CHECK(t.stats().trace_lines + t.stats().config_lines + t.stats().foreign_lines == trace_lines);
    CHECK(t.stats().skipped_lines + trace_lines == lines);
    total_records += t.records().size();
  }
  CHECK(total_records > 5000);
}

TEST_CASE("C traces: the tag, the traced pixel and the key fields") {
  if (!nbtest::require_shared("golden traces")) return;
  std::size_t checked = 0;
  for (const auto& path : nbtest::golden_logs(true)) {
    const std::string name = path.filename().string();
    if (name.rfind("c_trace_s", 0) != 0 || name == "c_trace_scaling.log") continue;
    CAPTURE(path.string());
    ++checked;
    const Trace t = load_trace(path.string());
    CHECK(t.tag() == "C");
    int s = -1, f = -1;
    REQUIRE(std::sscanf(name.c_str(), "c_trace_s%d_f%d.log", &s, &f) == 2);
    REQUIRE(t.pixels().size() == 1);
    CHECK(t.pixels()[0].slow == s);
    CHECK(t.pixels()[0].fast == f);
    for (const char* field : {"pix0_vector_meters", "hkl_frac", "F_cell", "I_before_scaling", "I_pixel_final"}) {
      CHECK_MESSAGE(t.find_last(field).has_value(), field);
    }
    CHECK(t.values(t.records()[*t.find_last("pix0_vector_meters")]).size() == 3);
  }
  // Two traced pixels per golden case: a loop over nothing is no check.
  CHECK(checked >= 34);
}

TEST_CASE("PyTorch traces: tag PY, channels and the tricubic grid") {
  if (!nbtest::require_shared("golden PyTorch traces")) return;
  const auto path = nbtest::shared_dir() / "golden/demo_scaling/py_trace_s27_f488.log";
  const Trace t = load_trace(path.string());
  CHECK(t.tag() == "PY");
  CHECK(t.find_last("TRICUBIC.[3,3,3]").has_value());
  CHECK(t.find_last("TRICUBIC_GRID_START").has_value());
  const Record& phi = t.records()[*t.find_last("PHI.V_actual")];
  REQUIRE(phi.num_loop == 1);
  CHECK(t.loop(phi)[0].value == 9);
  CHECK(t.stats().malformed_lines == 0);
}
