// nbsim's command line: errors, outputs, traces, the Fdump cache. These
// runs use a small synthetic crystal and need no ../shared.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <sstream>

#include "sim_cases.hpp"

namespace {

const std::vector<std::string> kSmall{"-cell", "50", "60", "70", "90", "95", "100", "-N", "3", "-lambda", "1.0",
                                      "-distance", "80", "-detpixels", "48", "-pixel", "0.2", "-oversample", "1", "-nonoise", "-nopgm"};

std::vector<std::string> with(std::vector<std::string> extra) {
  std::vector<std::string> args = kSmall;
  args.insert(args.end(), extra.begin(), extra.end());
  return args;
}

int count_lines(const std::string& text, const std::string& prefix) {
  int n = 0;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) n += line.rfind(prefix, 0) == 0;
  return n;
}

}  // namespace

TEST_CASE("bad command lines fail with one line on stderr and write nothing") {
  nbtest::TempDir work;
  const std::vector<std::pair<std::vector<std::string>, std::string>> cases{
      {with({"-default_F", "10", "-bogus_flag", "1", "-floatfile", "img.bin"}), "unknown option"},
      {with({"-default_F", "10", "-floatfile", "img.bin", "-distance"}), "distance"},
      {with({"-default_F", "ten", "-floatfile", "img.bin"}), "not a number"},
      {with({"-default_F", "10", "-roi", "1", "2", "-floatfile", "img.bin"}), "-roi needs 4 values"},
      {with({"-default_F", "10", "-roi", "60", "70", "0", "10", "-floatfile", "img.bin"}), "selects no pixel"},
      {with({"-floatfile", "img.bin"}), "no structure factors"},
      {with({"-default_F", "10", "-pixel", "0", "-floatfile", "img.bin"}), "-pixel must be finite and > 0, got 0 mm"},
      {{"-default_F", "10", "-detpixels", "8", "-floatfile", "img.bin"}, "no unit cell"},
      {with({"-default_F", "10", "-mode", "fast", "-floatfile", "img.bin"}), "-mode"},
      {with({"-default_F", "10", "-floatfile", "no/such/folder/img.bin"}), "does not exist"},
      {with({"-default_F", "10", "-dtype", "float16", "-floatfile", "img.bin"}),
       "-dtype: expected 'float64' ('double') or 'float32' ('float'), got 'float16'"},
  };
  for (const auto& [args, expected] : cases) {
    CAPTURE(expected);
    const auto r = nbtest::run_tool("nbsim", args, work.path());
    CHECK(r.exit_code == 1);
    CHECK(r.err.find(expected) != std::string::npos);
    CHECK(r.err.rfind("nbsim: error: ", 0) == 0);
    CHECK(count_lines(r.err, "") == 1);
    CHECK_FALSE(std::filesystem::exists(work / "img.bin"));
  }
}

TEST_CASE("-dtype: double and float name float64 and float32") {
  nbtest::TempDir work;
  auto image = [&](const std::vector<std::string>& dtype) {
    std::vector<std::string> extra{"-default_F", "10", "-floatfile", "img.bin"};
    extra.insert(extra.end(), dtype.begin(), dtype.end());
    const auto r = nbtest::run_tool("nbsim", with(extra), work.path());
    REQUIRE(r.exit_code == 0);
    return nbtest::read_file(work / "img.bin");
  };
  const std::string by_default = image({});
  const std::string float32 = image({"-dtype", "float32"});
  CHECK(image({"-dtype", "float64"}) == by_default);
  CHECK(image({"-dtype", "double"}) == by_default);
  CHECK(image({"-dtype", "float"}) == float32);
  // The two number types do give different images, so the checks above
  // tell the aliases apart.
  CHECK(float32 != by_default);
}

TEST_CASE("an unreadable input is exit 5") {
  nbtest::TempDir work;
  auto r = nbtest::run_tool("nbsim", with({"-hkl", "missing.hkl", "-floatfile", "img.bin"}), work.path());
  CHECK(r.exit_code == 5);
  CHECK(r.err.find("missing.hkl") != std::string::npos);
  nbtest::write_file(work / "empty.hkl", "\n");
  r = nbtest::run_tool("nbsim", with({"-hkl", "empty.hkl", "-floatfile", "img.bin"}), work.path());
  CHECK(r.exit_code == 5);
  CHECK(r.err.find("no reflections") != std::string::npos);
  r = nbtest::run_tool("nbsim", {"-mat", "missing.mat", "-default_F", "1", "-floatfile", "img.bin"}, work.path());
  CHECK(r.exit_code == 5);
  CHECK_FALSE(std::filesystem::exists(work / "img.bin"));
}

