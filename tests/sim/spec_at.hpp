#pragma once
// Helpers for the spec-a-core acceptance tests (tests/sim/test_spec_at_*.cpp):
// small library set-ups, trace fields, SMV pieces. No ../shared needed.
#include <cmath>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "nbsim/config.hpp"
#include "nbsim/setup.hpp"
#include "nbsim/simulator.hpp"
#include "test_support.hpp"

namespace spec_at {

constexpr double kPi = 3.14159265358979323846;
constexpr double kDeg = kPi / 180.0;

/// A cubic 100 A cell, N=5, 1 A, 32x32 pixels of 0.1 mm at 50 mm, one
/// thread; Fdump.bin goes to (and is looked for in) `work`, never the
/// test's working folder.
inline nbsim::SimConfig small_config(const nbtest::TempDir& work, int pixels = 32) {
  nbsim::SimConfig c;
  c.crystal.cell = nbsim::CellParams{100, 100, 100, 90 * kDeg, 90 * kDeg, 90 * kDeg};
  c.crystal.Na = c.crystal.Nb = c.crystal.Nc = 5;
  c.crystal.default_F = 100;
  c.beam.lambda0 = 1e-10;
  c.detector.fpixels = c.detector.spixels = pixels;
  c.detector.pixel_size = 0.1e-3;
  c.detector.distance = 50e-3;
  c.sampling.oversample = 1;
  c.threads = 1;
  c.fdump_file = (work / "Fdump.bin").string();
  return c;
}

/// The numbers after "TRACE_CPP: <name> " on the last such line of a trace.
inline std::vector<double> trace_field(const std::string& trace, const std::string& name) {
  std::vector<double> v;
  std::istringstream in(trace);
  const std::string prefix = "TRACE_CPP: " + name + " ";
  for (std::string line; std::getline(in, line);) {
    if (line.rfind(prefix, 0) != 0) continue;
    v.clear();
    std::istringstream nums(line.substr(prefix.size()));
    for (double x; nums >> x;) v.push_back(x);
  }
  return v;
}

inline double trace_number(const std::string& trace, const std::string& name) {
  const auto v = trace_field(trace, name);
  REQUIRE_MESSAGE(v.size() == 1, "trace field " << name);
  return v[0];
}

/// "KEY=value;" pairs (";" optional) of an SMV header, in order of appearance.
inline std::vector<std::pair<std::string, std::string>> smv_keys(const std::string& header) {
  std::vector<std::pair<std::string, std::string>> keys;
  std::istringstream in(header);
  for (std::string line; std::getline(in, line);) {
    const auto eq = line.find('=');
    if (eq == std::string::npos) continue;
    std::string value = line.substr(eq + 1);
    if (!value.empty() && value.back() == ';') value.pop_back();  // DIALS_ORIGIN has none
    keys.emplace_back(line.substr(0, eq), value);
  }
  return keys;
}

}  // namespace spec_at
