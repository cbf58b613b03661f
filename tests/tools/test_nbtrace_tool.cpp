// nbtrace diff / show as users run them: exit codes, JSON, policies.
#include <nlohmann/json.hpp>

#include "test_support.hpp"

namespace fs = std::filesystem;

namespace {
std::string example(const std::string& f) { return (nbtest::source_dir() / "examples/demo_scaling" / f).string(); }
}  // namespace

TEST_CASE("diff: exit 0 on agreement, 3 on divergence; the JSON document") {
  nbtest::TempDir dir;
  CHECK(nbtest::run_tool("nbtrace", {"diff", example("c_trace_s27_f488.log"), example("c_trace_s27_f488.log")})
            .exit_code == 0);
  const std::string json_path = (dir / "d.json").string();
  const auto r = nbtest::run_tool("nbtrace", {"diff", example("c_trace_s27_f488.log"), example("py_trace_s27_f488.log"),
                                              "--json", json_path, "--md", (dir / "d.md").string()});
  CHECK(r.exit_code == 3);
  CHECK(r.out.find("first divergence: pix0_vector_meters CRITICAL") != std::string::npos);
  const auto j = nlohmann::json::parse(nbtest::read_file(json_path));
  CHECK(j["first_divergence"] == "pix0_vector_meters");
  CHECK(j["tolerance_rel"] == 1e-6);
  CHECK(j["num_divergent"].get<int>() > 10);
  bool saw_phi = false;
  for (const auto& e : j["fields"]) {
    for (const char* k : {"name", "component", "occurrence", "loop", "ref", "test", "abs_delta", "rel_delta", "ulps", "status"}) {
      REQUIRE_MESSAGE(e.contains(k), k);
    }
    if (e["name"] == "PHI.F_latt" && e["loop"].value("phi_tic", -1.0) == 3.0) {
      saw_phi = true;
      CHECK(e["ref"].get<double>() == 1670.12114868473);
      CHECK(e["test"].get<double>() == 1680.0);
    }
    if (e["name"] == "rot_a_angstroms" && e["component"] == 0) CHECK(e["status"] == "CRITICAL");
  }
  CHECK(saw_phi);
  CHECK(nbtest::read_file(dir / "d.md").find("**pix0_vector_meters**") != std::string::npos);
}

TEST_CASE("diff: tolerance file with overrides and a waiver; aliases; field globs") {
  nbtest::TempDir dir;
  nbtest::write_file(dir / "policy.json", R"({
    "fields": {"pix0_vector_meters": {"rel": 0.05}},
    "waivers": [{"id": "DEMO-001", "fields": ["pixel_pos_meters"], "reason": "known detector offset"}]
  })");
  const std::string json_path = (dir / "d.json").string();
  const auto r = nbtest::run_tool("nbtrace", {"diff", example("c_trace_s27_f488.log"), example("py_trace_s27_f488.log"),
                                              "--tolerances", (dir / "policy.json").string(), "--json", json_path});
  CHECK(r.exit_code == 3);
  const auto j = nlohmann::json::parse(nbtest::read_file(json_path));
  CHECK(j["first_divergence"] == "R_distance_meters");  // pix0 passes at 5%, pixel_pos is waived
  for (const auto& e : j["fields"]) {
    if (e["name"] == "pixel_pos_meters") {
      CHECK(e["status"] == "WAIVED");
      CHECK(e.contains("underlying_status"));
    }
  }
  // Only the scaling fields that agree: exit 0.
  CHECK(nbtest::run_tool("nbtrace", {"diff", example("c_trace_s27_f488.log"), example("py_trace_s27_f488.log"),
                                     "--fields", "r_e_*", "--fields", "steps"})
            .exit_code == 0);
  // Without the built-in alias, I_before_scaling has no counterpart: nothing
  // is compared, which is no agreement (exit 4).
  const auto no_alias = nbtest::run_tool(
      "nbtrace", {"diff", example("c_trace_s27_f488.log"), example("py_trace_s27_f488.log"), "--fields",
                  "I_before_scaling*", "--no-builtin-aliases", "--show-missing"});
  CHECK(no_alias.exit_code == 4);
  CHECK(no_alias.out.find("MISSING") != std::string::npos);
  CHECK(no_alias.out.find("NOT COMPARED: 0 fields present on both sides, at least 1 needed") != std::string::npos);
  // A user alias.
  nbtest::write_file(dir / "a.log", "TRACE_C: energy 1\n");
  nbtest::write_file(dir / "b.log", "TRACE_PY: energy_keV 2\n");
  CHECK(nbtest::run_tool("nbtrace", {"diff", (dir / "a.log").string(), (dir / "b.log").string(), "--alias",
                                     "energy_keV=energy"})
            .exit_code == 3);
}