TEST_CASE("float image, statistics lines, -quiet") {
  nbtest::TempDir work;
  const auto r = nbtest::run_tool("nbsim", with({"-default_F", "10", "-floatfile", "img.bin", "-quiet"}), work.path());
  REQUIRE(r.exit_code == 0);
  CHECK(nbtest::read_file(work / "img.bin").size() == 48u * 48u * 4u);
  // -quiet: the two statistics lines and nothing else.
  CHECK(count_lines(r.out, "") == 2);
  CHECK(count_lines(r.out, "max_I = ") == 1);
  CHECK(count_lines(r.out, "mean= ") == 1);
  CHECK(r.err.empty());  // no progress: stderr is not a terminal
  const auto stats = simtest::numbers_in(simtest::stats_lines(r.out)[0]);
  REQUIRE(stats.size() == 3);
  CHECK(stats[0] > 0);
}

TEST_CASE("traces go to stdout or -trace_file, one block per -trace_pixel") {
  nbtest::TempDir work;
  auto r = nbtest::run_tool("nbsim", with({"-default_F", "10", "-floatfile", "img.bin", "-trace_pixel", "20", "21",
                                           "-trace_pixel", "3", "4"}), work.path());
  REQUIRE(r.exit_code == 0);
  CHECK(count_lines(r.out, "TRACE_CONFIG: tracing pixel (spixel=20, fpixel=21)") == 1);
  CHECK(count_lines(r.out, "TRACE_CONFIG: tracing pixel (spixel=3, fpixel=4)") == 1);
  CHECK(count_lines(r.out, "TRACE_CPP: I_pixel_final ") == 2);
  CHECK(count_lines(r.out, "TRACE_CPP:pix0_vector=") == 1);
  CHECK(count_lines(r.out, "TRACE_CPP_PHI phi_tic=0 ") == 2);

  r = nbtest::run_tool("nbsim", with({"-default_F", "10", "-floatfile", "img2.bin", "-trace_pixel", "20", "21",
                                      "-trace_file", "t.log"}), work.path());
  REQUIRE(r.exit_code == 0);
  CHECK(count_lines(r.out, "TRACE") == 0);
  const std::string trace = nbtest::read_file(work / "t.log");
  CHECK(count_lines(trace, "TRACE_CPP: floatimage_accumulated ") == 1);
  // A trace does not change the image.
  CHECK(nbtest::read_file(work / "img.bin") == nbtest::read_file(work / "img2.bin"));
}

TEST_CASE("-hkl writes Fdump.bin; a later run without -hkl reads it") {
  nbtest::TempDir work;
  std::string hkl;
  for (int h = -6; h <= 6; ++h)
    for (int k = -6; k <= 6; ++k)
      for (int l = -6; l <= 6; ++l) hkl += std::to_string(h) + " " + std::to_string(k) + " " + std::to_string(l) +
                                          " " + std::to_string(10 + (h * 7 + k * 3 + l) % 11) + "\n";
  nbtest::write_file(work / "f.hkl", hkl);
  auto r = nbtest::run_tool("nbsim", with({"-hkl", "f.hkl", "-floatfile", "a.bin"}), work.path());
  REQUIRE(r.exit_code == 0);
  REQUIRE(std::filesystem::exists(work / "Fdump.bin"));
  r = nbtest::run_tool("nbsim", with({"-floatfile", "b.bin"}), work.path());
  REQUIRE(r.exit_code == 0);
  CHECK(r.out.find("reading Fs from Fdump.bin") != std::string::npos);
  const std::string a = nbtest::read_file(work / "a.bin");
  CHECK(a == nbtest::read_file(work / "b.bin"));
  // The structure factors matter: a constant F (in a folder without the
  // cache, which would otherwise take precedence) gives another image.
  nbtest::TempDir other;
  r = nbtest::run_tool("nbsim", with({"-default_F", "10", "-floatfile", "c.bin"}), other.path());
  REQUIRE(r.exit_code == 0);
  CHECK(a != nbtest::read_file(other / "c.bin"));
}

TEST_CASE("-help lists the flags") {
  const auto r = nbtest::run_tool("nbsim", {"-help"});
  CHECK(r.exit_code == 0);
  CHECK(r.out.find("-trace_pixel") != std::string::npos);
  CHECK(r.out.find("-pix0_vector_mm") != std::string::npos);
}

