// What nbsim refuses (nbsim/validate.hpp, docs/cli.md "What nbsim
// refuses"): physically meaningless values, wrong value counts, traced
// pixels off the detector, runs beyond the machine's memory and non-finite
// numbers in input files. Each is one line naming the flag (or file:line)
// and the rule, exit 1 (exit 5 for a bad input file), no output file at
// all, in spec and c-parity mode alike; values nanoBragg.c gives a meaning
// stay accepted.
#include <doctest/doctest.h>

#include <unistd.h>

#include <array>
#include <filesystem>
#include <limits>

#include "nbsim/config.hpp"
#include "nbsim/validate.hpp"
#include "nbtrace/base/error.hpp"
#include "sim_cases.hpp"

namespace {

struct Refusal {
  std::vector<std::string> flags;
  std::vector<std::string> fragments;
};

/// Each refusal, in both modes, as a usage error (exit 1).
void refused(const std::vector<Refusal>& cases, int code = 1) {
  nbtest::TempDir work;
  for (const auto& [flags, fragments] : cases) {
    CAPTURE(fragments.front());
    for (const char* mode : {"spec", "c-parity"}) {
      std::vector<std::string> extra{"-default_F", "10"};
      extra.insert(extra.end(), flags.begin(), flags.end());
      simtest::expect_failure(work, extra, code, fragments, mode);
    }
  }
}

}  // namespace

TEST_CASE("non-positive or non-finite wavelengths") {
  refused({
      {{"-lambda", "0"}, {"-lambda (or -energy) must be finite and > 0, got 0 Angstrom"}},
      {{"-lambda", "-1"}, {"-lambda (or -energy) must be finite and > 0, got -1 Angstrom"}},
      {{"-lambda", "nan"}, {"-lambda: 'nan' is not a finite number"}},
      {{"-wavelength", "inf"}, {"-lambda: 'inf' is not a finite number"}},
      // 12398.42 eV Angstrom / 0 eV: an infinite wavelength.
      {{"-energy", "0"}, {"-lambda (or -energy) must be finite and > 0, got inf Angstrom"}},
      {{"-energy", "-12398.42"}, {"-lambda (or -energy) must be finite and > 0, got -1 Angstrom"}},
  });
}

TEST_CASE("non-positive sizes and distances") {
  refused({
      {{"-pixel", "0"}, {"-pixel must be finite and > 0, got 0 mm"}},
      {{"-pixel", "-0.1"}, {"-pixel must be finite and > 0, got -0.1 mm"}},
      {{"-detsize", "0"}, {"-detsize_f (or -detsize) must be finite and > 0, got 0 mm"}},
      {{"-detsize_s", "-10"}, {"-detsize_s (or -detsize) must be finite and > 0, got -10 mm"}},
      {{"-distance", "0"}, {"-distance must be finite and > 0, got 0 mm"}},
      {{"-distance", "-50"}, {"-distance must be finite and > 0, got -50 mm"}},
      {{"-close_distance", "0"}, {"-close_distance must be finite and > 0, got 0 mm"}},
      {{"-close_distance", "-50"}, {"-close_distance must be finite and > 0, got -50 mm"}},
      {{"-beamsize", "0"}, {"-beamsize must be finite and > 0, got 0 mm"}},
      {{"-fudge", "0", "-round_xtal"}, {"-fudge must be finite and > 0, got 0"}},
      {{"-source_distance", "0"}, {"-source_distance must be finite and > 0, got 0 mm"}},
  });
}

