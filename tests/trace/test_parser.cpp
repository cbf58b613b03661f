#include <cmath>

#include "nbtrace/base/error.hpp"
#include "nbtrace/trace/trace.hpp"
#include "test_support.hpp"

using namespace nbtrace;

namespace {
const Record& only(const Trace& t, std::string_view name) {
  const auto i = t.find_last(name);
  REQUIRE_MESSAGE(i.has_value(), "no record named " << name);
  return t.records()[*i];
}
std::vector<double> vals(const Trace& t, std::string_view name) {
  const auto v = t.values(only(t, name));
  return {v.begin(), v.end()};
}
}  // namespace

TEST_CASE("space form: scalars, vectors, integers, -0, nan, inf") {
  const Trace t = parse_trace(
      "TRACE_C: hkl_frac -6.87 -0.60 -13.77\n"
      "TRACE_C: hkl_rounded -7 -1 -14\n"
      "TRACE_C: steps 10\n"
      "TRACE_C: zero -0\n"
      "TRACE_C: bad nan inf -inf\n",
      "mem.log");
  CHECK(t.tag() == "C");
  CHECK(vals(t, "hkl_frac") == std::vector<double>{-6.87, -0.60, -13.77});
  CHECK(vals(t, "hkl_rounded") == std::vector<double>{-7, -1, -14});
  CHECK(vals(t, "steps") == std::vector<double>{10});
  CHECK(std::signbit(vals(t, "zero")[0]));
  const auto b = vals(t, "bad");
  CHECK(std::isnan(b[0]));
  CHECK(std::isinf(b[1]));
  CHECK(b[2] < 0);
  CHECK(t.diagnostics().empty());
  CHECK(only(t, "steps").line == 3);
}

TEST_CASE("equals forms: vector, matrix, key:value, text") {
  const Trace t = parse_trace(
      "TRACE_C:fdet_after_rotz=0.999982 -0.005998 -0.000118\n"
      "TRACE_C:Rx=[1 0 0; 0 1 -0; 0 0 1]\n"
      "TRACE_C:angles_rad=rotx:0 roty:0.5 rotz:0 twotheta:0\n"
      "TRACE_C:detector_convention=CUSTOM\n"
      "TRACE_C:convention_mapping=Fbeam\xe2\x86\x90Ybeam_mm(+0.5px),beam_vec=[1 0 0]\n",
      "mem.log");
  CHECK(vals(t, "fdet_after_rotz").size() == 3);
  const Record& rx = only(t, "Rx");
  CHECK(rx.form == ValueForm::matrix);
  CHECK(rx.rows == 3);
  CHECK(t.cols(rx) == 3);
  CHECK(std::signbit(t.values(rx)[5]));
  const Record& ang = only(t, "angles_rad");
  CHECK(ang.form == ValueForm::keyed);
  CHECK(t.component_key(ang, 1) == "roty");
  CHECK(t.values(ang)[1] == 0.5);
  CHECK(only(t, "detector_convention").text == "CUSTOM");
  CHECK(only(t, "convention_mapping").form == ValueForm::text);
  CHECK(t.diagnostics().empty());
}

TEST_CASE("per-step lines become records keyed by their _tic coordinates") {
  const Trace t = parse_trace(
      "TRACE_C_PHI phi_tic=0 phi_deg=0 k_frac=-0.607 F_latt=-2.38\n"
      "TRACE_C_PHI phi_tic=1 phi_deg=0.01 k_frac=-0.591 F_latt=1.09\n",
      "mem.log");
  REQUIRE(t.records().size() == 6);
  const Record& last = only(t, "PHI.F_latt");
  CHECK(t.values(last)[0] == 1.09);
  REQUIRE(last.num_loop == 1);
  CHECK(t.names()[t.loop(last)[0].name_id] == "phi_tic");
  CHECK(t.loop(last)[0].value == 1);
  CHECK(last.occurrence == 0);  // distinct loop coordinates: both first occurrences
  CHECK(t.label(last) == "PHI.F_latt[phi_tic=1]");
}

TEST_CASE("occurrence counts repeated names; TRACE_CONFIG gives the pixel") {
  const Trace t = parse_trace(
      "TRACE_C:twotheta_axis=0 1 0\n"
      "TRACE_CONFIG: tracing pixel (spixel=685, fpixel=1039)\n"
      "TRACE_C:twotheta_axis=0 0 1\n",
      "mem.log");
  REQUIRE(t.records().size() == 2);
  CHECK(t.records()[0].occurrence == 0);
  CHECK(t.records()[1].occurrence == 1);
  REQUIRE(t.pixels().size() == 1);
  CHECK(t.pixels()[0].slow == 685);
  CHECK(t.pixels()[0].fast == 1039);
  CHECK(t.stats().config_lines == 1);
}