TEST_CASE("integer, noise and PGM images on request") {
  nbtest::TempDir work;
  auto r = nbtest::run_tool("nbsim", with({"-default_F", "10", "-floatfile", "f.bin", "-intfile", "i.img", "-noisefile",
                                           "n.img", "-seed", "5", "-pgmfile", "p.pgm"}), work.path());
  REQUIRE(r.exit_code == 0);
  const std::string smv = nbtest::read_file(work / "i.img");
  CHECK(smv.size() == 512u + 48u * 48u * 2u);
  CHECK(smv.rfind("{\nHEADER_BYTES=512;\nDIM=2;\n", 0) == 0);
  CHECK(smv.find("SIZE1=48;\nSIZE2=48;\nPIXEL_SIZE=0.2;\nDISTANCE=80;\nWAVELENGTH=1;\n") != std::string::npos);
  CHECK(smv.find("}\f") < 512u);
  CHECK(nbtest::read_file(work / "n.img").size() == smv.size());
  const std::string pgm = nbtest::read_file(work / "p.pgm");
  CHECK(pgm.rfind("P5\n48 48\n# pixels scaled by ", 0) == 0);
  CHECK(r.out.find("photons on noise image") != std::string::npos);
  // The same seed gives the same noise; another seed another image.
  r = nbtest::run_tool("nbsim", with({"-default_F", "10", "-floatfile", "f.bin", "-noisefile", "n2.img", "-seed", "5"}),
                       work.path());
  REQUIRE(r.exit_code == 0);
  CHECK(nbtest::read_file(work / "n2.img") == nbtest::read_file(work / "n.img"));
  r = nbtest::run_tool("nbsim", with({"-default_F", "10", "-floatfile", "f.bin", "-noisefile", "n3.img", "-seed", "6"}),
                       work.path());
  REQUIRE(r.exit_code == 0);
  CHECK(nbtest::read_file(work / "n3.img") != nbtest::read_file(work / "n.img"));
  // -nonoise and -nopgm after the file names switch them off.
  r = nbtest::run_tool("nbsim", with({"-default_F", "10", "-floatfile", "f.bin", "-noisefile", "n4.img", "-pgmfile",
                                      "p4.pgm", "-nonoise", "-nopgm"}), work.path());
  REQUIRE(r.exit_code == 0);
  CHECK_FALSE(std::filesystem::exists(work / "n4.img"));
  CHECK_FALSE(std::filesystem::exists(work / "p4.pgm"));
}

TEST_CASE("-mask renders only its non-zero pixels; -img and -mask headers set the geometry") {
  nbtest::TempDir work;
  // An SMV image of a known geometry doubles as header source and mask:
  // with -adc 0 and a small scale its faint pixels are 0.
  const std::vector<std::string> geometry{"-lambda", "1.5", "-distance", "120", "-Xbeam", "5", "-Ybeam", "4",
                                          "-detpixels", "48", "-pixel", "0.2", "-phi", "5", "-osc", "2"};
  std::vector<std::string> args{"-cell", "50", "60", "70", "90", "95", "100", "-N", "3", "-default_F", "10",
                                "-oversample", "1"};
  auto a = args;
  a.insert(a.end(), geometry.begin(), geometry.end());
  a.insert(a.end(), {"-floatfile", "full.bin", "-intfile", "m.img", "-adc", "0", "-scale", "100"});
  REQUIRE(nbtest::run_tool("nbsim", a, work.path()).exit_code == 0);
  const auto full = simtest::read_floats(work / "full.bin");
  const std::string smv = nbtest::read_file(work / "m.img");
  std::vector<std::uint16_t> mask((smv.size() - 512) / 2);
  std::memcpy(mask.data(), smv.data() + 512, mask.size() * 2);
  const auto zeros = std::count(mask.begin(), mask.end(), 0);
  REQUIRE(zeros > 100);
  REQUIRE(zeros < static_cast<long>(mask.size()) - 100);

  // The header alone gives the same image as the flags it came from.
  a = args;
  a.insert(a.end(), {"-img", "m.img", "-floatfile", "img.bin"});
  auto r = nbtest::run_tool("nbsim", a, work.path());
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(simtest::read_floats(work / "img.bin") == full);

  // Masked pixels stay 0, the others are unchanged. (The flags override the
  // mask's header, whose BEAM_CENTER_Y nanoBragg counts from the far edge.)
  a = args;
  a.insert(a.end(), {"-mask", "m.img", "-floatfile", "masked.bin"});
  a.insert(a.end(), geometry.begin(), geometry.end());
  r = nbtest::run_tool("nbsim", a, work.path());
  REQUIRE(r.exit_code == 0);
  const auto masked = simtest::read_floats(work / "masked.bin");
  REQUIRE(masked.size() == full.size());
  for (std::size_t i = 0; i < full.size(); ++i) {
    if (mask[i] == 0) {
      REQUIRE(masked[i] == 0.0f);
    } else {
      REQUIRE(masked[i] == full[i]);
    }
  }
  // A mask of another size, or a file that is not SMV, is refused.
  a = args;
  a.insert(a.end(), {"-mask", "m.img", "-detpixels", "40", "-floatfile", "x.bin"});
  r = nbtest::run_tool("nbsim", a, work.path());
  CHECK(r.exit_code == 1);
  CHECK(r.err.find("-mask image is 48x48") != std::string::npos);
  nbtest::write_file(work / "not.img", std::string(600, 'x'));
  a = args;
  a.insert(a.end(), {"-img", "not.img", "-floatfile", "x.bin"});
  r = nbtest::run_tool("nbsim", a, work.path());
  CHECK(r.exit_code == 5);
  CHECK(r.err.find("does not look like an SMV") != std::string::npos);
}

