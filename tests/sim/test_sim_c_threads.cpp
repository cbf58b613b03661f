// -c_threads T: nbsim's c-parity image equals nanoBragg.c's run with
// OMP_NUM_THREADS=T bit for bit (tests/golden/c_threads, made with
// nanoBragg.c built locally), for any -nthreads of nbsim's own.
#include <doctest/doctest.h>

#include <cstring>
#include <sstream>

#include "nbsim/physics/kernel.hpp"
#include "test_support.hpp"

namespace fs = std::filesystem;

namespace {

fs::path data() { return nbtest::source_dir() / "tests/golden/c_threads"; }

std::vector<std::string> args_of(const fs::path& file) {
  std::istringstream in(nbtest::read_file(file));
  std::vector<std::string> args;
  for (std::string word; in >> word;) args.push_back(word);
  return args;
}

std::vector<float> floats(const std::string& bytes) {
  std::vector<float> v(bytes.size() / sizeof(float));
  std::memcpy(v.data(), bytes.data(), v.size() * sizeof(float));
  return v;
}

/// nbsim -mode c-parity ARGS -c_threads T -nthreads N in `work`; its float image.
std::vector<float> nbsim_image(const std::vector<std::string>& args, int t, int n, const fs::path& work) {
  std::vector<std::string> a{"-mode", "c-parity"};
  a.insert(a.end(), args.begin(), args.end());
  a.insert(a.end(), {"-c_threads", std::to_string(t), "-nthreads", std::to_string(n), "-floatfile", "img.bin",
                     "-quiet"});
  const auto r = nbtest::run_tool("nbsim", a, work);
  REQUIRE_MESSAGE(r.exit_code == 0, r.err);
  return floats(nbtest::read_file(work / "img.bin"));
}

std::size_t bits_differing(const std::vector<float>& a, const std::vector<float>& b) {
  REQUIRE(a.size() == b.size());
  return static_cast<std::size_t>(std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0 ? 0 : [&] {
    std::size_t n = 0;
    for (std::size_t i = 0; i < a.size(); ++i) n += std::memcmp(&a[i], &b[i], sizeof(float)) != 0;
    return n;
  }());
}

}  // namespace

TEST_CASE("the rows of each reference thread: libgomp's static split") {
  using nbsim::reference_thread_first_row;
  using nbsim::reference_thread_of_row;
  // The thread starts nanoBragg.c's phi_osc_256 images show (tests/golden/c_threads/README.md).
  CHECK(reference_thread_first_row(1, 256, 2) == 128);
  CHECK(reference_thread_first_row(1, 256, 3) == 86);
  CHECK(reference_thread_first_row(2, 256, 3) == 171);
  CHECK(reference_thread_first_row(3, 256, 4) == 192);
  CHECK(reference_thread_first_row(1, 2527, 2) == 1264);
  for (int threads : {1, 2, 3, 4, 7, 64}) {
    for (int rows : {1, 5, 64, 256, 2527}) {
      int expected_thread = 0;
      for (int s = 0; s < rows; ++s) {
        while (expected_thread + 1 < threads && s >= reference_thread_first_row(expected_thread + 1, rows, threads))
          ++expected_thread;
        CHECK(reference_thread_of_row(s, rows, threads) == expected_thread);
      }
    }
  }
}

TEST_CASE("phi_osc_256: -c_threads 2, 3, 4 equal nanoBragg.c with OMP_NUM_THREADS 2, 3, 4, for any -nthreads") {
  nbtest::TempDir work;
  const std::vector<std::string> args = args_of(data() / "phi_osc_256/args.txt");
  const std::vector<float> one = nbsim_image(args, 1, 2, work.path());
  for (int t : {2, 3, 4}) {
    CAPTURE(t);
    const std::vector<float> c = floats(nbtest::read_file(data() / ("phi_osc_256/c_T" + std::to_string(t) + ".bin")));
    for (int n : {1, 3}) {
      CAPTURE(n);
      CHECK(bits_differing(nbsim_image(args, t, n, work.path()), c) == 0);
    }
    // The C image itself depends on its thread count: t - 1 pixels, the
    // first of each later thread.
    CHECK(bits_differing(one, c) == static_cast<std::size_t>(t - 1));
  }
}

