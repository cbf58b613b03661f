// float64 instantiations of the lane renderer (lanes.hpp) and the vector
// sine. target_clones compiles each entry for AVX-512 (x86-64-v4), AVX2
// (x86-64-v3) and the baseline; flatten inlines the physics into each clone
// so the `omp simd` loops become that ISA's vector code. IEEE + - * / and
// sqrt round the same in every width and no contraction is allowed
// (-ffp-contract=off), so all three give the same bits.
#include <immintrin.h>

#include <cmath>

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

__attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default"), flatten)) void render_row_f64(
    const KernelParams& p, const StepCells<double>& cells, SinKind sin_kind, int s, int fmin, int fmax, float* row,
    double& row_omega) {
  if (sin_kind == SinKind::vector)
    render_row<double, SinKind::vector>(p, cells, s, fmin, fmax, row, row_omega);
  else
    render_row<double, SinKind::scalar_libm>(p, cells, s, fmin, fmax, row, row_omega);
}

}  // namespace nbsim::lanes