TEST_CASE("-misset random is reproducible with -misset_seed") {
  nbtest::TempDir work;
  auto run = [&](const std::string& seed, const std::string& out) {
    const auto r = nbtest::run_tool("nbsim", with({"-default_F", "10", "-misset", "random", "-misset_seed", seed,
                                                   "-floatfile", out}), work.path());
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    CHECK(r.out.find("random orientation misset angles:") != std::string::npos);
    return nbtest::read_file(work / out);
  };
  const std::string a = run("7", "a.bin");
  CHECK(run("7", "b.bin") == a);
  CHECK(run("8", "c.bin") != a);
}

TEST_CASE("c-parity carry-over starts at the first pixel whose phi loop runs (-dmin)") {
  nbtest::TempDir work;
  // With -dmin 10 the high-angle pixels of the first rows are cut
  // completely: the carry-over starts at the first pixel with an uncut
  // sub-path, exactly as if the region of interest began there.
  const std::vector<std::string> args{"-mode", "c-parity", "-cell", "70", "80", "90", "80", "95", "105",
                                      "-default_F", "100", "-N", "4", "-lambda", "1.2", "-distance", "60",
                                      "-detpixels", "64", "-pixel", "0.4", "-dmin", "10", "-phi", "0", "-osc", "3",
                                      "-phisteps", "3"};
  auto a = args;
  a.insert(a.end(), {"-floatfile", "full.bin"});
  REQUIRE(nbtest::run_tool("nbsim", a, work.path()).exit_code == 0);
  const auto full = simtest::read_floats(work / "full.bin");
  std::size_t first = 0;
  while (first < full.size() && full[first] == 0.0f) ++first;
  REQUIRE(first > 64);  // the whole first row is cut
  REQUIRE(first < full.size());
  const int s0 = static_cast<int>(first / 64), f0 = static_cast<int>(first % 64);
  a = args;
  a.insert(a.end(), {"-roi", std::to_string(f0), "63", std::to_string(s0), "63", "-floatfile", "roi.bin"});
  REQUIRE(nbtest::run_tool("nbsim", a, work.path()).exit_code == 0);
  const auto roi = simtest::read_floats(work / "roi.bin");
  for (int s = s0; s < 64; ++s)
    for (int f = f0; f < 64; ++f) REQUIRE(roi[static_cast<std::size_t>(s) * 64 + f] == full[static_cast<std::size_t>(s) * 64 + f]);
}