TEST_CASE("counts below one") {
  refused({
      {{"-N", "0"}, {"-Na (or -N) must be at least 1, got 0"}},
      {{"-Na", "0"}, {"-Na (or -N) must be at least 1, got 0"}},
      {{"-Nb", "0"}, {"-Nb (or -N) must be at least 1, got 0"}},
      {{"-Nc", "-2"}, {"-Nc (or -N) must be at least 1, got -2"}},
      {{"-detpixels", "0"}, {"-detpixels_f (or -detpixels) must be at least 1, got 0"}},
      {{"-detpixels_x", "0"}, {"-detpixels_f (or -detpixels) must be at least 1, got 0"}},
      {{"-detpixels_y", "0"}, {"-detpixels_s (or -detpixels) must be at least 1, got 0"}},
      {{"-oversample", "0"}, {"-oversample must be at least 1, got 0"}},
      {{"-oversample", "-3"}, {"-oversample must be at least 1, got -3"}},
      {{"-phisteps", "0"}, {"-phisteps must be at least 1, got 0"}},
      {{"-phisteps", "-1", "-osc", "1"}, {"-phisteps must be at least 1, got -1"}},
      {{"-mosaic_domains", "0", "-mosaic", "1"}, {"-mosaic_domains must be at least 1, got 0"}},
      {{"-dispsteps", "0", "-dispersion", "10"}, {"-dispsteps must be at least 1, got 0"}},
      {{"-hdivsteps", "0", "-hdivrange", "1"}, {"-hdivsteps (or -divsteps) must be at least 1, got 0"}},
      {{"-vdivsteps", "0", "-vdivrange", "1"}, {"-vdivsteps (or -divsteps) must be at least 1, got 0"}},
      {{"-divsteps", "0"}, {"-hdivsteps (or -divsteps) must be at least 1, got 0"}},
      {{"-thicksteps", "0", "-detector_thick", "100"}, {"-detector_thicksteps must be at least 1, got 0"}},
      {{"-nthreads", "-1"}, {"-nthreads must be >= 0, got -1"}},
  });
}

TEST_CASE("negative ranges, thicknesses, fluence and flux; factors out of range; zero axes") {
  refused({
      {{"-detector_thick", "-100"}, {"-detector_thick must be finite and >= 0, got -100 um"}},
      {{"-detector_abs", "-100"}, {"-detector_abs must be > 0 (or 0 or inf: no absorption), got -100 um"}},
      {{"-fluence", "-1e24"}, {"-fluence must be finite and >= 0, got -1e+24"}},
      {{"-flux", "-1e12", "-exposure", "1"}, {"-flux must be finite and >= 0, got -1e+12"}},
      {{"-exposure", "-1"}, {"-exposure must be finite and >= 0, got -1 s"}},
      {{"-osc", "-5"}, {"-osc must be finite and >= 0, got -5 degrees"}},
      {{"-phistep", "0", "-osc", "1"}, {"-phistep must be finite and > 0, got 0 degrees"}},
      {{"-mosaic", "-1"}, {"-mosaic must be finite and >= 0, got -1 degrees"}},
      {{"-dispersion", "-10"}, {"-dispersion must be finite and >= 0, got -10 percent"}},
      {{"-divergence", "-1"}, {"-hdivrange (or -divergence) must be finite and >= 0, got -1 mrad"}},
      {{"-vdivstep", "0", "-vdivrange", "1"}, {"-vdivstep must be finite and > 0, got 0 mrad"}},
      {{"-water", "-5"}, {"-water must be finite and >= 0, got -5 um"}},
      {{"-samplesize", "-0.01"}, {"-sample_thick (or -samplesize) must be finite and >= 0, got -0.01 mm"}},
      {{"-dmin", "-1"}, {"-dmin must be finite and >= 0, got -1 Angstrom"}},
      {{"-polar", "2"}, {"-polar must be between -1 and 1, got 2"}},
      {{"-scale", "-5"}, {"-scale must be finite and >= 0, got -5"}},
      {{"-beam_vector", "0", "0", "0"}, {"-beam_vector must not be 0 0 0"}},
      {{"-spindle_axis", "0", "0", "0"}, {"-spindle_axis must not be 0 0 0"}},
      {{"-polar_vector", "0", "0", "0"}, {"-polar_vector must not be 0 0 0"}},
      {{"-twotheta_axis", "0", "0", "0"}, {"-twotheta_axis must not be 0 0 0"}},
      {{"-fdet_vector", "0", "0", "0"}, {"-fdet_vector must not be 0 0 0"}},
  });
}

TEST_CASE("nan and inf in any number") {
  refused({
      {{"-phi", "nan"}, {"-phi: 'nan' is not a finite number"}},
      {{"-Xbeam", "inf"}, {"-Xbeam: 'inf' is not a finite number"}},
      {{"-misset", "nan", "0", "0"}, {"-misset: 'nan' is not a finite number"}},
      {{"-default_F", "nan"}, {"-default_F: 'nan' is not a finite number"}},
      {{"-polar", "-inf"}, {"-polar: '-inf' is not a finite number"}},
      {{"-N", "nan"}, {"-N: 'nan' is not a finite number"}},
      {{"-fdet_vector", "0", "0", "inf"}, {"-fdet_vector: 'inf' is not a finite number"}},
      {{"-cell", "100", "100", "100", "90", "90", "nan"}, {"-cell: 'nan' is not a finite number"}},
      {{"-roi", "0", "nan", "0", "5"}, {"-roi: 'nan' is not a finite number"}},
      {{"-trace_pixel", "nan", "3"}, {"-trace_pixel: 'nan' is not a finite number"}},
      // inf means "no absorption" here (nanoBragg.c's meaning); nan means nothing.
      {{"-detector_abs", "nan"}, {"-detector_abs: 'nan' is not a finite number"}},
  });
}

