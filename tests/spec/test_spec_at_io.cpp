// spec-a-core acceptance tests for noise, file I/O, header precedence,
// pivots, ROI and mask: AT-NOISE-001, AT-IO-001..004, AT-PRE-001,
// AT-PRE-002, AT-ROI-001. Library and nbsim tool on small detectors; no
// ../shared.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <numeric>

#include "nbsim/random.hpp"
#include "nbsim/smv.hpp"
#include "sim_cases.hpp"
#include "spec_at.hpp"

using namespace nbsim;

namespace {

const std::vector<std::string> kCell{"-cell", "100", "100", "100", "90", "90", "90", "-N", "5", "-default_F", "100",
                                     "-lambda", "1", "-distance", "50", "-pixel", "0.1", "-oversample", "1"};

std::vector<std::string> args(std::vector<std::string> extra) {
  std::vector<std::string> a = kCell;
  a.insert(a.end(), extra.begin(), extra.end());
  return a;
}

nbtest::ProcessResult nbsim_ok(const std::vector<std::string>& a, const nbtest::TempDir& work) {
  auto r = nbtest::run_tool("nbsim", a, work.path());
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  return r;
}

std::vector<std::uint16_t> smv_pixels(const std::string& smv) {
  std::vector<std::uint16_t> v((smv.size() - 512) / 2);
  std::memcpy(v.data(), smv.data() + 512, v.size() * 2);
  return v;
}

int count_lines(const std::string& text, const std::string& needle) {
  int n = 0;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) n += line.find(needle) != std::string::npos;
  return n;
}

}  // namespace

TEST_CASE("AT-NOISE-001 noise image generation and seeds") {
  // The three regimes of the reference generator, checked against their
  // definitions with a second generator on the same seed.
  SUBCASE("mean < 12: exact Poisson by products of uniforms") {
    ReferenceRandom rng(-7), twin(-7);
    double sum = 0;
    for (int i = 0; i < 4000; ++i) {
      const float x = rng.poisson(3.0f);
      const float limit = static_cast<float>(std::exp(-3.0));
      float em = -1, t = 1;
      do {
        ++em;
        t *= twin.uniform();
      } while (t > limit);
      REQUIRE(x == em);
      sum += x;
    }
    CHECK(sum / 4000 == doctest::Approx(3.0).epsilon(0.05));
  }
  SUBCASE("12 <= mean <= 1e6: rejection sampling, integer counts") {
    ReferenceRandom rng(-7);
    double sum = 0, sumsq = 0;
    for (int i = 0; i < 4000; ++i) {
      const double x = rng.poisson(500.0f);
      REQUIRE(x == std::floor(x));
      sum += x;
      sumsq += x * x;
    }
    const double mean = sum / 4000, var = sumsq / 4000 - mean * mean;
    CHECK(std::fabs(mean - 500) < 2.0);  // 6 standard errors
    CHECK(var == doctest::Approx(500).epsilon(0.15));
  }
  SUBCASE("mean > 1e6: Gaussian N(mean, mean)") {
    ReferenceRandom rng(-7), twin(-7);
    for (int i = 0; i < 100; ++i) {
      const float x = rng.poisson(2e6f);
      REQUIRE(x == static_cast<float>(2e6 + std::sqrt(2e6) * twin.gaussian()));
    }
  }

  // The image: deviates in pixel order, plus the ADC offset, clipped at
  // 65535 with the overloads counted; reproducible for a seed.
  nbtest::TempDir work;
  SimConfig c = spec_at::small_config(work, 8);
  PreparedSimulation sim;
  prepare_simulation(c, sim, false);
  std::vector<float> image(64);
  for (int i = 0; i < 64; ++i) image[i] = i < 16 ? 0.0f : i < 32 ? 3.0f : i < 48 ? 500.0f : 2e6f;
  const NoiseImage a = noise_pixels(sim.params, image, -11, 40);
  ReferenceRandom twin(-11);
  double photons = 0;
  for (int i = 0; i < 64; ++i) {
    const double deviate = twin.poisson(image[i]);
    photons += deviate;
    CHECK(a.pixels[i] == std::min(65535.0, deviate + 40));
  }
  CHECK(a.photons == photons);
  for (int i = 0; i < 16; ++i) CHECK(a.pixels[i] == 40);  // mean 0: the ADC offset alone
  CHECK(a.overloads == 16);
  CHECK(noise_pixels(sim.params, image, -11, 40).pixels == a.pixels);
  CHECK(noise_pixels(sim.params, image, -12, 40).pixels != a.pixels);

  // The tool: -seed, the overload count on stdout, the ADC offset.
  const auto base = args({"-detpixels", "16", "-fluence", "1e32", "-floatfile", "f.bin", "-nopgm"});
  auto run = [&](const std::string& seed, const std::string& file, const std::string& adc) {
    auto a2 = base;
    a2.insert(a2.end(), {"-noisefile", file, "-seed", seed, "-adc", adc});
    return nbsim_ok(a2, work);
  };
  const auto r = run("5", "n1.img", "40");
  const auto pixels = smv_pixels(nbtest::read_file(work / "n1.img"));
  const long overloads = std::count(pixels.begin(), pixels.end(), 65535);
  REQUIRE(overloads > 0);
  INFO(r.out);
  REQUIRE(overloads < 256);
  CHECK(r.out.find("(" + std::to_string(overloads) + " overloads)") != std::string::npos);
  run("5", "n2.img", "40");
  CHECK(nbtest::read_file(work / "n2.img") == nbtest::read_file(work / "n1.img"));
  run("6", "n3.img", "40");
  CHECK(nbtest::read_file(work / "n3.img") != nbtest::read_file(work / "n1.img"));
  run("5", "n4.img", "0");
  const auto no_adc = smv_pixels(nbtest::read_file(work / "n4.img"));
  for (std::size_t i = 0; i < pixels.size(); ++i)
    if (pixels[i] < 65535) REQUIRE(pixels[i] == no_adc[i] + 40);
}