TEST_CASE("-mosaic synonyms; -source_distance does not change the image") {
  nbtest::TempDir work;
  auto image = [&](std::vector<std::string> extra, const std::string& out) {
    extra.insert(extra.end(), {"-default_F", "10", "-mosaic_dom", "3", "-floatfile", out});
    const auto r = nbtest::run_tool("nbsim", with(extra), work.path());
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    return nbtest::read_file(work / out);
  };
  const std::string mosaic = image({"-mosaic", "2"}, "a.bin");
  CHECK(image({"-mosaici", "2"}, "b.bin") == mosaic);
  CHECK(image({"-mosaic_spr", "2"}, "c.bin") == mosaic);
  CHECK(image({"-mosaic", "0.5"}, "d.bin") != mosaic);
  // Generated sources are unit directions: the distance cancels (up to
  // the rounding of the normalisation).
  image({"-mosaic", "2", "-divergence", "1", "-divsteps", "3", "-source_distance", "500"}, "e.bin");
  image({"-mosaic", "2", "-divergence", "1", "-divsteps", "3"}, "f.bin");
  const auto near = simtest::read_floats(work / "e.bin"), far = simtest::read_floats(work / "f.bin");
  REQUIRE(near.size() == far.size());
  const float peak = *std::max_element(far.begin(), far.end());
  REQUIRE(peak > 0);
  for (std::size_t i = 0; i < far.size(); ++i) REQUIRE(std::fabs(near[i] - far[i]) <= 1e-5f * peak);
}

TEST_CASE("-stats_json writes the printed statistics at full precision, with the shape and mode") {
  nbtest::TempDir work;
  const auto r = nbtest::run_tool(
      "nbsim", with({"-default_F", "10", "-mode", "c-parity", "-roi", "3", "40", "5", "30", "-floatfile", "img.bin",
                     "-stats_json", "stats.json"}),
      work.path());
  REQUIRE(r.exit_code == 0);
  const nlohmann::json j = nlohmann::json::parse(nbtest::read_file(work / "stats.json"));
  CHECK(j["tool"] == "nbsim");
  CHECK(j["mode"] == "c-parity");
  CHECK(j["device"] == "cpu");
  CHECK(j["fpixels"] == 48);
  CHECK(j["spixels"] == 48);
  CHECK(j["statistics"]["pixels"] == 38 * 26);
  // The printed lines are the same numbers at %g.
  char line[256];
  std::snprintf(line, sizeof line, "max_I = %g  at %g %g\nmean= %g rms= %g rmsd= %g\n",
                j["statistics"]["max_I"].get<double>(), j["statistics"]["max_I_x_m"].get<double>(),
                j["statistics"]["max_I_y_m"].get<double>(), j["statistics"]["mean"].get<double>(),
                j["statistics"]["rms"].get<double>(), j["statistics"]["rmsd"].get<double>());
  CHECK(r.out.find(line) != std::string::npos);
  CHECK(j["statistics"]["max_I"].get<double>() > 0);
  // A stats file that cannot be written stops the run before any output.
  const auto bad = nbtest::run_tool("nbsim", with({"-default_F", "10", "-floatfile", "img2.bin", "-stats_json", "no/dir/s.json"}),
                                    work.path());
  CHECK(bad.exit_code == 1);
  CHECK_FALSE(std::filesystem::exists(work / "img2.bin"));
}

TEST_CASE("C-PARITY-002: -twotheta_axis is also -twotheta in c-parity (or with -quirk C-PARITY-002), wherever -mode stands") {
  nbtest::TempDir work;
  // The geometry trace's angles_rad line shows the two-theta angle used.
  auto angles = [&](std::vector<std::string> extra) {
    auto args = with({"-default_F", "10", "-trace_pixel", "1", "1", "-floatfile", "t.bin"});
    args.insert(args.end(), extra.begin(), extra.end());
    const auto r = nbtest::run_tool("nbsim", args, work.path());
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    const auto at = r.out.find("TRACE_CPP:angles_rad=");
    REQUIRE(at != std::string::npos);
    return r.out.substr(at, r.out.find('\n', at) - at);
  };
  const std::string spec = "TRACE_CPP:angles_rad=rotx:0 roty:0 rotz:0 twotheta:0";
  const std::string parity = "TRACE_CPP:angles_rad=rotx:0 roty:0 rotz:0 twotheta:0.17453292519943295";  // 10 deg
  const std::string first = angles({"-mode", "c-parity", "-twotheta_axis", "10", "0", "0"});
  CHECK(first == parity);
  // -mode after the flag: the quirk set is resolved before any other flag.
  CHECK(angles({"-twotheta_axis", "10", "0", "0", "-mode", "c-parity"}) == parity);
  CHECK(angles({"-mode", "spec", "-twotheta_axis", "10", "0", "0"}) == spec);
  CHECK(angles({"-twotheta_axis", "10", "0", "0"}) == spec);
  CHECK(angles({"-twotheta_axis", "10", "0", "0", "-mode", "spec"}) == spec);
  // The last -mode wins.
  CHECK(angles({"-mode", "spec", "-twotheta_axis", "10", "0", "0", "-mode", "c-parity"}) == parity);
  CHECK(angles({"-mode", "c-parity", "-twotheta_axis", "10", "0", "0", "-mode", "spec"}) == spec);
  // One quirk switched over the mode's set, wherever the switch stands.
  CHECK(angles({"-twotheta_axis", "10", "0", "0", "-quirk", "C-PARITY-002"}) == parity);
  CHECK(angles({"-quirk", "c-parity-002", "-twotheta_axis", "10", "0", "0"}) == parity);
  CHECK(angles({"-mode", "c-parity", "-no_quirk", "C-PARITY-002", "-twotheta_axis", "10", "0", "0"}) == spec);
}