TEST_CASE("cells whose angles cannot form a cell, and non-positive lengths") {
  refused({
      {{"-cell", "100", "100", "100", "10", "10", "90"},
       {"-cell 100 100 100 10 10 90: the angles cannot form a cell",
        "1 - cos^2 alpha - cos^2 beta - cos^2 gamma + 2 cos alpha cos beta cos gamma = -0.94, must be > 0"}},
      // Flat: alpha + beta = gamma puts c in the a-b plane (the determinant is 0 up to rounding).
      {{"-cell", "100", "100", "100", "60", "60", "120"}, {"-cell 100 100 100 60 60 120: the angles cannot form"}},
      {{"-cell", "100", "100", "100", "90", "90", "180"},
       {"-cell 100 100 100 90 90 180: the angles alpha beta gamma must be between 0 and 180 degrees"}},
      {{"-cell", "100", "100", "100", "0", "90", "90"}, {"between 0 and 180 degrees"}},
      {{"-cell", "-100", "100", "100", "90", "90", "90"},
       {"-cell -100 100 100 90 90 90: the lengths a b c must be finite and > 0 Angstrom"}},
      {{"-cell", "100", "100", "0", "90", "90", "90"}, {"the lengths a b c must be finite and > 0"}},
  });
}

TEST_CASE("a multi-value flag with the wrong number of values") {
  refused({
      // nanoBragg.c reads -cell 100 100 100 as a cell of 90-degree angles.
      {{"-cell", "100", "100", "100"}, {"-cell needs 6 values, got 3"}},
      {{"-cell", "1", "2", "3", "4", "5", "6", "7"}, {"-cell needs 6 values, got 7"}},
      {{"-trace_pixel", "3"}, {"-trace_pixel needs 2 values, got 1"}},
      {{"-beam_vector", "1", "0"}, {"-beam_vector needs 3 values, got 2"}},
      {{"-spindle_axis", "0", "1"}, {"-spindle_axis needs 3 values, got 2"}},
      {{"-roi", "1", "2", "3"}, {"-roi needs 4 values, got 3"}},
      {{"-misset", "1", "2"}, {"-misset needs 3 angles (degrees) or 'random'"}},
  });
}

TEST_CASE("traced pixels off the detector") {
  refused({
      {{"-trace_pixel", "100", "3"},
       {"-trace_pixel 100 3 (slow fast) is outside the 16x16-pixel detector: slow 0..15, fast 0..15"}},
      {{"-trace_pixel", "3", "16"}, {"-trace_pixel 3 16 (slow fast) is outside the 16x16-pixel detector"}},
      {{"-trace_pixel", "-1", "3"}, {"-trace_pixel -1 3 (slow fast) is outside"}},
      {{"-detpixels_f", "24", "-trace_pixel", "3", "24"}, {"-trace_pixel 3 24 (slow fast) is outside the 24x16-pixel "
                                                           "detector: slow 0..15, fast 0..23"}},
  });
}

TEST_CASE("runs that need more memory than the machine has") {
  // 4e12 pixels of at least 8 bytes: 29802 GiB and more, on any machine.
  refused({{{"-detpixels", "2000000"}, {"a 2000000x2000000-pixel detector needs ", " GiB, this machine has "}}});
  // A few far indices ask for a dense grid of 1.8e6 x 1.8e6 x 2 cells.
  nbtest::TempDir work;
  nbtest::write_file(work / "far.hkl", "0 0 0 10\n-900000 -900000 0 1\n900000 900000 1 1\n");
  simtest::expect_failure(work, {"-hkl", "far.hkl"}, 1,
                          {"far.hkl: the grid of h -900000..900000, k -900000..900000, l 0..1 needs ",
                           " GiB, this machine has "});
}