TEST_CASE("AT-IO-001 SMV header and data ordering") {
  nbtest::TempDir work;
  // A non-square detector tells fast from slow.
  nbsim_ok(args({"-detpixels_f", "20", "-detpixels_s", "12", "-phi", "3", "-osc", "2", "-floatfile", "f.bin",
                 "-intfile", "i.img", "-scale", "1e6", "-adc", "10", "-noisefile", "n.img", "-seed", "3"}),
           work);
  for (const char* file : {"i.img", "n.img"}) {
    CAPTURE(file);
    const std::string smv = nbtest::read_file(work / file);
    REQUIRE(smv.size() == 512u + 20u * 12u * 2u);
    const std::string header = smv.substr(0, 512);
    const auto close = header.find("}\f");
    REQUIRE(close != std::string::npos);
    CHECK(header.find_first_not_of(' ', close + 2) == std::string::npos);  // blank padding to 512
    std::vector<std::string> names;
    for (const auto& kv : spec_at::smv_keys(header.substr(0, close))) names.push_back(kv.first);
    const std::vector<std::string> expected{
        "HEADER_BYTES", "DIM", "BYTE_ORDER", "TYPE", "SIZE1", "SIZE2", "PIXEL_SIZE", "DISTANCE", "WAVELENGTH",
        "BEAM_CENTER_X", "BEAM_CENTER_Y", "ADXV_CENTER_X", "ADXV_CENTER_Y", "MOSFLM_CENTER_X", "MOSFLM_CENTER_Y",
        "DENZO_X_BEAM", "DENZO_Y_BEAM", "DIALS_ORIGIN", "XDS_ORGX", "XDS_ORGY", "CLOSE_DISTANCE", "PHI",
        "OSC_START", "OSC_RANGE", "TWOTHETA", "DETECTOR_SN", "BEAMLINE"};
    CHECK(names == expected);
    CHECK(smv_value(header, "HEADER_BYTES") == 512);
    CHECK(smv_value(header, "SIZE1") == 20);  // fast
    CHECK(smv_value(header, "SIZE2") == 12);  // slow
    CHECK(header.find("BYTE_ORDER=little_endian;") != std::string::npos);  // this machine's order
    CHECK(header.find("TYPE=unsigned_short;") != std::string::npos);
    CHECK(smv_value(header, "PIXEL_SIZE") == 0.1);
    CHECK(smv_value(header, "WAVELENGTH") == 1);
    CHECK(smv_value(header, "PHI") == 3);
    CHECK(smv_value(header, "OSC_RANGE") == 2);
  }
  // Data: fast-major, index = slow*fpixels + fast, value float*scale + adc rounded.
  const auto floats = simtest::read_floats(work / "f.bin");
  const auto ints = smv_pixels(nbtest::read_file(work / "i.img"));
  REQUIRE(floats.size() == 240u);
  int checked = 0;
  for (int s = 0; s < 12; ++s)
    for (int f = 0; f < 20; ++f) {
      const std::size_t i = static_cast<std::size_t>(s) * 20 + f;
      const double v = std::min(65535.0, floats[i] * 1e6 + 10);
      REQUIRE(ints[i] == static_cast<std::uint16_t>(std::floor(static_cast<float>(v + 0.5))));
      checked += ints[i] > 10;
    }
  CHECK(checked > 10);  // a pattern, not a flat frame
}

