#pragma once
// What the sine benchmarks share: arguments shaped like nanoBragg's lattice
// sines, and the error of a sine against long double's sinl.
#include <cmath>
#include <random>

namespace bench {

/// pi h and N pi h (alternately), |h| < 64, N in 1..63, from a fixed seed.
class LatticeSineArguments {
 public:
  explicit LatticeSineArguments(unsigned long long seed) : rng_(seed) {}
  void fill(double* x, int n) {
    for (int i = 0; i < n; ++i) {
      const double t = 3.14159265358979323846 * h_(rng_);
      x[i] = i % 2 == 0 ? t : t * std::floor(n_(rng_));
    }
  }

 private:
  std::mt19937_64 rng_;
  std::uniform_real_distribution<double> h_{-64.0, 64.0}, n_{1.0, 64.0};
};

/// |y - sin(x)| in ulp of y, sin(x) from sinl (11 bits more than double).
inline double ulp_error_vs_sinl(double y, double x) {
  int exponent = 0;
  std::frexp(y, &exponent);
  const long double err = fabsl(static_cast<long double>(y) - sinl(static_cast<long double>(x)));
  return static_cast<double>(err / std::ldexp(1.0L, exponent - 53));
}

}  // namespace bench
