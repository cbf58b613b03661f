// Malformed input files stop nbsim with one line naming the file (and the
// line, for text files), exit 5 (InputError; exit 1 for a mask that does
// not fit the detector: a usage error), and no output file at all.
#include <doctest/doctest.h>

#include <filesystem>

#include "sim_cases.hpp"

namespace {

using simtest::expect_failure;
const std::vector<std::string>& kRun = simtest::small_run();

}  // namespace

TEST_CASE("a source file with a malformed line") {
  nbtest::TempDir work;
  nbtest::write_file(work / "src.txt", "-10 0 0 1 1e-10\n\n-10 abc 0 1 1e-10\n");
  expect_failure(work, {"-default_F", "10", "-sourcefile", "src.txt"}, 5, {"src.txt:3:", "'abc' is not a number"});
  // A file with no source at all names the file too.
  nbtest::write_file(work / "empty.txt", "\n  \n");
  expect_failure(work, {"-default_F", "10", "-sourcefile", "empty.txt"}, 5, {"no sources in source file empty.txt"});
  expect_failure(work, {"-default_F", "10", "-sourcefile", "missing.txt"}, 5, {"cannot read source file missing.txt"});
}

TEST_CASE("an HKL file with a non-numeric token") {
  nbtest::TempDir work;
  nbtest::write_file(work / "bad.hkl", "0 0 0 10\n1 0 0 12\n1 x 0 5\n");
  expect_failure(work, {"-hkl", "bad.hkl"}, 5, {"bad.hkl:3:", "'x' is not a number"});
  nbtest::write_file(work / "short.hkl", "0 0 0 10\n1 0 0\n");
  expect_failure(work, {"-hkl", "short.hkl"}, 5, {"short.hkl:2:", "four numbers"});
  nbtest::write_file(work / "badF.hkl", "0 0 0 ten\n");
  expect_failure(work, {"-hkl", "badF.hkl"}, 5, {"badF.hkl:1:", "'ten' is not a number"});
}

TEST_CASE("an SMV header that lies about its size") {
  nbtest::TempDir work;
  std::vector<std::string> a = kRun;
  a.insert(a.end(), {"-default_F", "10", "-floatfile", "good.bin", "-intfile", "good.img"});
  REQUIRE(nbtest::run_tool("nbsim", a, work.path()).exit_code == 0);
  std::string smv = nbtest::read_file(work / "good.img");
  REQUIRE(smv.size() == 512u + 16u * 16u * 2u);
  const auto at = smv.find("SIZE1=16;");
  REQUIRE(at != std::string::npos);
  smv.replace(at, 9, "SIZE1=64;");  // same length: the header still parses
  nbtest::write_file(work / "lie.img", smv);
  expect_failure(work, {"-default_F", "10", "-img", "lie.img"}, 5,
                 {"lie.img: SMV image is truncated", "SIZE1=64", "needs 2560 bytes, the file has 1024"});
  expect_failure(work, {"-default_F", "10", "-mask", "lie.img"}, 5, {"lie.img: SMV image is truncated"});
  // HEADER_BYTES beyond the file.
  smv = nbtest::read_file(work / "good.img");
  smv.replace(smv.find("HEADER_BYTES=512;"), 17, "HEADER_BYTES=9999");
  nbtest::write_file(work / "hb.img", smv);
  expect_failure(work, {"-default_F", "10", "-img", "hb.img"}, 5, {"hb.img: bad HEADER_BYTES"});
}

TEST_CASE("a mask of the wrong shape") {
  nbtest::TempDir work;
  std::vector<std::string> a = kRun;
  a.insert(a.end(), {"-default_F", "10", "-floatfile", "good.bin", "-intfile", "m16.img"});
  REQUIRE(nbtest::run_tool("nbsim", a, work.path()).exit_code == 0);
  // The flags after -mask ask for another detector size: usage error, exit 1.
  expect_failure(work, {"-default_F", "10", "-mask", "m16.img", "-detpixels", "12"}, 1,
                 {"m16.img: the -mask image is 16x16 pixels but the detector 12x12"});
  expect_failure(work, {"-default_F", "10", "-mask", "m16.img", "-detpixels_f", "20"}, 1,
                 {"m16.img:", "16x16", "20x16"});
}