TEST_CASE("-progress writes lines to a file; -noprogress none; the image is the same") {
  nbtest::TempDir work;
  // A run of some tenths of a second (128 rows, 10 phi steps, 40 mosaic
  // domains: the lane renderer, issue 16, does 5 x 10 in 0.06 s) and lines
  // every 50 ms, so that several are due.
  const std::vector<std::string> run{"-cell", "50", "60", "70", "90", "95", "100", "-N", "3", "-lambda", "1.0",
                                     "-distance", "80", "-detpixels", "128", "-pixel", "0.2", "-oversample", "2",
                                     "-phisteps", "10", "-osc", "0.5", "-mosaic", "0.3", "-mosaic_dom", "40",
                                     "-default_F", "10", "-nonoise", "-nopgm", "-nthreads", "1"};
  const auto with_flags = [&](std::vector<std::string> extra) {
    std::vector<std::string> args = run;
    args.insert(args.end(), extra.begin(), extra.end());
    return args;
  };
  ::setenv("NB_PROGRESS_INTERVAL", "0.05", 1);
  const auto on = nbtest::run_tool("nbsim", with_flags({"-floatfile", "on.bin", "-progress"}), work.path());
  const auto off = nbtest::run_tool("nbsim", with_flags({"-floatfile", "off.bin", "-noprogress"}), work.path());
  ::unsetenv("NB_PROGRESS_INTERVAL");
  REQUIRE(on.exit_code == 0);
  REQUIRE(off.exit_code == 0);
  // stderr is a pipe here, not a terminal: lines, not a bar.
  CHECK(on.err.find('\r') == std::string::npos);
  const int periodic = count_lines(on.err, "nbsim: ") - count_lines(on.err, "nbsim: done ");
  CHECK_MESSAGE(periodic >= 2, on.err);
  CHECK(count_lines(on.err, "nbsim: done 128/128 rows in ") == 1);
  CHECK(on.err.find(" rows/s, ") != std::string::npos);
  CHECK(on.err.find(" left") != std::string::npos);
  CHECK(off.err.empty());
  CHECK(nbtest::read_file(work / "on.bin") == nbtest::read_file(work / "off.bin"));
}

TEST_CASE("-scalar_sin: c-parity's image is the default's, bit for bit (the checked sines change nothing)") {
  nbtest::TempDir work;
  // 10 phi steps and 20 mosaic domains of a triclinic cell: many lattice
  // sines, about a fifth of them uncertain for the checked routine.
  const std::vector<std::string> run{"-mode", "c-parity", "-cell", "50", "60", "70", "90", "95", "100", "-N", "7",
                                     "-lambda", "1.0", "-distance", "80", "-detpixels", "96", "-pixel", "0.2",
                                     "-phisteps", "10", "-osc", "0.5", "-mosaic", "0.3", "-mosaic_dom", "20",
                                     "-default_F", "10", "-nonoise", "-nopgm"};
  auto with = [&](std::vector<std::string> extra) {
    std::vector<std::string> args = run;
    args.insert(args.end(), extra.begin(), extra.end());
    return args;
  };
  const auto checked = nbtest::run_tool("nbsim", with({"-floatfile", "checked.bin"}), work.path());
  const auto scalar = nbtest::run_tool("nbsim", with({"-floatfile", "scalar.bin", "-scalar_sin"}), work.path());
  REQUIRE(checked.exit_code == 0);
  REQUIRE(scalar.exit_code == 0);
  const std::string a = nbtest::read_file(work / "checked.bin"), b = nbtest::read_file(work / "scalar.bin");
  REQUIRE(a.size() == 96u * 96u * 4u);
  CHECK(a == b);
  CHECK(simtest::stats_lines(checked.out) == simtest::stats_lines(scalar.out));
  CHECK(simtest::stats_lines(checked.out).size() == 2);
}
