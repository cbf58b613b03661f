// Which vector sine for the lane renderer (docs/performance.md, "How the CPU
// path is built"): the C library's scalar sin, glibc's libmvec (spec mode),
// Highway's hwy::Sin (runtime dispatch), xsimd's xsimd::sin (AVX-512, where
// the CPU has it and libxsimd-dev is installed) and the checked sines of c-parity,
// on the same lattice-shaped arguments (pi h and N pi h, |h| < 64, N < 64):
// nanoseconds per sine (best of 5 passes over 2^20 arguments), the largest
// error against long double's sinl (ulp), and the share of results equal to
// sin()'s bit for bit. Built when libhwy-dev is installed.
//
//   build/bin/bench_vector_sines
#include <algorithm>
#include <bit>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "bench_vector_sines.cpp"
#include <hwy/foreach_target.h>  // IWYU pragma: keep
#include <hwy/highway.h>
#include <hwy/contrib/math/math-inl.h>

HWY_BEFORE_NAMESPACE();
namespace bench_sines::HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;
void highway_sines(const double* x, double* y, std::size_t n) {
  const hn::ScalableTag<double> d;
  const std::size_t lanes = hn::Lanes(d);
  for (std::size_t i = 0; i + lanes <= n; i += lanes) hn::StoreU(hn::Sin(d, hn::LoadU(d, x + i)), d, y + i);
}
}  // namespace bench_sines::HWY_NAMESPACE
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
#include "lanes.hpp"
#include "sine_arguments.hpp"

#ifdef NB_BENCH_XSIMD
void xsimd_sines_avx512(const double* x, double* y, std::size_t n);  // bench_vector_sines_xsimd.cpp
#endif

namespace bench_sines {
HWY_EXPORT(highway_sines);
}  // namespace bench_sines

int main(int argc, char** argv) {
  if (argc > 1) {
    std::puts("usage: bench_vector_sines  (no arguments; see the top of bench/bench_vector_sines.cpp)");
    return std::string(argv[1]) == "--help" || std::string(argv[1]) == "-h" ? 0 : 2;
  }
  constexpr int n = 1 << 20;
  std::vector<double> x(n), libm(n), y(n);
  std::vector<int> certain(n);
  bench::LatticeSineArguments(16).fill(x.data(), n);
  struct Routine {
    const char* name;
    std::function<void()> run;
  };
  const std::vector<Routine> routines{
      {"sin() (glibc, scalar)", [&] { for (int i = 0; i < n; ++i) y[i] = std::sin(x[i]); }},
      {"libmvec (glibc, vector)", [&] { nbsim::lanes::vector_sin(x.data(), y.data(), n); }},
      {"Highway hwy::Sin", [&] { HWY_DYNAMIC_DISPATCH(bench_sines::highway_sines)(x.data(), y.data(), n); }},
#ifdef NB_BENCH_XSIMD
      {"xsimd xsimd::sin (AVX-512)", [&] { xsimd_sines_avx512(x.data(), y.data(), n); }},
#endif
      {"checked_sines (value)", [&] { nbsim::lanes::checked_sines(x.data(), y.data(), certain.data(), n); }},
  };
  for (int i = 0; i < n; ++i) libm[i] = std::sin(x[i]);
  std::printf("| routine | ns per sine | max error vs sinl (ulp) | equal to sin() |\n| --- | --- | --- | --- |\n");
  __builtin_cpu_init();
  const bool avx512 = __builtin_cpu_supports("avx512f");
  for (const Routine& r : routines) {
    if (!avx512 && std::strstr(r.name, "AVX-512")) continue;
    double best = 1e300;
    for (int pass = 0; pass < 5; ++pass) {
      const auto t0 = std::chrono::steady_clock::now();
      r.run();
      best = std::min(best, std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - t0).count() / n);
    }
    double worst = 0;
    long equal = 0;
    for (int i = 0; i < n; ++i) {
      equal += std::bit_cast<std::uint64_t>(y[i]) == std::bit_cast<std::uint64_t>(libm[i]);
      worst = std::max(worst, bench::ulp_error_vs_sinl(y[i], x[i]));
    }
    std::printf("| %s | %.2f | %.3f | %.4f |\n", r.name, best, worst, static_cast<double>(equal) / n);
  }
  std::printf("(Highway target: %s)\n", hwy::TargetName(hwy::SupportedAndGeneratedTargets().front()));
  return 0;
}
#endif  // HWY_ONCE