TEST_CASE("AT-IO-002 PGM writer") {
  nbtest::TempDir work;
  auto check_pgm = [&](const std::string& file, double scale) {
    const std::string pgm = nbtest::read_file(work / file);
    char header[96];
    std::snprintf(header, sizeof header, "P5\n20 12\n# pixels scaled by %g\n255\n", scale);
    REQUIRE(pgm.rfind(header, 0) == 0);
    REQUIRE(pgm.size() == std::strlen(header) + 240);
    const auto floats = simtest::read_floats(work / "f.bin");
    int grey = 0;
    for (std::size_t i = 0; i < 240; ++i) {
      const auto byte = static_cast<unsigned char>(pgm[std::strlen(header) + i]);
      REQUIRE(byte == static_cast<unsigned char>(std::floor(std::min(255.0, floats[i] * scale))));
      grey += byte > 0 && byte < 255;
    }
    CHECK(grey > 0);
  };
  auto r = nbsim_ok(args({"-detpixels_f", "20", "-detpixels_s", "12", "-floatfile", "f.bin", "-pgmfile", "p.pgm",
                          "-pgmscale", "20"}), work);
  check_pgm("p.pgm", 20);
  // Without -pgmscale: 250/(5 rmsd), rmsd as printed in the statistics.
  r = nbsim_ok(args({"-detpixels_f", "20", "-detpixels_s", "12", "-floatfile", "f.bin", "-pgmfile", "q.pgm"}), work);
  const auto stats = simtest::numbers_in(simtest::stats_lines(r.out)[1]);
  REQUIRE(stats.size() == 3);
  const auto at = r.out.find("pgm_scale = ");
  REQUIRE(at != std::string::npos);
  const double scale = std::stod(r.out.substr(at + 12));
  CHECK(scale == doctest::Approx(250 / (5 * stats[2])).epsilon(1e-5));
  check_pgm("q.pgm", scale);
}

TEST_CASE("AT-IO-003 Fdump caching") {
  nbtest::TempDir work;
  // A sparse HKL with -default_F prefilling the missing points.
  nbtest::write_file(work / "s.hkl", "0 0 0 50\n2 0 0 80\n0 -2 1 60\n-1 1 -1 30\n");
  auto r = nbsim_ok(args({"-detpixels", "24", "-default_F", "10", "-hkl", "s.hkl", "-floatfile", "a.bin"}), work);
  CHECK(r.out.find("writing dump file for next time: Fdump.bin") != std::string::npos);
  // Layout: "h_min h_max k_min k_max l_min l_max\n\f", then for each h and k
  // (ranges + 1 padding entry each) l_range+1 native doubles.
  const std::string dump = nbtest::read_file(work / "Fdump.bin");
  const std::string head = "-1 2 -2 1 -1 1\n\f";
  REQUIRE(dump.rfind(head, 0) == 0);
  const int hr = 4, kr = 4, lr = 3;
  REQUIRE(dump.size() == head.size() + (hr + 1) * (kr + 1) * (lr + 1) * sizeof(double));
  auto F = [&](int h, int k, int l) {
    double v;
    const std::size_t at = head.size() + (((h + 1) * (kr + 1) + (k + 2)) * (lr + 1) + (l + 1)) * sizeof(double);
    std::memcpy(&v, dump.data() + at, sizeof v);
    return v;
  };
  CHECK(F(0, 0, 0) == 50);
  CHECK(F(2, 0, 0) == 80);
  CHECK(F(0, -2, 1) == 60);
  CHECK(F(-1, 1, -1) == 30);
  CHECK(F(1, 0, 0) == 10);  // missing: the -default_F prefill is kept
  CHECK(F(1, 1, 1) == 10);
  // A second run without -hkl reads the cache: the same image.
  r = nbsim_ok(args({"-detpixels", "24", "-default_F", "10", "-floatfile", "b.bin"}), work);
  CHECK(r.out.find("reading Fs from Fdump.bin") != std::string::npos);
  CHECK(nbtest::read_file(work / "b.bin") == nbtest::read_file(work / "a.bin"));
  // Library: the cache reads back as the grid it was written from.
  const HklGrid text = load_hkl_text(work / "s.hkl", 10);
  const HklGrid cached = read_fdump(work / "Fdump.bin");
  CHECK(cached.h_min == -1);
  CHECK(cached.k_max == 1);
  CHECK(cached.values == text.values);
}

