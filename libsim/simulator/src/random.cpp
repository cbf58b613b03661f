#include "nbsim/random.hpp"

#include <algorithm>
#include <cmath>

namespace nbsim {

namespace {
constexpr long kMultiplier = 16807;
constexpr long kModulus = 2147483647;  // 2^31 - 1
constexpr long kQuotient = kModulus / kMultiplier;   // 127773
constexpr long kRemainder = kModulus % kMultiplier;  // 2836
constexpr int kTable = 32;
constexpr long kDivisor = 1 + (kModulus - 1) / kTable;
constexpr double kScale = 1.0 / kModulus;
constexpr double kLargestBelowOne = 1.0 - 1.2e-7;

/// One step of x -> 16807 x mod (2^31-1) without overflow.
long next_state(long x) {
  const long k = x / kQuotient;
  long y = kMultiplier * (x - k * kQuotient) - kRemainder * k;
  if (y < 0) y += kModulus;
  return y;
}
}  // namespace

float ReferenceRandom::uniform() {
  if (state_ <= 0 || last_ == 0) {
    state_ = -state_ < 1 ? 1 : -state_;
    // Warm up 8 steps, then fill the shuffle table from the end.
    for (int j = kTable + 7; j >= 0; --j) {
      state_ = next_state(state_);
      if (j < kTable) table_[j] = state_;
    }
    last_ = table_[0];
  }
  state_ = next_state(state_);
  const int j = static_cast<int>(last_ / kDivisor);
  last_ = table_[j];
  table_[j] = state_;
  const float value = static_cast<float>(kScale * static_cast<double>(last_));
  return value > kLargestBelowOne ? static_cast<float>(kLargestBelowOne) : value;
}

float ReferenceRandom::gaussian() {
  if (have_spare_) {
    have_spare_ = false;
    return spare_;
  }
  float v1, v2, rsq;
  do {  // a point inside the unit circle
    v1 = static_cast<float>(2.0 * uniform() - 1.0);
    v2 = static_cast<float>(2.0 * uniform() - 1.0);
    rsq = v1 * v1 + v2 * v2;
  } while (rsq >= 1.0 || rsq == 0);
  const float fac = static_cast<float>(std::sqrt(-2.0 * std::log(static_cast<double>(rsq)) / rsq));
  spare_ = v1 * fac;
  have_spare_ = true;
  return v2 * fac;
}

float log_gamma(float xx) {
  // Lanczos approximation (gamma = 5, six terms).
  static constexpr double kCoefficients[6] = {76.18009172947146,     -86.50532032941677,
                                              24.01409824083091,     -1.231739572450155,
                                              0.1208650973866179e-2, -0.5395239384953e-5};
  const double x = xx;
  double y = x;
  double tmp = x + 5.5;
  tmp -= (x + 0.5) * std::log(tmp);
  double series = 1.000000000190015;
  for (double c : kCoefficients) series += c / ++y;
  return static_cast<float>(-tmp + std::log(2.5066282746310005 * series / x));
}

float ReferenceRandom::poisson(float xm) {
  constexpr double pi = 3.14159265358979323846;
  if (xm > 1.0e6) {
    // Large means: the normal approximation.
    return static_cast<float>(xm + std::sqrt(static_cast<double>(xm)) * gaussian());
  }
  if (xm < 12.0) {
    // Count uniform deviates until their product drops below exp(-mean).
    const float g = static_cast<float>(std::exp(-static_cast<double>(xm)));
    float em = -1;
    float t = 1.0f;
    do {
      ++em;
      t *= uniform();
    } while (t > g);
    return em;
  }
  // Rejection from a Lorentzian comparison function.
  const float sq = static_cast<float>(std::sqrt(2.0 * xm));
  const float alxm = static_cast<float>(std::log(static_cast<double>(xm)));
  const float g = xm * alxm - log_gamma(static_cast<float>(xm + 1.0));
  float em, t, y;
  do {
    do {
      y = static_cast<float>(std::tan(pi * uniform()));
      em = sq * y + xm;
    } while (em < 0.0);
    em = static_cast<float>(std::floor(static_cast<double>(em)));
    // 0.9 keeps the ratio below 1.
    t = static_cast<float>(0.9 * (1.0 + y * y) *
                           std::exp(static_cast<double>(em * alxm - log_gamma(static_cast<float>(em + 1.0)) - g)));
  } while (uniform() > t);
  return em;
}

void random_cap_rotation(float spread, ReferenceRandom& rng, double umat[9]) {
  constexpr double pi = 3.14159265358979323846;
  const double r1 = 2.0 * rng.uniform() - 1.0;
  const double r2 = 2.0 * rng.uniform() - 1.0;
  const double r3 = 2.0 * rng.uniform() - 1.0;
  const double xyrad = std::sqrt(1.0 - r2 * r2);
  // Angle ~ spread * (1 - r3^2)^(1/3), evaluated in single precision.
  const float rot_f = spread * ::powf(static_cast<float>(1.0 - r3 * r3), static_cast<float>(1.0 / 3.0));
  const double rot = rot_f;
  // Random axis (v1, v2, v3) on the unit sphere.
  const double v1 = xyrad * std::sin(pi * r1);
  const double v2 = xyrad * std::cos(pi * r1);
  const double v3 = r2;
  const double c = std::cos(rot), one_minus_c = 1.0 - c, s = std::sin(rot);
  umat[0] = c + one_minus_c * (v1 * v1);
  umat[1] = one_minus_c * v1 * v2 - s * v3;
  umat[2] = one_minus_c * v1 * v3 + s * v2;
  umat[3] = one_minus_c * v1 * v2 + s * v3;
  umat[4] = c + one_minus_c * (v2 * v2);
  umat[5] = one_minus_c * v2 * v3 - s * v1;
  umat[6] = one_minus_c * v1 * v3 - s * v2;
  umat[7] = one_minus_c * v2 * v3 + s * v1;
  umat[8] = c + one_minus_c * (v3 * v3);
}

Vec3 rotation_to_misset(const double umat[9]) {
  double u[9];
  std::copy(umat, umat + 9, u);
  // Normalise the rows (twice, as the reference does around its checks for
  // empty rows, which a rotation never has).
  for (int pass = 0; pass < 2; ++pass) {
    for (int r = 0; r < 3; ++r) {
      double* row = u + 3 * r;
      const double m = std::sqrt(row[0] * row[0] + row[1] * row[1] + row[2] * row[2]);
      if (m > 0) {
        row[0] /= m;
        row[1] /= m;
        row[2] /= m;
      }
    }
  }
  const double uxx = u[0], uxy = u[1], uyx = u[3], uyy = u[4], uzx = u[6], uzy = u[7], uzz = u[8];
  if (uzx * uzx < 1.0)
    return Vec3{std::atan2(uzy, uzz), std::atan2(-uzx, std::sqrt(uzy * uzy + uzz * uzz)), std::atan2(uyx, uxx)};
  // Gimbal lock: x by pi, y by pi/2.
  return Vec3{std::atan2(1, 1) * 4, std::atan2(1, 1) * 2, std::atan2(uxy, -uyy)};
}

}  // namespace nbsim
