// Real-data diffs: self-diffs, perturbed copies, and nanoBragg.c vs the
// PyTorch port on the golden cases (first divergences found by hand).
#include <cmath>
#include <nlohmann/json.hpp>
#include <sstream>

#include "golden_cases.hpp"
#include "nbtrace/trace/diff.hpp"
#include "nbtrace/trace/report.hpp"

using namespace nbtrace;
namespace fs = std::filesystem;

namespace {

const FieldResult* find_field(const DiffResult& r, std::string_view label) {
  for (const FieldResult& f : r.fields) {
    if (r.field_label(f) == label) return &f;
  }
  return nullptr;
}

/// The expected-file rendering: the verdict, then one line per compared field.
std::string status_listing(const DiffResult& r) {
  std::string out = diff_summary_line(r);
  for (const FieldResult& f : r.fields) {
    if (f.ref_record < 0 || f.test_record < 0) continue;
    out += r.field_label(f) + " " + std::string(status_name(f.status)) + "\n";
  }
  return out;
}

/// Multiplies the largest-magnitude component of the first `TRACE_C: <field>`
/// line by (1 + rel); returns the new text and sets `component`.
std::string perturb(const std::string& text, const std::string& field, int& component, double rel) {
  std::istringstream in(text);
  std::ostringstream out;
  bool done = false;
  for (std::string line; std::getline(in, line);) {
    if (!done && line.rfind("TRACE_C: " + field + " ", 0) == 0) {
      std::istringstream toks(line.substr(9 + field.size() + 1));
      std::vector<double> v;
      for (double x; toks >> x;) v.push_back(x);
      REQUIRE(!v.empty());
      component = 0;
      for (std::size_t i = 1; i < v.size(); ++i) {
        if (std::fabs(v[i]) > std::fabs(v[static_cast<std::size_t>(component)])) component = static_cast<int>(i);
      }
      v[static_cast<std::size_t>(component)] *= 1 + rel;
      line = "TRACE_C: " + field;
      char buf[64];
      for (double x : v) {
        std::snprintf(buf, sizeof buf, " %.17g", x);
        line += buf;
      }
      done = true;
    }
    out << line << "\n";
  }
  REQUIRE_MESSAGE(done, "no line for " << field);
  return out.str();
}

}  // namespace

TEST_CASE("each golden trace diffed with itself is all PASS") {
  if (!nbtest::require_shared("golden traces")) return;
  for (const auto& path : nbtest::golden_logs(true)) {
    CAPTURE(path.string());
    const Trace t = load_trace(path.string());
    const DiffResult r = diff_traces(t, t, {});
    CHECK(r.num_divergent == 0);
    CHECK(r.num_missing == 0);
    CHECK(r.num_compared == r.fields.size());
    CHECK(r.num_compared > 20);
    CHECK_FALSE(r.first_divergence);
  }
}

TEST_CASE("a copy with one perturbed component reports that field as the first divergence") {
  if (!nbtest::require_shared("golden traces")) return;
  for (const auto& path : nbtest::golden_logs(true)) {
    if (path.filename().string().rfind("c_trace_s", 0) != 0) continue;
    CAPTURE(path.string());
    const std::string text = nbtest::read_file(path);
    const Trace ref = parse_trace(text, path.string());
    for (const auto& [field, rel, expected] :
         {std::tuple{std::string("diffracted_vec"), 1e-3, Status::divergent},
          std::tuple{std::string("omega_pixel_sr"), 2e-6, Status::minor},
          std::tuple{std::string("polar"), 0.5, Status::critical}}) {
      CAPTURE(field);
      int component = -1;
      const Trace test = parse_trace(perturb(text, field, component, rel), "perturbed.log");
      const DiffResult r = diff_traces(ref, test, {});
      REQUIRE(r.first_divergence);
      const FieldResult& f = r.fields[*r.first_divergence];
      CHECK(r.name(f) == field);
      CHECK(f.occurrence == 0);
      CHECK(f.status == expected);
      // Only the perturbed component diverges.
      for (std::uint32_t i = 0; i < f.num_components; ++i) {
        const ComponentResult& c = r.components[f.first_component + i];
        CHECK((c.status == expected) == (static_cast<int>(c.component) == component));
      }
      CHECK(r.num_divergent == 1);
    }
  }
}