TEST_CASE("noise is skipped and counted; other tags are foreign") {
  const Trace t = parse_trace(
      "nanoBragg nanocrystal diffraction simulator\n"
      "0% done\n"
      "TRACE:   a_star (raw) = [0.0196863, 0.0160937, 0.0194188]\n"
      "TRACE_PY: steps 10\n"
      "TRACE_C: steps 10\n"
      "TRACE_C: polar 0.9\n",
      "mem.log");
  CHECK(t.tag() == "C");
  CHECK(t.stats().skipped_lines == 3);
  CHECK(t.stats().foreign_lines == 1);
  CHECK(t.records().size() == 2);
}

TEST_CASE("a chosen tag reads only its lines; channels and markers") {
  const std::string text =
      "TRACE_C: steps 10\n"
      "TRACE_PY: steps 11\n"
      "TRACE_PY_TRICUBIC_GRID_START\n"
      "TRACE_PY_TRICUBIC: [0,0,1]=197.48\n"
      "TRACE_PY_TRICUBIC_H_COORDS: [-1.0, 0.0, 1.0, 2.0]\n"
      "TRACE_PY_TRICUBIC_GRID_END\n";
  const Trace t = parse_trace(text, "mem.log", ParseOptions{"PY"});
  CHECK(t.tag() == "PY");
  CHECK(vals(t, "steps") == std::vector<double>{11});
  CHECK(only(t, "TRICUBIC_GRID_START").form == ValueForm::marker);
  CHECK(vals(t, "TRICUBIC.[0,0,1]") == std::vector<double>{197.48});
  CHECK(vals(t, "TRICUBIC_H_COORDS") == std::vector<double>{-1, 0, 1, 2});
  CHECK(t.diagnostics().empty());
}

TEST_CASE("tag detection picks the most frequent tag, never CONFIG") {
  CHECK(detect_tag("TRACE_CONFIG: a\nTRACE_CONFIG: b\nTRACE_CPP: x 1\n") == "CPP");
  CHECK(detect_tag("TRACE_PY: x 1\nTRACE_PY_PHI a=1\nTRACE_C: y 2\n") == "PY");
  CHECK(detect_tag("no trace here\n").empty());
}

TEST_CASE("malformed lines are reported with their line number, never dropped silently") {
  const Trace t = parse_trace(
      "TRACE_C: good 1\n"
      "TRACE_C: lonely\n"
      "TRACE_C: vec 1.0 2.x 3\n"
      "TRACE_C:M=[1 2; 3]\n"
      "TRACE_C:open=[1 2 3\n"
      "TRACE_C:=5\n"
      "TRACE_C:\n"
      "TRACE_C: big 1e999\n"
      "TRACE_Cx 5\n",
      "bad.log");
  CHECK(t.records().size() == 1);
  REQUIRE(t.diagnostics().size() == 7);
  CHECK(t.diagnostics()[0].line == 2);
  CHECK(t.diagnostics()[0].reason.find("lonely") != std::string::npos);
  CHECK(t.diagnostics()[1].line == 3);
  CHECK(t.diagnostics()[1].reason.find("2.x") != std::string::npos);
  CHECK(t.diagnostics()[2].reason.find("row 2") != std::string::npos);
  CHECK(t.diagnostics()[3].reason.find("unclosed") != std::string::npos);
  CHECK(t.diagnostics()[6].line == 8);
  CHECK(t.stats().malformed_lines == 7);
  CHECK(t.stats().foreign_lines == 1);  // TRACE_Cx is another tag
  try {
    require_well_formed(t);
    FAIL("expected InputError");
  } catch (const InputError& e) {
    CHECK(std::string(e.what()).rfind("bad.log:2: ", 0) == 0);
  }
}

TEST_CASE("CRLF line ends and a missing final newline") {
  const Trace t = parse_trace("TRACE_C: a 1\r\nTRACE_C: b 2", "crlf.log");
  CHECK(vals(t, "a") == std::vector<double>{1});
  CHECK(vals(t, "b") == std::vector<double>{2});
  CHECK(t.stats().lines == 2);
}

TEST_CASE("load_trace reports an unreadable file as InputError") {
  CHECK_THROWS_AS(load_trace("/nonexistent/trace.log"), InputError);
}

