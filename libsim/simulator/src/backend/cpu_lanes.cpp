// float64 instantiations of the lane renderer (lanes.hpp) and the vector
// sine. target_clones compiles each entry for AVX-512 (x86-64-v4), AVX2
// (x86-64-v3) and the baseline; flatten inlines the physics into each clone
// so the `omp simd` loops become that ISA's vector code. IEEE + - * / and
// sqrt round the same in every width and no contraction is allowed
// (-ffp-contract=off), so all three give the same bits.
#include <immintrin.h>

#include <bit>
#include <cmath>
#include <cstdint>
#include <vector>

#include "lanes.hpp"

// glibc's libmvec (libmvec.so, declared by no header without -ffast-math):
// 8 (AVX-512) and 4 (AVX2) double sines per call, within 4 ulp.
extern "C" __m512d _ZGVeN8v_sin(__m512d);
extern "C" __m256d _ZGVdN4v_sin(__m256d);

namespace nbsim::lanes {

namespace {

__attribute__((target("avx512f"))) void sin_avx512(const double* x, double* y, int n) {
  for (int i = 0; i < n; i += 8) _mm512_storeu_pd(y + i, _ZGVeN8v_sin(_mm512_loadu_pd(x + i)));
}

__attribute__((target("avx2"))) void sin_avx2(const double* x, double* y, int n) {
  for (int i = 0; i < n; i += 4) _mm256_storeu_pd(y + i, _ZGVdN4v_sin(_mm256_loadu_pd(x + i)));
}

void sin_scalar(const double* x, double* y, int n) {
  for (int i = 0; i < n; ++i) y[i] = std::sin(x[i]);
}

using SinFn = void (*)(const double*, double*, int);

SinFn pick_sin() {
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f")) return sin_avx512;
  if (__builtin_cpu_supports("avx2")) return sin_avx2;
  return sin_scalar;
}

const SinFn chosen_sin = pick_sin();

}  // namespace

void vector_sin(const double* x, double* y, int n) { chosen_sin(x, y, n); }

__attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default"))) void checked_sines(const double* x,
                                                                                               double* y, int* certain,
                                                                                               int n) {
#pragma omp simd
  for (int i = 0; i < n; ++i) certain[i] = checked_sin(x[i], y[i]) ? 1 : 0;
}

namespace {

bool checked_sin_matches_libm() {
  // Arguments shaped like the lattice sines (pi h and N pi h, |h| < 64,
  // N < 64) and spread over |x| < 4096, from a fixed 64-bit LCG.
  constexpr int n = 8192;
  std::vector<double> x(n), y(n);
  std::vector<int> certain(n);
  std::uint64_t state = 0x9e3779b97f4a7c15u;
  auto uniform = [&state] {  // [0, 1)
    state = state * 6364136223846793005u + 1442695040888963407u;
    return static_cast<double>(state >> 11) * 0x1p-53;
  };
  for (int i = 0; i < n; ++i) {
    x[i] = 3.14159265358979323846 * (128.0 * uniform() - 64.0);
    if (i % 3 == 1) x[i] *= std::floor(1.0 + 63.0 * uniform());
    if (i % 3 == 2) x[i] = 8192.0 * uniform() - 4096.0;
  }
  checked_sines(x.data(), y.data(), certain.data(), n);
  for (int i = 0; i < n; ++i)
    if (certain[i] != 0 && std::bit_cast<std::uint64_t>(y[i]) != std::bit_cast<std::uint64_t>(std::sin(x[i])))
      return false;
  return true;
}

}  // namespace

bool checked_sines_usable() {
  static const bool usable = [] {
    __builtin_cpu_init();
    return __builtin_cpu_supports("fma") && checked_sin_matches_libm();
  }();
  return usable;
}

__attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default"), flatten)) void render_row_f64(
    const KernelParams& p, const StepCells<double>& cells, SinKind sin_kind, int s, int fmin, int fmax, float* row,
    double& row_omega) {
  if (sin_kind == SinKind::vector)
    render_row<double, SinKind::vector>(p, cells, s, fmin, fmax, row, row_omega);
  else if (sin_kind == SinKind::checked_libm)
    render_row<double, SinKind::checked_libm>(p, cells, s, fmin, fmax, row, row_omega);
  else
    render_row<double, SinKind::scalar_libm>(p, cells, s, fmin, fmax, row, row_omega);
}

}  // namespace nbsim::lanes