TEST_CASE("AT-IO-004 HKL format validation suite") {
  nbtest::TempDir work;
  // The same reflections with extra columns, and negative indices.
  std::string minimal, with_phase, with_sigma;
  for (int h = -3; h <= 3; ++h)
    for (int k = -3; k <= 3; ++k)
      for (int l = -3; l <= 3; ++l) {
        const std::string hkl = std::to_string(h) + " " + std::to_string(k) + " " + std::to_string(l);
        const std::string F = std::to_string(20 + ((h * 7 + k * 3 + l) % 5 + 5) % 5 * 10);
        minimal += hkl + " " + F + "\n";
        with_phase += hkl + " " + F + " " + std::to_string(h * 30 - k * 10) + ".5\n";
        with_sigma += hkl + "\t" + F + "\t1.25\t-45.0\n";
      }
  nbtest::write_file(work / "minimal.hkl", minimal);
  nbtest::write_file(work / "with_phase.hkl", with_phase);
  nbtest::write_file(work / "with_sigma.hkl", with_sigma);
  const HklGrid grid = load_hkl_text(work / "minimal.hkl", 0);
  CHECK(grid.h_min == -3);
  CHECK(grid.l_max == 3);
  CHECK(grid.reflections == 343);
  CHECK(grid.view(0).nearest(-3, 2, -1) == 20 + ((-21 + 6 - 1) % 5 + 5) % 5 * 10);
  CHECK(grid.warnings.empty());
  std::string reference;
  for (const char* name : {"minimal", "with_phase", "with_sigma"}) {
    CAPTURE(name);
    const HklGrid g = load_hkl_text(work / (std::string(name) + ".hkl"), 0);
    CHECK(g.values == grid.values);
    // Each in its own folder: the image, and the image again from the cache.
    nbtest::TempDir run;
    std::filesystem::copy_file(work / (std::string(name) + ".hkl"), run / "in.hkl");
    nbsim_ok(args({"-detpixels", "24", "-N", "2", "-hkl", "in.hkl", "-floatfile", "a.bin"}), run);
    nbsim_ok(args({"-detpixels", "24", "-N", "2", "-floatfile", "b.bin"}), run);
    const std::string image = nbtest::read_file(run / "a.bin");
    CHECK(nbtest::read_file(run / "b.bin") == image);
    if (reference.empty()) reference = image;
    CHECK(image == reference);
  }
  // The structure factors matter: another F for one negative-index
  // reflection the detector sees changes the image.
  std::string changed = minimal;
  const auto at = changed.find("\n0 -1 0 ");
  REQUIRE(at != std::string::npos);
  changed.replace(at, changed.find('\n', at + 1) - at, "\n0 -1 0 500");
  nbtest::TempDir other;
  nbtest::write_file(other / "in.hkl", changed);
  nbsim_ok(args({"-detpixels", "24", "-N", "2", "-hkl", "in.hkl", "-floatfile", "a.bin"}), other);
  CHECK(nbtest::read_file(other / "a.bin") != reference);
}