TEST_CASE("supervisor_scaling (ROI across thread boundaries): -c_threads 2, 3, 4 equal nanoBragg.c bit for bit") {
  if (!nbtest::require_shared("the supervisor_scaling inputs (A.mat, scaled.hkl)")) return;
  nbtest::TempDir work;
  for (const char* f : {"A.mat", "scaled.hkl"})
    fs::copy_file(nbtest::shared_dir() / "golden/supervisor_scaling" / f, work / f);
  const std::vector<std::string> args = args_of(data() / "supervisor_scaling_roi/args.txt");
  constexpr std::size_t kFast = 2463, kXmin = 1000, kXmax = 1040, kYmin = 830, kYmax = 1290;
  for (int t : {2, 3, 4}) {
    CAPTURE(t);
    const std::vector<float> c_roi =
        floats(nbtest::read_file(data() / ("supervisor_scaling_roi/c_T" + std::to_string(t) + ".roi.bin")));
    const std::vector<float> image = nbsim_image(args, t, 2, work.path());
    std::vector<float> roi;
    std::size_t outside_nonzero = 0;
    for (std::size_t i = 0; i < image.size(); ++i) {
      const std::size_t s = i / kFast, f = i % kFast;
      if (s >= kYmin && s <= kYmax && f >= kXmin && f <= kXmax) roi.push_back(image[i]);
      else outside_nonzero += image[i] != 0.0f;
    }
    CHECK(outside_nonzero == 0);
    CHECK(bits_differing(roi, c_roi) == 0);
  }
}

TEST_CASE("an interpolating run whose ROI lies in one thread's rows: -c_threads 2, 3, 4 equal nanoBragg.c") {
  nbtest::TempDir work;
  for (const char* f : {"demo.mat", "demo.hkl"})
    fs::copy_file(nbtest::source_dir() / "examples/demo_scaling" / f, work / f);
  const std::vector<std::string> args = args_of(data() / "interpolating_roi/args.txt");
  for (int t : {2, 3, 4}) {
    CAPTURE(t);
    const std::vector<float> c = floats(nbtest::read_file(data() / ("interpolating_roi/c_T" + std::to_string(t) + ".bin")));
    CHECK(bits_differing(nbsim_image(args, t, 2, work.path()), c) == 0);
  }
}

TEST_CASE("-c_threads refusals: out of range, without the phi carry-over, with interpolation") {
  nbtest::TempDir work;
  const std::vector<std::string> small{"-cell", "100", "100", "100", "90", "90", "90", "-lambda", "6.2", "-N", "5",
                                       "-default_F", "100", "-distance", "100", "-detpixels", "32", "-pixel", "0.4",
                                       "-floatfile", "img.bin"};
  const auto run = [&](std::vector<std::string> extra) {
    std::vector<std::string> a = small;
    a.insert(a.end(), extra.begin(), extra.end());
    return nbtest::run_tool("nbsim", a, work.path());
  };
  auto r = run({"-mode", "c-parity", "-c_threads", "65"});
  CHECK(r.exit_code == 1);
  CHECK(r.err.find("-c_threads must be 1..64") != std::string::npos);
  r = run({"-mode", "c-parity", "-c_threads", "0"});
  CHECK(r.exit_code == 1);
  CHECK(r.err.find("-c_threads must be 1..64, got 0") != std::string::npos);
  r = run({"-mode", "spec", "-c_threads", "2"});
  CHECK(r.exit_code == 1);
  CHECK(r.err.find("needs the phi carry-over (C-PARITY-001)") != std::string::npos);
  nbtest::write_file(work / "one.hkl", "0 0 0 10\n1 0 0 20\n");
  r = run({"-mode", "c-parity", "-c_threads", "2", "-hkl", "one.hkl", "-interpolate"});
  CHECK(r.exit_code == 1);
  CHECK(r.err.find("cannot be reproduced") != std::string::npos);
  CHECK_FALSE(fs::exists(work / "img.bin"));
  CHECK(run({"-mode", "c-parity", "-c_threads", "1", "-hkl", "one.hkl", "-interpolate"}).exit_code == 0);
}
