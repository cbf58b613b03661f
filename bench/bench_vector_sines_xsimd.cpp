// xsimd's sine for bench_vector_sines.cpp: this file alone is compiled for
// AVX-512 (xsimd picks its instruction set when compiled), and is called
// only when the CPU has it.
#include <cstddef>
#include <xsimd/xsimd.hpp>

void xsimd_sines_avx512(const double* x, double* y, std::size_t n) {
  using batch = xsimd::batch<double, xsimd::avx512f>;
  for (std::size_t i = 0; i + batch::size <= n; i += batch::size)
    xsimd::sin(batch::load_unaligned(x + i)).store_unaligned(y + i);
}