TEST_CASE("non-finite numbers in input files name file:line, exit 5") {
  nbtest::TempDir work;
  nbtest::write_file(work / "nan.hkl", "0 0 0 10\n1 0 0 nan\n");
  nbtest::write_file(work / "inf.hkl", "0 0 0 10\n\ninf 0 0 5\n");
  nbtest::write_file(work / "nan.mat", "0.01 0 0\n0 nan 0\n0 0 0.01\n");
  nbtest::write_file(work / "short.mat", "0.01 0 0\n0 0.01 0\n");
  nbtest::write_file(work / "word.mat", "0.01 0 0\n0 0.01 x\n0 0 0.01\n");
  nbtest::write_file(work / "nan.txt", "-10 0 0 1 1e-10\n-10 nan 0 1 1e-10\n");
  nbtest::write_file(work / "zero.txt", "-10 0 0 1 1e-10\n0 0 0 1 1e-10\n");
  nbtest::write_file(work / "lambda.txt", "-10 0 0 1 0\n");
  for (const char* mode : {"spec", "c-parity"}) {
    simtest::expect_failure(work, {"-hkl", "nan.hkl"}, 5,
                            {"nan.hkl:2: the structure factor F must be a finite number, got 'nan'"}, mode);
    simtest::expect_failure(work, {"-hkl", "inf.hkl"}, 5, {"inf.hkl:3: index h=inf is out of range (|index| must be below 2^30)"}, mode);
    simtest::expect_failure(work, {"-default_F", "10", "-mat", "nan.mat"}, 5,
                            {"nan.mat:2: 'nan' is not a finite number"}, mode);
    simtest::expect_failure(work, {"-default_F", "10", "-mat", "short.mat"}, 5,
                            {"short.mat: expected 9 numbers (a 3x3 A matrix), got 6"}, mode);
    simtest::expect_failure(work, {"-default_F", "10", "-mat", "word.mat"}, 5, {"word.mat:2: 'x' is not a number"},
                            mode);
    simtest::expect_failure(work, {"-default_F", "10", "-sourcefile", "nan.txt"}, 5,
                            {"nan.txt:2: 'nan' is not a finite number"}, mode);
    simtest::expect_failure(work, {"-default_F", "10", "-sourcefile", "zero.txt"}, 5,
                            {"zero.txt:2: the source position X Y Z must not be 0 0 0"}, mode);
    simtest::expect_failure(work, {"-default_F", "10", "-sourcefile", "lambda.txt"}, 5,
                            {"lambda.txt:1: the wavelength (column 5) must be > 0 m, got '0'"}, mode);
  }
}

TEST_CASE("an SMV header's sizes, distances and wavelength follow their flags' rules") {
  nbtest::TempDir work;
  std::vector<std::string> a = simtest::small_run();
  a.insert(a.end(), {"-default_F", "10", "-floatfile", "good.bin", "-intfile", "good.img"});
  REQUIRE(nbtest::run_tool("nbsim", a, work.path()).exit_code == 0);
  const std::string good = nbtest::read_file(work / "good.img");
  // Same-length edits keep the 512-byte header intact; the last occurrence
  // of a keyword counts, so PHI can be planted in DETECTOR_SN's place.
  const std::vector<std::array<std::string, 3>> edits{
      {"PIXEL_SIZE=0.1;", "PIXEL_SIZE=0.0;", "bad.img: PIXEL_SIZE=0 in the SMV header must be > 0"},
      {"WAVELENGTH=1;", "WAVELENGTH=0;", "bad.img: WAVELENGTH=0 in the SMV header must be > 0"},
      {"DISTANCE=50;", "DISTANCE=-5;", "bad.img: DISTANCE=-5 in the SMV header must be > 0"},
      {"DETECTOR_SN=000;", "PHI=inf;XXXXXXX;", "bad.img: PHI=inf in the SMV header must be finite"},
  };
  for (const auto& [from, to, message] : edits) {
    std::string smv = good;
    const auto at = smv.rfind(from);
    REQUIRE(at != std::string::npos);
    smv.replace(at, from.size(), to);
    REQUIRE(smv.size() == good.size());
    nbtest::write_file(work / "bad.img", smv);
    for (const char* mode : {"spec", "c-parity"})
      simtest::expect_failure(work, {"-default_F", "10", "-img", "bad.img"}, 5, {message}, mode);
  }
}