TEST_CASE("AT-PRE-001 header precedence (-img vs -mask)") {
  nbtest::TempDir work;
  // Two SMV files with different geometry: the image and the mask.
  nbsim_ok(args({"-detpixels", "16", "-distance", "70", "-lambda", "1.5", "-Xbeam", "0.7", "-Ybeam", "0.5",
                 "-floatfile", "x.bin", "-intfile", "img.img"}), work);
  nbsim_ok(args({"-detpixels", "16", "-distance", "90", "-lambda", "2", "-Xbeam", "0.9", "-Ybeam", "0.3",
                 "-floatfile", "x.bin", "-intfile", "mask.img", "-adc", "1"}), work);  // no zero pixel
  const std::string img = nbtest::read_file(work / "img.img").substr(0, 512);
  const std::string mask = nbtest::read_file(work / "mask.img").substr(0, 512);
  REQUIRE(smv_value(img, "DISTANCE") != smv_value(mask, "DISTANCE"));

  // Library: headers apply in the order they are read; the last one wins.
  const SmvFrame img_frame = read_smv((work / "img.img").string());
  const SmvFrame mask_frame = read_smv((work / "mask.img").string());
  SimConfig c;
  apply_smv_header(c, mask_frame, true);
  apply_smv_header(c, img_frame, false);
  CHECK(c.detector.distance == doctest::Approx(smv_value(img, "DISTANCE") / 1000));
  CHECK(c.beam.lambda0 == doctest::Approx(1.5e-10));
  CHECK(c.detector.Ybeam == doctest::Approx(smv_value(img, "BEAM_CENTER_Y") / 1000));
  SimConfig d;
  apply_smv_header(d, img_frame, false);
  apply_smv_header(d, mask_frame, true);
  CHECK(d.beam.lambda0 == doctest::Approx(2e-10));
  // A mask's BEAM_CENTER_Y is counted from the far edge: detsize_s - value.
  CHECK(d.detector.Ybeam == doctest::Approx(1.6e-3 - smv_value(mask, "BEAM_CENTER_Y") / 1000).epsilon(1e-12));
  CHECK(d.detector.Xbeam == doctest::Approx(smv_value(mask, "BEAM_CENTER_X") / 1000));

  // The tool reads the mask first, then the image (so -img wins), before
  // any other flag: the run equals one with the image's own flags.
  const std::vector<std::string> cell{"-cell", "100", "100", "100", "90", "90", "90", "-N", "5", "-default_F", "100",
                                      "-pixel", "0.1", "-oversample", "1"};
  auto a = cell;
  a.insert(a.end(), {"-mask", "mask.img", "-img", "img.img", "-floatfile", "both.bin"});
  nbsim_ok(a, work);
  a = cell;
  a.insert(a.end(), {"-img", "img.img", "-mask", "mask.img", "-floatfile", "swapped.bin"});
  nbsim_ok(a, work);
  a = kCell;
  a.insert(a.end(), {"-detpixels", "16", "-distance", "70", "-lambda", "1.5", "-Xbeam", "0.7", "-Ybeam", "0.5",
                     "-floatfile", "direct.bin"});
  nbsim_ok(a, work);
  CHECK(nbtest::read_file(work / "both.bin") == nbtest::read_file(work / "direct.bin"));
  CHECK(nbtest::read_file(work / "swapped.bin") == nbtest::read_file(work / "direct.bin"));
}

TEST_CASE("AT-PRE-002 pivot and origin overrides") {
  nbtest::TempDir work;
  // CUSTOM axes (those of MOSFLM): the flags alone choose the pivot.
  const std::vector<std::string> custom{"-fdet_vector", "0", "0", "1", "-sdet_vector", "0", "-1", "0",
                                        "-odet_vector", "1", "0", "0", "-detpixels", "8", "-floatfile", "x.bin"};
  auto pivot_of = [&](std::vector<std::string> extra, const std::string& mode = "spec") {
    auto a = args(custom);
    a.insert(a.end(), {"-mode", mode});
    a.insert(a.end(), extra.begin(), extra.end());
    const auto r = nbsim_ok(a, work);
    const bool sample = r.out.find("pivoting detector around sample") != std::string::npos;
    const bool beam = r.out.find("pivoting detector around direct beam spot") != std::string::npos;
    REQUIRE(sample != beam);
    return sample ? std::string("sample") : std::string("beam");
  };
  CHECK(pivot_of({"-close_distance", "50", "-Xbeam", "0.5", "-Ybeam", "0.5"}) == "beam");
  CHECK(pivot_of({"-Xclose", "0.5", "-Yclose", "0.5"}) == "sample");
  CHECK(pivot_of({"-ORGX", "4", "-ORGY", "4"}) == "sample");
  CHECK(pivot_of({"-Xclose", "0.5", "-pivot", "beam"}) == "beam");
  // -pivot overrides wherever it stands; nanoBragg applies flags in order.
  CHECK(pivot_of({"-pivot", "beam", "-ORGX", "4"}) == "beam");
  CHECK(pivot_of({"-pivot", "beam", "-ORGX", "4"}, "c-parity") == "sample");
  CHECK(pivot_of({"-Xbeam", "0.5", "-pivot", "sample"}) == "sample");
  // With a convention, spec mode lets -pivot win; nanoBragg's convention
  // resets it (C-PARITY-005).
  CHECK(pivot_of({"-mosflm", "-Xbeam", "0.5", "-pivot", "sample"}) == "sample");
  CHECK(pivot_of({"-xds", "-pivot", "beam"}) == "beam");
  CHECK(pivot_of({"-mosflm", "-Xbeam", "0.5", "-pivot", "sample"}, "c-parity") == "beam");
}

