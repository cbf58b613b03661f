#pragma once
// Helpers for the nbsim acceptance tests: golden case folders under
// ../shared/golden, a private working copy of their inputs, running nbsim
// and reading float images and statistics lines.
#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstring>
#include <sstream>
#include <string>
#include <vector>

#include "test_support.hpp"

namespace simtest {

namespace fs = std::filesystem;

/// The acceptance cases of issue 4.
inline const std::vector<std::string>& acceptance_cases() {
  static const std::vector<std::string> cases{
      "demo_scaling",       "simple_cubic_256",   "simple_cubic_1024",   "triclinic_P1_512",
      "cubic_tilted_256",   "supervisor_scaling", "phi_osc_256",         "xds_convention_256",
      "adxv_convention_256", "round_xtal_256",    "tophat_256",          "sparse_hkl_64",
      "polar_oversample_256"};
  return cases;
}

/// Golden cases the simulator also reproduces beyond issue 4's list:
/// mosaic domains (the reference's random generator), sensor absorption, a
/// source file, water background (its noise image is not simulated).
inline std::vector<std::string> all_checked_cases() {
  std::vector<std::string> cases = acceptance_cases();
  cases.push_back("mosaic_256");
  cases.push_back("absorption_256");
  cases.push_back("sourcefile_128");
  cases.push_back("noise_smv_128");
  return cases;
}

inline fs::path case_dir(const std::string& name) { return nbtest::shared_dir() / "golden" / name; }

inline nlohmann::json case_json(const std::string& name) {
  return nlohmann::json::parse(nbtest::read_file(case_dir(name) / "case.json"));
}

/// Copies the case's input files (matrices, HKL, source lists) into `dir`,
/// so runs read them by relative path and write outputs there.
inline void stage_inputs(const std::string& name, const fs::path& dir) {
  for (const auto& entry : fs::directory_iterator(case_dir(name))) {
    const auto ext = entry.path().extension().string();
    if (ext == ".mat" || ext == ".hkl" || ext == ".txt") fs::copy_file(entry.path(), dir / entry.path().filename());
  }
}

/// A nanoBragg argument list minus the program name.
inline std::vector<std::string> arguments(const nlohmann::json& command) {
  std::vector<std::string> args = command.get<std::vector<std::string>>();
  args.erase(args.begin());
  return args;
}

inline std::vector<float> read_floats(const fs::path& p) {
  const std::string bytes = nbtest::read_file(p);
  std::vector<float> v(bytes.size() / sizeof(float));
  std::memcpy(v.data(), bytes.data(), v.size() * sizeof(float));
  return v;
}

/// The "max_I = ..." and "mean= ..." lines of a run's stdout.
inline std::vector<std::string> stats_lines(const std::string& out) {
  std::vector<std::string> lines;
  std::istringstream in(out);
  for (std::string line; std::getline(in, line);)
    if (line.rfind("max_I =", 0) == 0 || line.rfind("mean=", 0) == 0) lines.push_back(line);
  return lines;
}

/// The numbers in a line, in order.
inline std::vector<double> numbers_in(const std::string& line) {
  std::vector<double> v;
  std::istringstream in(line);
  for (std::string tok; in >> tok;) {
    char* end = nullptr;
    const double d = std::strtod(tok.c_str(), &end);
    if (end && *end == '\0' && end != tok.c_str()) v.push_back(d);
  }
  return v;
}

/// A golden case's image arguments in c-parity mode, followed by `extra`.
inline std::vector<std::string> c_parity_case_args(const std::string& name, std::vector<std::string> extra) {
  std::vector<std::string> args{"-mode", "c-parity"};
  const auto image_args = arguments(case_json(name).at("image_command"));
  args.insert(args.end(), image_args.begin(), image_args.end());
  args.insert(args.end(), extra.begin(), extra.end());
  return args;
}

/// A 16x16-pixel run (3 unit cells of 100 A, 1 A, 50 mm) that refusal
/// tests add their flags to.
inline const std::vector<std::string>& small_run() {
  static const std::vector<std::string> run{"-cell", "100", "100", "100", "90", "90", "90", "-N", "3", "-lambda", "1",
                                            "-distance", "50", "-detpixels", "16", "-pixel", "0.1", "-oversample", "1"};
  return run;
}

/// Runs nbsim in `mode` with small_run(), `extra` and every output
/// requested (float, integer, noise and PGM images, a trace file); checks
/// the error contract: exit `code`, one line "nbsim: error: ..." holding
/// each of `fragments`, and none of the outputs (nor Fdump.bin) written.
inline void expect_failure(const nbtest::TempDir& work, const std::vector<std::string>& extra, int code,
                           const std::vector<std::string>& fragments, const std::string& mode = "spec") {
  std::vector<std::string> a{"-mode", mode};
  a.insert(a.end(), small_run().begin(), small_run().end());
  a.insert(a.end(), extra.begin(), extra.end());
  a.insert(a.end(), {"-floatfile", "f.bin", "-intfile", "i.img", "-noisefile", "n.img", "-seed", "1", "-pgmfile",
                     "p.pgm", "-trace_pixel", "3", "3", "-trace_file", "t.log"});
  const auto r = nbtest::run_tool("nbsim", a, work.path());
  CAPTURE(mode);
  CAPTURE(r.err);
  CHECK(r.exit_code == code);
  CHECK(r.err.rfind("nbsim: error: ", 0) == 0);
  CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
  for (const auto& f : fragments) CHECK_MESSAGE(r.err.find(f) != std::string::npos, f);
  for (const auto* out : {"f.bin", "i.img", "n.img", "p.pgm", "t.log", "Fdump.bin"})
    CHECK_MESSAGE(!fs::exists(work / out), out);
}

}  // namespace simtest