TEST_CASE("encoding noise: a UTF-8 BOM is removed and counted; UTF-16, NUL bytes and folders are refused") {
  // The BOM sits before the first record: without stripping it, that record
  // would be one unknown tag and silently lost.
  const Trace bom = parse_trace("\xEF\xBB\xBFTRACE_C: first 1\nTRACE_C: second 2\n", "bom.log");
  CHECK(bom.tag() == "C");
  CHECK(vals(bom, "first") == std::vector<double>{1});
  CHECK(bom.records().size() == 2);
  CHECK(bom.stats().byte_order_marks == 1);
  CHECK(bom.stats().malformed_lines == 0);
  const Trace plain = parse_trace("TRACE_C: first 1\n", "plain.log");
  CHECK(plain.stats().byte_order_marks == 0);

  CHECK_THROWS_WITH_AS(parse_trace(std::string("\xFF\xFET\0R\0", 6), "u16.log"),
                       doctest::Contains("u16.log: the file is UTF-16 or UTF-32 text"), InputError);
  std::string utf16_no_mark;  // UTF-16LE without a byte-order mark
  for (const char c : std::string("TRACE_C: x 1\n")) utf16_no_mark += std::string{c, '\0'};
  CHECK_THROWS_WITH_AS(parse_trace(utf16_no_mark, "nobom.log"),
                       doctest::Contains("nobom.log: the file holds NUL bytes"), InputError);
  nbtest::TempDir dir;
  CHECK_THROWS_WITH_AS(load_trace(dir.path().string()), doctest::Contains("is a folder, not a trace log"), InputError);
}

TEST_CASE("the peer's hand-written forms: spaced assignments, Python lists, units, |x| annotations, banners") {
  const Trace t = parse_trace(
      "TRACE_PY: ===== begin pixel (12, 34) =====\n"
      "TRACE_PY: a_star = [-1.22e-02, 4.82e-04, 7.48e-03]\n"
      "TRACE_PY_BASE:   a = [1.08e-09, 0.0, 0.0] |a| = 0.00108 meters\n"
      "TRACE_PY: lambda = 6.2e-10 meters\n"
      "TRACE_PY: distance=0.1 m\n"
      "TRACE_PY: U = [[1.0, 0.0], [0.0, 1.0]]\n"
      "TRACE_PY: convention = MOSFLM\n"
      "TRACE_PY: fluence = 1e24 photons/m^2 |scale| = 2\n"
      "TRACE_PY: ----------------\n"
      "TRACE_PY: omega 0.5\n",
      "peer.log");
  CHECK(t.diagnostics().empty());
  CHECK(t.stats().section_lines == 2);
  CHECK(vals(t, "a_star") == std::vector<double>{-1.22e-02, 4.82e-04, 7.48e-03});
  CHECK(vals(t, "BASE.a") == std::vector<double>{1.08e-09, 0.0, 0.0});
  CHECK(vals(t, "BASE.|a|") == std::vector<double>{0.00108});
  CHECK(vals(t, "lambda") == std::vector<double>{6.2e-10});
  CHECK(vals(t, "distance") == std::vector<double>{0.1});
  CHECK(only(t, "U").form == ValueForm::matrix);
  CHECK(vals(t, "U") == std::vector<double>{1, 0, 0, 1});
  CHECK(only(t, "convention").form == ValueForm::text);
  CHECK(vals(t, "fluence") == std::vector<double>{1e24});
  CHECK(vals(t, "|scale|") == std::vector<double>{2});
  CHECK(vals(t, "omega") == std::vector<double>{0.5});
}

TEST_CASE("real malformations in the peer's forms are still reported with their line") {
  const auto reason = [](const std::string& line) {
    const Trace t = parse_trace("TRACE_PY: ok 1\n" + line + "\n", "bad.log");
    REQUIRE(t.diagnostics().size() == 1);
    CHECK(t.diagnostics()[0].line == 2);
    return t.diagnostics()[0].reason;
  };
  CHECK(reason("TRACE_PY: a = [1.0, 2.0") == "field 'a': unclosed '['");
  CHECK(reason("TRACE_PY: a = [1.0, x]") == "field 'a': 'x' is not a number");
  CHECK(reason("TRACE_PY: a = 1.0 meters extra words") == "field 'a': unexpected 'extra' after the value");
  CHECK(reason("TRACE_PY: a = [1, 2] |a| = 1.2.3") == "field 'a': '1.2.3' is not a number");
  CHECK(reason("TRACE_PY: a =") == "field 'a' has no value");
  CHECK(reason("TRACE_PY: = 3") == "empty field name before '='");
}
