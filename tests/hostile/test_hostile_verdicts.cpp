// Vacuous or silent verdicts: nothing compared is no agreement, NaN is never
// silently equal, a byte-order mark never drops a record.
#include <nlohmann/json.hpp>

#include "hostile_support.hpp"

using hostile::fs::path;

TEST_CASE("two traces with no field in common: NOT COMPARED, exit 4") {
  nbtest::TempDir dir;
  nbtest::write_file(dir / "c.log", "TRACE_C: alpha 1\nTRACE_C: beta 2\n");
  nbtest::write_file(dir / "py.log", "TRACE_PY: gamma 1\n");
  const auto r = nbtest::run_tool("nbtrace", {"diff", (dir / "c.log").string(), (dir / "py.log").string(), "--json",
                                              (dir / "d.json").string()});
  CHECK(r.exit_code == 4);
  CHECK(r.out.find("NOT COMPARED: 0 fields present on both sides, at least 1 needed") != std::string::npos);
  const auto j = nlohmann::json::parse(nbtest::read_file(dir / "d.json"));
  CHECK(j["verdict"] == "NOT_COMPARED");
  CHECK(j["num_compared"] == 0);
}

TEST_CASE("fewer compared fields than the policy's minimum: NOT COMPARED, exit 4") {
  nbtest::TempDir dir;
  nbtest::write_file(dir / "c.log", "TRACE_C: alpha 1\nTRACE_C: beta 2\n");
  nbtest::write_file(dir / "py.log", "TRACE_PY: alpha 1\nTRACE_PY: beta 2\n");
  nbtest::write_file(dir / "policy.json", R"({"min_compared_fields": 5})");
  const auto r = nbtest::run_tool("nbtrace", {"diff", (dir / "c.log").string(), (dir / "py.log").string(),
                                              "--tolerances", (dir / "policy.json").string()});
  CHECK(r.exit_code == 4);
  CHECK(r.out.find("NOT COMPARED: 2 fields present on both sides, at least 5 needed") != std::string::npos);
  nbtest::write_file(dir / "zero.json", R"({"min_compared_fields": 0})");
  const auto zero = nbtest::run_tool("nbtrace", {"diff", (dir / "c.log").string(), (dir / "py.log").string(),
                                                 "--tolerances", (dir / "zero.json").string()});
  hostile::check_refusal(zero, "nbtrace", 5, "min_compared_fields must be a whole number >= 1");
}

TEST_CASE("NaN on both sides is a divergence (NON_FINITE), unless the policy says equal_passes") {
  nbtest::TempDir dir;
  nbtest::write_file(dir / "c.log", "TRACE_C: alpha 1\nTRACE_C: omega nan\nTRACE_C: fluence inf\n");
  nbtest::write_file(dir / "py.log", "TRACE_PY: alpha 1\nTRACE_PY: omega nan\nTRACE_PY: fluence inf\n");
  const auto r = nbtest::run_tool("nbtrace", {"diff", (dir / "c.log").string(), (dir / "py.log").string(), "--json",
                                              (dir / "d.json").string()});
  CHECK(r.exit_code == 3);
  CHECK(r.out.find("NON_FINITE") != std::string::npos);
  const auto j = nlohmann::json::parse(nbtest::read_file(dir / "d.json"));
  CHECK(j["verdict"] == "DIVERGENT");
  CHECK(j["num_non_finite"] == 2);
  nbtest::write_file(dir / "policy.json", R"({"non_finite": "equal_passes"})");
  const auto lenient = nbtest::run_tool("nbtrace", {"diff", (dir / "c.log").string(), (dir / "py.log").string(),
                                                    "--tolerances", (dir / "policy.json").string()});
  CHECK(lenient.exit_code == 0);
  // NaN against a number stays a divergence under that policy too.
  nbtest::write_file(dir / "py2.log", "TRACE_PY: alpha 1\nTRACE_PY: omega 0.5\nTRACE_PY: fluence inf\n");
  CHECK(nbtest::run_tool("nbtrace", {"diff", (dir / "c.log").string(), (dir / "py2.log").string(), "--tolerances",
                                     (dir / "policy.json").string()})
            .exit_code == 3);
}

TEST_CASE("a UTF-8 byte-order mark: the first record is compared, and show reports the mark") {
  nbtest::TempDir dir;
  nbtest::write_file(dir / "c.log", "\xEF\xBB\xBFTRACE_C: alpha 1\nTRACE_C: beta 2\n");
  nbtest::write_file(dir / "py.log", "TRACE_PY: alpha 7\nTRACE_PY: beta 2\n");
  const auto r = nbtest::run_tool("nbtrace", {"diff", (dir / "c.log").string(), (dir / "py.log").string()});
  CHECK(r.exit_code == 3);  // alpha differs: found only because the BOM did not hide it
  CHECK(r.out.find("alpha") != std::string::npos);
  const auto show = nbtest::run_tool("nbtrace", {"show", (dir / "c.log").string()});
  CHECK(show.exit_code == 0);
  CHECK(show.err.find("1 UTF-8 byte-order mark(s) removed") != std::string::npos);
}

TEST_CASE("a UTF-16 log is refused with the way to convert it, not read as no trace") {
  nbtest::TempDir dir;
  std::string u16 = "\xFF\xFE";
  for (const char c : std::string("TRACE_C: alpha 1\n")) u16 += std::string{c, '\0'};
  nbtest::write_file(dir / "c16.log", u16);
  const auto r = nbtest::run_tool("nbtrace", {"diff", (dir / "c16.log").string(), hostile::demo_trace("py_trace_s27_f488.log")});
  hostile::check_refusal(r, "nbtrace", 5, "UTF-16 or UTF-32 text");
  CHECK(r.err.find("iconv") != std::string::npos);
}