TEST_CASE("values nanoBragg.c gives a meaning stay accepted") {
  nbtest::TempDir work;
  const std::vector<std::vector<std::string>> accepted{
      {"-mosaic", "0"},                             // no spread: one domain
      {"-detector_abs", "inf", "-detector_thick", "100"},  // no absorption
      {"-detector_abs", "0"},                       // no absorption
      {"-samplesize", "0"},                         // the size comes from -N
      {"-scale", "0", "-intfile", "i.img"},         // the automatic integer scale
      {"-flux", "1e12", "-exposure", "0"},          // -flux does not apply, -fluence stays
      {"-dmin", "0"},                               // no resolution cut
      {"-Xbeam", "-2", "-Ybeam", "30"},             // a beam centre anywhere, off the detector too
      {"-odet_vector", "0", "0", "0"},              // rebuilt from fdet x sdet (with a warning)
      {"-polar", "1"},
      {"-polar", "-1"},
      {"-osc", "0"},
      {"-divergence", "0", "-dispersion", "0"},
      {"-default_F", "-10"},                        // only F^2 enters the image
  };
  for (const auto& flags : accepted) {
    for (const char* mode : {"spec", "c-parity"}) {
      std::vector<std::string> a{"-mode", mode};
      a.insert(a.end(), simtest::small_run().begin(), simtest::small_run().end());
      a.insert(a.end(), {"-default_F", "10"});
      a.insert(a.end(), flags.begin(), flags.end());
      a.insert(a.end(), {"-floatfile", "ok.bin", "-trace_pixel", "15", "15"});
      const auto r = nbtest::run_tool("nbsim", a, work.path());
      CAPTURE(flags.front());
      CAPTURE(mode);
      CAPTURE(r.err);
      CHECK(r.exit_code == 0);
      CHECK(nbtest::read_file(work / "ok.bin").size() == 16u * 16u * 4u);
      std::filesystem::remove(work / "ok.bin");
    }
  }
}

TEST_CASE("the library refuses the same configs, and counts the machine's memory") {
  nbsim::SimConfig c;
  c.crystal.cell = nbsim::CellParams{100, 100, 100, 1.5707963267948966, 1.5707963267948966, 1.5707963267948966};
  c.crystal.default_F = 10;
  CHECK_NOTHROW(nbsim::validate_config(c));
  // Values the command line cannot produce (it refuses inf) are refused too.
  nbsim::SimConfig d = c;
  d.detector.Xbeam = std::numeric_limits<double>::infinity();
  CHECK_THROWS_WITH_AS(nbsim::validate_config(d), "-Xbeam must be a finite number, got inf mm", nbtrace::UsageError);
  d = c;
  d.sampling.oversample = 0;
  CHECK_THROWS_WITH_AS(nbsim::validate_config(d), "-oversample must be at least 1, got 0", nbtrace::UsageError);
  d = c;
  d.beam.dispstep = -0.01;
  CHECK_THROWS_WITH_AS(nbsim::validate_config(d), "-dispstep must be finite and > 0, got -1 percent",
                       nbtrace::UsageError);

  const std::uint64_t usable = nbsim::usable_memory_bytes();
  const double physical = static_cast<double>(sysconf(_SC_PHYS_PAGES)) * static_cast<double>(sysconf(_SC_PAGE_SIZE));
  CHECK(usable > 0);
  CHECK(static_cast<double>(usable) <= physical);
  CHECK_NOTHROW(nbsim::require_memory("one byte", 1.0));
  CHECK_THROWS_WITH_AS(nbsim::require_memory("the test", 2.0 * physical),
                       doctest::Contains("the test needs "), nbtrace::UsageError);
  // 8 bytes per pixel at least (the float image and its file); more for each extra image.
  CHECK(nbsim::image_buffer_bytes(c, 100, false) == 800);
  nbsim::SimConfig with_int = c;
  with_int.output.intfile = "i.img";
  CHECK(nbsim::image_buffer_bytes(with_int, 100, true) == 1600);
}

TEST_CASE("-scalar_sin only where it chooses a sine: refused with -device cuda or -dtype float32") {
  refused({{{"-scalar_sin", "-dtype", "float32"}, {"-scalar_sin needs -dtype float64"}}});
  // With -device cuda a build without CUDA refuses the device first, so
  // the rule itself is checked on the library.
  nbsim::SimConfig c;
  c.crystal.cell = nbsim::CellParams{100, 100, 100, 1.5707963267948966, 1.5707963267948966, 1.5707963267948966};
  c.crystal.default_F = 10;
  c.scalar_sines = true;
  CHECK_NOTHROW(nbsim::validate_config(c));
  c.device = nbsim::Device::cuda;
  CHECK_THROWS_WITH_AS(nbsim::validate_config(c), doctest::Contains("-scalar_sin is a CPU option"), nbtrace::UsageError);
}