TEST_CASE("nanoBragg.c vs the PyTorch port: first divergences found by hand") {
  if (!nbtest::require_shared("golden C and PyTorch traces")) return;
  const fs::path g = nbtest::shared_dir() / "golden";
  SUBCASE("demo_scaling: pix0_vector_meters first; real-space vectors off by 1e10") {
    for (const char* pixel : {"s27_f488", "s30_f493"}) {
      CAPTURE(pixel);
      const Trace c = load_trace((g / "demo_scaling" / ("c_trace_" + std::string(pixel) + ".log")).string());
      const Trace py = load_trace((g / "demo_scaling" / ("py_trace_" + std::string(pixel) + ".log")).string());
      const DiffResult r = diff_traces(c, py, {});
      REQUIRE(r.first_divergence);
      CHECK(r.name(r.fields[*r.first_divergence]) == "pix0_vector_meters");
      CHECK(r.fields[*r.first_divergence].status == Status::critical);
      for (const char* v : {"rot_a_angstroms", "rot_b_angstroms", "rot_c_angstroms"}) {
        const FieldResult* f = find_field(r, v);
        REQUIRE(f);
        CHECK(f->status == Status::critical);
        // The port prints meters where C prints Angstroms: a 1e10 ratio.
        const ComponentResult& comp = r.components[f->first_component];
        CHECK(r.ref_value(comp) / r.test_value(comp) == doctest::Approx(1e10).epsilon(1e-6));
      }
      CHECK(find_field(r, "lambda_meters")->status == Status::pass);
      CHECK(find_field(r, "steps")->status == Status::pass);
      CHECK(find_field(r, "fdet_vec")->status == Status::pass);
    }
  }
  SUBCASE("simple_cubic_256: geometry agrees; the real-space vectors are the first divergence") {
    const Trace c = load_trace((g / "simple_cubic_256/c_trace_s128_f128.log").string());
    const Trace py = load_trace((g / "simple_cubic_256/py_trace_s128_f128.log").string());
    const DiffResult r = diff_traces(c, py, {});
    REQUIRE(r.first_divergence);
    CHECK(r.name(r.fields[*r.first_divergence]) == "rot_a_angstroms");
    CHECK(find_field(r, "pix0_vector_meters")->status == Status::pass);
    CHECK(find_field(r, "scattering_vec_A_inv")->status == Status::pass);
    CHECK(find_field(r, "rot_c_angstroms")->status == Status::critical);
    CHECK(find_field(r, "I_before_scaling")->status == Status::pass);
  }
  SUBCASE("triclinic_P1_512: a 25 um offset along z in pixel_pos_meters comes first") {
    const Trace c = load_trace((g / "triclinic_P1_512/c_trace_s368_f262.log").string());
    const Trace py = load_trace((g / "triclinic_P1_512/py_trace_s368_f262.log").string());
    const DiffResult r = diff_traces(c, py, {});
    REQUIRE(r.first_divergence);
    const FieldResult& f = r.fields[*r.first_divergence];
    CHECK(r.name(f) == "pixel_pos_meters");
    CHECK(find_field(r, "pix0_vector_meters")->status == Status::pass);
    const ComponentResult& z = r.components[f.first_component + 2];
    CHECK(z.status == Status::critical);
    CHECK(r.abs_delta(z) == doctest::Approx(2.5e-5).epsilon(1e-6));  // a quarter of the 0.1 mm pixel
  }
}

TEST_CASE("golden expected listings (tests/golden/trace_diff/<case>/)") {
  if (!nbtest::require_shared("golden C and PyTorch traces")) return;
  const fs::path root = nbtest::source_dir() / "tests/golden/trace_diff";
  int cases = 0;
  for (const auto& dir : fs::directory_iterator(root)) {
    if (!dir.is_directory()) continue;
    CAPTURE(dir.path().string());
    const auto spec = nlohmann::json::parse(nbtest::read_file(dir.path() / "case.json"));
    const Trace ref = load_trace((nbtest::shared_dir() / spec["ref"].get<std::string>()).string());
    const Trace test = load_trace((nbtest::shared_dir() / spec["test"].get<std::string>()).string());
    DiffOptions opt;
    opt.policy.rel = spec["tolerance_rel"].get<double>();
    const DiffResult r = diff_traces(ref, test, opt);
    nbtest::check_golden_text(dir.path() / "expected.txt", status_listing(r));
    ++cases;
  }
  CHECK(cases == 4);
}