TEST_CASE("diff: malformed and missing inputs exit 5 naming file and line; usage errors exit 1") {
  nbtest::TempDir dir;
  nbtest::write_file(dir / "bad.log", "TRACE_C: a 1\nTRACE_C: b 1.2.3\n");
  const auto bad = nbtest::run_tool("nbtrace", {"diff", (dir / "bad.log").string(), (dir / "bad.log").string(), "--json",
                                                (dir / "out.json").string()});
  CHECK(bad.exit_code == 5);
  CHECK(bad.err.find("bad.log:2: field 'b': '1.2.3' is not a number") != std::string::npos);
  CHECK_FALSE(fs::exists(dir / "out.json"));
  const auto lenient = nbtest::run_tool("nbtrace", {"diff", (dir / "bad.log").string(), (dir / "bad.log").string(),
                                                    "--allow-malformed"});
  CHECK(lenient.exit_code == 0);
  CHECK(lenient.err.find("warning:") != std::string::npos);
  CHECK(nbtest::run_tool("nbtrace", {"diff", "/nonexistent.log", (dir / "bad.log").string()}).exit_code == 5);
  CHECK(nbtest::run_tool("nbtrace", {"diff", example("c_trace_s27_f488.log")}).exit_code == 1);
  CHECK(nbtest::run_tool("nbtrace", {"diff", example("c_trace_s27_f488.log"), example("c_trace_s27_f488.log"),
                                     "--alias", "nonsense"})
            .exit_code == 1);
  CHECK(nbtest::run_tool("nbtrace", {}).exit_code == 1);
  CHECK(nbtest::run_tool("nbtrace", {"diff", "--help"}).exit_code == 0);
  nbtest::write_file(dir / "policy.json", "{\"tolerance\": 1}");
  const auto pol = nbtest::run_tool("nbtrace", {"diff", example("c_trace_s27_f488.log"), example("c_trace_s27_f488.log"),
                                                "--tolerances", (dir / "policy.json").string()});
  CHECK(pol.exit_code == 5);
  CHECK(pol.err.find("unknown key 'tolerance'") != std::string::npos);
}

TEST_CASE("diff: colour only when asked or on a terminal") {
  const auto plain = nbtest::run_tool("nbtrace", {"diff", example("c_trace_s27_f488.log"), example("py_trace_s27_f488.log")});
  CHECK(plain.out.find("\033[") == std::string::npos);  // stdout is a file here
  const auto colored = nbtest::run_tool(
      "nbtrace", {"diff", example("c_trace_s27_f488.log"), example("py_trace_s27_f488.log"), "--color", "always"});
  CHECK(colored.out.find("\033[31mCRITICAL\033[0m") != std::string::npos);
}

TEST_CASE("show: the parsed records and counts") {
  const auto r = nbtest::run_tool("nbtrace", {"show", example("c_trace_s27_f488.log")});
  CHECK(r.exit_code == 0);
  CHECK(r.out.find("\tRx\tmatrix 3x3 1 0 0 0 1 -0 0 0 1") != std::string::npos);
  CHECK(r.out.find("\tPHI.F_latt[phi_tic=3]\t1670.12114868473") != std::string::npos);
  CHECK(r.out.find("\tangles_rad\trotx:0 roty:0 rotz:0 twotheta:0") != std::string::npos);
  CHECK(r.err.find("tag TRACE_C") != std::string::npos);
  CHECK(r.err.find("traced pixel: slow 27, fast 488") != std::string::npos);
  const auto j = nbtest::run_tool("nbtrace", {"show", "--json", example("py_trace_s27_f488.log")});
  CHECK(j.exit_code == 0);
  const auto doc = nlohmann::json::parse(j.out);
  CHECK(doc["tag"] == "PY");
  nbtest::TempDir dir;
  nbtest::write_file(dir / "bad.log", "TRACE_C: a\n");
  const auto bad = nbtest::run_tool("nbtrace", {"show", (dir / "bad.log").string()});
  CHECK(bad.exit_code == 5);
  CHECK(bad.err.find("bad.log:1: field 'a' has no value") != std::string::npos);
}