TEST_CASE("AT-ROI-001 ROI and mask behavior") {
  nbtest::TempDir work;
  // A mask with zeros in a known subset: an SMV image rendered over rows
  // 0..9 only (pixels outside its ROI are 0, inside >= the ADC offset 1).
  // (The beam centre is given after -mask: it overrides the mask's header.)
  nbsim_ok(args({"-detpixels", "24", "-Xbeam", "1.25", "-Ybeam", "1.15", "-roi", "0", "23", "0", "9", "-floatfile",
                 "part.bin", "-intfile", "m.img", "-adc", "1"}), work);
  nbsim_ok(args({"-detpixels", "24", "-Xbeam", "1.25", "-Ybeam", "1.15", "-floatfile", "full.bin"}), work);
  const auto full = simtest::read_floats(work / "full.bin");
  const auto mask = smv_pixels(nbtest::read_file(work / "m.img"));
  auto r = nbsim_ok(args({"-detpixels", "24", "-mask", "m.img", "-Xbeam", "1.25", "-Ybeam", "1.15", "-roi", "4", "19",
                          "2", "15", "-floatfile", "r.bin"}), work);
  const auto img = simtest::read_floats(work / "r.bin");
  REQUIRE(img.size() == full.size());
  std::vector<double> kept;
  int masked_in_roi = 0;
  for (int s = 0; s < 24; ++s)
    for (int f = 0; f < 24; ++f) {
      const std::size_t i = static_cast<std::size_t>(s) * 24 + f;
      const bool in_roi = f >= 4 && f <= 19 && s >= 2 && s <= 15;
      if (!in_roi || mask[i] == 0) {
        REQUIRE(img[i] == 0.0f);  // skipped
        masked_in_roi += in_roi;
      } else {
        REQUIRE(img[i] == full[i]);
        kept.push_back(img[i]);
      }
    }
  REQUIRE(masked_in_roi == 6 * 16);  // rows 10..15
  REQUIRE(kept.size() == 8u * 16u);  // rows 2..9
  // Statistics over the kept pixels only (spec mode; c-parity's rmsd
  // also counts masked ROI pixels, C-PARITY-009).
  const double n = static_cast<double>(kept.size());
  const double mean = std::accumulate(kept.begin(), kept.end(), 0.0) / n;
  double sq = 0, dev = 0;
  for (double v : kept) {
    sq += static_cast<float>(v) * static_cast<float>(v);
    dev += (v - mean) * (v - mean);
  }
  const auto max_line = simtest::numbers_in(simtest::stats_lines(r.out)[0]);
  const auto line = simtest::numbers_in(simtest::stats_lines(r.out)[1]);
  REQUIRE(line.size() == 3);
  CHECK(max_line[0] == doctest::Approx(*std::max_element(kept.begin(), kept.end())).epsilon(1e-5));
  CHECK(line[0] == doctest::Approx(mean).epsilon(1e-5));
  CHECK(line[1] == doctest::Approx(std::sqrt(sq / (n - 1))).epsilon(1e-5));
  CHECK(line[2] == doctest::Approx(std::sqrt(dev / (n - 1))).epsilon(1e-5));
  r = nbsim_ok(args({"-mode", "c-parity", "-detpixels", "24", "-mask", "m.img", "-Xbeam", "1.25", "-Ybeam", "1.15",
                     "-roi", "4", "19", "2", "15", "-floatfile", "c.bin"}), work);
  const auto parity = simtest::numbers_in(simtest::stats_lines(r.out)[1]);
  CHECK(parity[0] == doctest::Approx(mean).epsilon(1e-5));
  CHECK(parity[2] != doctest::Approx(line[2]).epsilon(1e-3));
}

TEST_CASE("AT-STR-002 the fallback warning is printed once") {
  nbtest::TempDir work;
  std::string hkl;
  for (int h = -2; h <= 2; ++h)
    for (int k = -2; k <= 2; ++k)
      for (int l = -2; l <= 2; ++l)
        hkl += std::to_string(h) + " " + std::to_string(k) + " " + std::to_string(l) + " " + std::to_string(30 + h + k) + "\n";
  nbtest::write_file(work / "n.hkl", hkl);
  const auto r = nbsim_ok(args({"-detpixels", "32", "-N", "2", "-hkl", "n.hkl", "-floatfile", "a.bin"}), work);
  CHECK(count_lines(r.out, "WARNING: out of range for three point interpolation") == 1);
}
