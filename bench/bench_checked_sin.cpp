// The checked vector sines of c-parity (libsim/simulator/src/backend/
// checked_sin.hpp) against the C library's sin, at length:
//
//   build/bin/bench_checked_sin [COUNT]      (default 100000000)
//
// COUNT arguments shaped like nanoBragg's lattice sines (pi h and N pi h,
// |h| < 64, N < 64; a fixed seed), in blocks of 2^20. For each block it
// times sin() and lanes::checked_sines() over the same arguments, and
// checks every certain value against sin() bit for bit. It also measures
// how far sin() itself strays from long double's sinl (ulp), the margin
// the checked routine relies on (it assumes below 0.58 ulp).
// Prints one summary; exit 1 when any certain value differs from sin().
#include <bit>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "lanes.hpp"
#include "sine_arguments.hpp"

int main(int argc, char** argv) {
  if (argc > 2 || (argc == 2 && (std::string(argv[1]) == "--help" || std::string(argv[1]) == "-h"))) {
    std::puts("usage: bench_checked_sin [COUNT]  (checked vector sines against sin(), COUNT arguments)");
    return argc > 2 ? 2 : 0;
  }
  char* end = nullptr;
  const long count = argc == 2 ? std::strtol(argv[1], &end, 10) : 100000000L;
  if (count <= 0 || (argc == 2 && *end != '\0')) {
    std::fprintf(stderr, "bench_checked_sin: COUNT must be a positive integer, got '%s'\n", argv[1]);
    return 2;
  }
  constexpr int block = 1 << 20;
  bench::LatticeSineArguments arguments(16);
  std::vector<double> x(block), libm(block), checked(block);
  std::vector<int> certain(block);
  long done = 0, n_certain = 0, mismatches = 0;
  double libm_s = 0, checked_s = 0, libm_worst_ulp = 0;
  using clock = std::chrono::steady_clock;
  while (done < count) {
    const int n = static_cast<int>(std::min<long>(block, count - done));
    arguments.fill(x.data(), n);
    const auto t0 = clock::now();
    for (int i = 0; i < n; ++i) libm[i] = std::sin(x[i]);
    const auto t1 = clock::now();
    nbsim::lanes::checked_sines(x.data(), checked.data(), certain.data(), n);
    const auto t2 = clock::now();
    libm_s += std::chrono::duration<double>(t1 - t0).count();
    checked_s += std::chrono::duration<double>(t2 - t1).count();
    for (int i = 0; i < n; ++i) {
      if (certain[i] == 0) continue;
      ++n_certain;
      if (std::bit_cast<std::uint64_t>(checked[i]) != std::bit_cast<std::uint64_t>(libm[i])) {
        if (++mismatches <= 5) std::printf("MISMATCH x=%a sin=%a checked=%a\n", x[i], libm[i], checked[i]);
      }
    }
    // sin()'s own error on a sample (sinl is slow): every 64th argument.
    for (int i = 0; i < n; i += 64) libm_worst_ulp = std::max(libm_worst_ulp, bench::ulp_error_vs_sinl(libm[i], x[i]));
    done += n;
  }
  const double share = static_cast<double>(n_certain) / static_cast<double>(done);
  const double libm_ns = 1e9 * libm_s / static_cast<double>(done), checked_ns = 1e9 * checked_s / static_cast<double>(done);
  std::printf("arguments %ld, certain %.4f, mismatches %ld\n", done, share, mismatches);
  std::printf("sin() %.2f ns per call; checked_sines %.2f ns per sine; with sin() for the uncertain %.2f ns (%.2fx)\n",
              libm_ns, checked_ns, checked_ns + (1 - share) * libm_ns, libm_ns / (checked_ns + (1 - share) * libm_ns));
  std::printf("sin() worst error seen against sinl: %.4f ulp over %ld arguments (checked_sin assumes < 0.58)\n",
              libm_worst_ulp, (done + 63) / 64);
  return mismatches == 0 ? 0 : 1;
}
