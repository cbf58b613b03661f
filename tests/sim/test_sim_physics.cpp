// Unit tests of the physics building blocks and the structure-factor and
// SMV readers.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>

#include "nbsim/hkl.hpp"
#include "nbsim/physics/interpolation.hpp"
#include "nbsim/physics/lattice.hpp"
#include "nbsim/physics/polarization.hpp"
#include "nbsim/physics/rotation.hpp"
#include "nbsim/random.hpp"
#include "nbsim/smv.hpp"
#include "nbtrace/base/error.hpp"
#include "test_support.hpp"

using namespace nbsim;

TEST_CASE("sincg is the N-slit grating transform") {
  CHECK(sincg(0.0, 5.0) == 5.0);
  // At integer multiples of pi the limit is +-N; near them it approaches N.
  CHECK(sincg(1e-9, 7.0) == doctest::Approx(7.0).epsilon(1e-12));
  const double x = 0.3;
  CHECK(sincg(x, 4.0) == doctest::Approx(std::sin(4 * x) / std::sin(x)));
  // First zero of sin(Nx) at x = pi/N.
  CHECK(std::fabs(sincg(3.14159265358979323846 / 5, 5.0)) < 1e-12);
}

TEST_CASE("sinc3 is 1 at the origin and 3(sin x - x cos x)/x^3 elsewhere") {
  CHECK(sinc3(0.0) == 1.0);
  const double x = 2.0;
  CHECK(sinc3(x) == doctest::Approx(3 * (std::sin(x) - x * std::cos(x)) / (x * x * x)));
  // First zero at x = 4.4934 (tan x = x).
  CHECK(std::fabs(sinc3(4.493409457909064)) < 1e-12);
}

TEST_CASE("lattice factor shapes") {
  const Vec3 as{0.1, 0, 0}, bs{0, 0.1, 0}, cs{0, 0, 0.1};  // 1/Angstrom
  const LatticeFactors sq = lattice_factor<double>(CrystalShape::square, 0.0, 0.0, 0.0, 0, 0, 0, 5, 6, 7, 1, as, bs, cs);
  CHECK(sq.total == 5 * 6 * 7);
  // Near a Bragg peak (h = 2 + 1e-7) the grating approaches +-N.
  const LatticeFactors near = lattice_factor<double>(CrystalShape::square, 2 + 1e-7, 0.0, 0.0, 2, 0, 0, 5, 1, 1, 1, as, bs, cs);
  CHECK(std::fabs(near.total) == doctest::Approx(5.0).epsilon(1e-6));
  // A single cell along an axis contributes 1 (the reference skips N = 1).
  const LatticeFactors one = lattice_factor<double>(CrystalShape::square, 0.37, 0.0, 0.0, 0, 0, 0, 1, 3, 3, 1, as, bs, cs);
  CHECK(one.a == 1.0);
  CHECK(one.total == doctest::Approx(9.0));
  const LatticeFactors round = lattice_factor<double>(CrystalShape::round, 1, 1, 1, 1, 1, 1, 5, 5, 5, 1, as, bs, cs);
  CHECK(round.total == doctest::Approx(125 * kRoundShapeScale));
  const LatticeFactors top_in = lattice_factor<double>(CrystalShape::tophat, 1.001, 1, 1, 1, 1, 1, 5, 5, 5, 1, as, bs, cs);
  CHECK(top_in.total == 125.0);
  const LatticeFactors top_out = lattice_factor<double>(CrystalShape::tophat, 1.4, 1, 1, 1, 1, 1, 5, 5, 5, 1, as, bs, cs);
  CHECK(top_out.total == 0.0);
  const LatticeFactors gauss = lattice_factor<double>(CrystalShape::gauss, 1, 1, 1, 1, 1, 1, 5, 5, 5, 1, as, bs, cs);
  CHECK(gauss.total == 125.0);
}

TEST_CASE("rotations") {
  const Vec3 x{1, 0, 0};
  const Vec3 r = rotate_about_axis(x, {0, 0, 1}, 3.14159265358979323846 / 2);
  CHECK(r.x == doctest::Approx(0.0).epsilon(1e-15));
  CHECK(r.y == doctest::Approx(1.0));
  // Zero angles leave the vector bit-for-bit unchanged.
  const Vec3 v{0.1, -0.2, 0.3};
  const Vec3 same = rotate_xyz(v, 0.0, 0.0, 0.0);
  CHECK(same.x == v.x);
  CHECK(same.y == v.y);
  CHECK(same.z == v.z);
  // x then y then z: rotating z by 90 deg about y gives +x.
  const Vec3 zy = rotate_xyz(Vec3{0, 0, 1}, 0, 3.14159265358979323846 / 2, 0);
  CHECK(zy.x == doctest::Approx(1.0));
}

TEST_CASE("polarization factor") {
  Vec3 incident{1, 0, 0};
  Vec3 forward{1, 0, 0};
  CHECK(polarization_factor(0.0, incident, forward, {0, 0, 1}) == doctest::Approx(1.0));
  // Unpolarized at 90 degrees: (1 + 0)/2.
  Vec3 side{0, 1, 0};
  CHECK(polarization_factor(0.0, incident, side, {0, 0, 1}) == doctest::Approx(0.5));
  // Fully polarized along z, scattering along y (perpendicular to E): 1.
  Vec3 side2{0, 1, 0};
  CHECK(polarization_factor(1.0, incident, side2, {0, 0, 1}) == doctest::Approx(1.0));
  // ... and along z (parallel to E): 0.
  Vec3 up{0, 0, 1};
  CHECK(polarization_factor(1.0, incident, up, {0, 0, 1}) == doctest::Approx(0.0).epsilon(1e-15));
}

TEST_CASE("tricubic interpolation reproduces a cubic polynomial") {
  auto f = [](double x, double y, double z) { return 1 + 2 * x - y * y + 0.5 * z * z * z + x * y * z; };
  double xa[4] = {-1, 0, 1, 2}, ya[4] = {3, 4, 5, 6}, za[4] = {-2, -1, 0, 1};
  double grid[4][4][4];
  for (int i = 0; i < 4; ++i)
    for (int j = 0; j < 4; ++j)
      for (int k = 0; k < 4; ++k) grid[i][j][k] = f(xa[i], ya[j], za[k]);
  CHECK(tricubic(xa, ya, za, grid, 0.3, 4.7, -0.4) == doctest::Approx(f(0.3, 4.7, -0.4)));
}

TEST_CASE("HKL text loader: bounds, default_F prefill, warnings and errors") {
  nbtest::TempDir dir;
  nbtest::write_file(dir / "a.hkl", "-1 0 2 10.5\n 1 2 3 20\n\n0 0 0 7 99.0 extra\n");
  const HklGrid g = load_hkl_text(dir / "a.hkl", 3.0);
  CHECK(g.h_min == -1);
  CHECK(g.h_max == 1);
  CHECK(g.k_max == 2);
  CHECK(g.l_min == 0);
  CHECK(g.l_max == 3);
  CHECK(g.reflections == 3);
  const HklView v = g.view(3.0);
  CHECK(v.at(-1, 0, 2) == 10.5);
  CHECK(v.at(1, 2, 3) == 20.0);
  CHECK(v.at(0, 0, 0) == 7.0);
  CHECK(v.at(0, 1, 1) == 3.0);  // prefilled
  CHECK(g.warnings.empty());

  nbtest::write_file(dir / "frac.hkl", "0 0 0 1\n0.5 0 0 2\n");
  const HklGrid frac = load_hkl_text(dir / "frac.hkl", 0.0);
  REQUIRE(frac.warnings.size() == 1);
  CHECK(frac.warnings[0] == "WARNING: non-integer value for h (0.5) at line 1");

  nbtest::write_file(dir / "empty.hkl", "\n  \n");
  CHECK_THROWS_AS(load_hkl_text(dir / "empty.hkl", 0.0), nbtrace::InputError);
  nbtest::write_file(dir / "bad.hkl", "1 2 3 4\n1 2 x 4\n");
  CHECK_THROWS_WITH_AS(load_hkl_text(dir / "bad.hkl", 0.0), doctest::Contains("bad.hkl:2"), nbtrace::InputError);
  CHECK_THROWS_AS(load_hkl_text(dir / "missing.hkl", 0.0), nbtrace::InputError);
}

TEST_CASE("Fdump.bin round trip keeps extents and values") {
  nbtest::TempDir dir;
  nbtest::write_file(dir / "a.hkl", "-2 -1 0 1.25\n3 1 4 -2.5\n0 0 1 9\n");
  const HklGrid g = load_hkl_text(dir / "a.hkl", 0.5);
  const std::string bytes = encode_fdump(g);
  CHECK(bytes.rfind("-2 3 -1 1 0 4\n\f", 0) == 0);
  // One padding entry per axis, as the reference writes.
  CHECK(bytes.size() == std::string("-2 3 -1 1 0 4\n\f").size() + 7 * 4 * 6 * sizeof(double));
  nbtest::write_file(dir / "Fdump.bin", bytes);
  const HklGrid back = read_fdump(dir / "Fdump.bin");
  CHECK(back.h_min == -2);
  CHECK(back.l_max == 4);
  CHECK(back.values == g.values);
  nbtest::write_file(dir / "short.bin", bytes.substr(0, bytes.size() - 8));
  CHECK_THROWS_AS(read_fdump(dir / "short.bin"), nbtrace::InputError);
}

// Found by tests/fuzz/fuzz_hkl (docs/reliability.md): an index beyond int
// was converted to int (undefined behaviour), and bounds far apart asked for
// a grid of billions of cells (out of memory).
TEST_CASE("HKL text reader refuses indices beyond int and grids beyond kMaxHklCells") {
  using nbtrace::InputError;
  CHECK_THROWS_WITH_AS(parse_hkl_text("0 0 0 1\n021474836470 0 100.01e-740 1\n", "x.hkl", 0),
                       "x.hkl:2: index h=2.14748e+10 is out of range (|index| must be below 2^30)", InputError);
  CHECK_THROWS_WITH_AS(parse_hkl_text("0 nan 0 1\n", "x.hkl", 0), doctest::Contains("x.hkl:1: index k=nan"),
                       InputError);
  CHECK_THROWS_WITH_AS(parse_hkl_text("0 0 -inf 1\n", "x.hkl", 0), doctest::Contains("x.hkl:1: index l=-inf"),
                       InputError);
  CHECK_THROWS_WITH_AS(parse_hkl_text("0 0 0 1\n1000 1000 1000 2\n", "x.hkl", 0),
                       "x.hkl: index bounds h 0..1000, k 0..1000, l 0..1000 need more than 134217728 grid cells "
                       "(1 GiB)",
                       InputError);
  // The fuzzer's out-of-memory input: k 4..1e9, three billion cells.
  CHECK_THROWS_WITH_AS(parse_hkl_text("0 01e9 0 100.02147483647\n2 04 0 10 0\n", "x.hkl", 0),
                       "x.hkl: index bounds h 0..2, k 4..1000000000, l 0..0 need more than 134217728 grid cells "
                       "(1 GiB)",
                       InputError);
  // A long thin grid is fine: 600 x 1 x 2 cells.
  const HklGrid thin = parse_hkl_text("-300 0 0 1\n299 0 1 2\n", "x.hkl", 0.5);
  CHECK(thin.values.size() == 600 * 1 * 2);
  CHECK(thin.view(0.5).at(299, 0, 1) == 2.0);
  CHECK(thin.view(0.5).at(0, 0, 0) == 0.5);
}

TEST_CASE("Fdump reader refuses header bounds that overflow or need too many cells") {
  using nbtrace::InputError;
  // h_max - h_min + 1 overflowed an int.
  CHECK_THROWS_WITH_AS(parse_fdump("-2147483648 2147483647 0 0 0 0\n\f", "F.bin"),
                       "F.bin: Fdump index bound -2147483648 is out of range (|index| must be below 2^30)",
                       InputError);
  // (2e6+1)^3 doubles: the byte count wrapped around 2^64.
  CHECK_THROWS_WITH_AS(parse_fdump("0 2000000 0 2000000 0 2000000\n\f", "F.bin"),
                       doctest::Contains("need more than 134217728 grid cells"), InputError);
  CHECK_THROWS_WITH_AS(parse_fdump("0 -1 0 0 0 0\n\f", "F.bin"), "F.bin: empty index range in Fdump header",
                       InputError);
}

namespace {
/// An SMV file: a 512-byte header of `fields` and `pixels` 16-bit pixels.
std::string smv_file(const std::string& fields, std::size_t pixels) {
  std::string h = "{\nHEADER_BYTES=512;\n" + fields + "}\f";
  h.resize(512, ' ');
  return h + std::string(2 * pixels, '\x01');
}
}  // namespace

// Found by tests/fuzz/fuzz_smv: a header without SIZE1 gave NaN, converted
// to int (undefined behaviour) before the check.
TEST_CASE("SMV reader checks SIZE1 and SIZE2 before using them") {
  using nbtrace::InputError;
  const SmvFrame f = parse_smv(smv_file("SIZE1=4;\nSIZE2=3;\n", 12), "a.img");
  CHECK(f.width == 4);
  CHECK(f.height == 3);
  CHECK(f.pixels == std::vector<std::uint16_t>(12, 0x0101));
  CHECK_THROWS_WITH_AS(parse_smv(smv_file("SIZE2=3;\n", 12), "a.img"), "a.img: no SIZE1/SIZE2 in the SMV header",
                       InputError);
  CHECK_THROWS_WITH_AS(parse_smv(smv_file("SIZE1=1e20;\nSIZE2=3;\n", 12), "a.img"),
                       "a.img: SMV header size SIZE1=1e+20 SIZE2=3 is not 1 to 1048576 pixels", InputError);
  CHECK_THROWS_WITH_AS(parse_smv(smv_file("SIZE1=4;\nSIZE2=0.5;\n", 12), "a.img"),
                       doctest::Contains("is not 1 to 1048576 pixels"), InputError);
  CHECK_THROWS_WITH_AS(parse_smv(smv_file("SIZE1=4;\nSIZE2=3;\n", 11), "a.img"),
                       doctest::Contains("a.img: SMV image is truncated"), InputError);
}

TEST_CASE("reference random generator and mosaic rotations") {
  ReferenceRandom a(-12345678), b(-12345678), c(-42);
  double sum = 0;
  bool differs = false;
  for (int i = 0; i < 10000; ++i) {
    const float x = a.uniform();
    REQUIRE(x > 0.0f);
    REQUIRE(x < 1.0f);
    CHECK(b.uniform() == x);
    differs = differs || c.uniform() != x;
    sum += x;
  }
  CHECK(differs);
  CHECK(sum / 10000 == doctest::Approx(0.5).epsilon(0.02));
  // A cap rotation is orthonormal and turns by at most the spread.
  ReferenceRandom r(-7);
  for (int i = 0; i < 100; ++i) {
    double u[9];
    random_cap_rotation(0.1f, r, u);
    const Vec3 x = rotate_by_matrix(Vec3{1, 0, 0}, u), y = rotate_by_matrix(Vec3{0, 1, 0}, u);
    CHECK(magnitude(x) == doctest::Approx(1.0));
    CHECK(std::fabs(dot(x, y)) < 1e-12);
    const double trace = u[0] + u[4] + u[8];
    CHECK(std::acos(std::min(1.0, (trace - 1) / 2)) <= 0.1 + 1e-6);
  }
}

TEST_CASE("Poisson deviates have the right mean and variance in every regime") {
  // Means below 12 (product of uniforms), up to 1e6 (rejection) and above
  // (normal approximation).
  for (const float mean : {0.5f, 3.0f, 50.0f, 4000.0f, 2.0e6f}) {
    CAPTURE(mean);
    ReferenceRandom rng(-99);
    const int n = 20000;
    double sum = 0, sumsq = 0;
    for (int i = 0; i < n; ++i) {
      const double k = rng.poisson(mean);
      if (mean <= 1e6) CHECK(k == std::floor(k));
      sum += k;
      sumsq += k * k;
    }
    const double m = sum / n, var = sumsq / n - m * m;
    CHECK(m == doctest::Approx(mean).epsilon(5 * std::sqrt(mean / n) / mean + 1e-6));
    CHECK(var == doctest::Approx(mean).epsilon(0.06));
  }
  CHECK(log_gamma(5.0f) == doctest::Approx(std::log(24.0)).epsilon(1e-6));
}

TEST_CASE("misset angles from a rotation matrix reproduce the rotation") {
  ReferenceRandom r(-3);
  for (int i = 0; i < 50; ++i) {
    double u[9];
    random_cap_rotation(2.5f, r, u);
    const Vec3 angles = rotation_to_misset(u);
    for (const Vec3 v : {Vec3{1, 0, 0}, Vec3{0, 1, 0}, Vec3{0.3, -0.2, 0.9}}) {
      const Vec3 by_matrix = rotate_by_matrix(v, u);
      const Vec3 by_angles = rotate_xyz(v, angles.x, angles.y, angles.z);
      CHECK(magnitude(by_matrix - by_angles) < 1e-12);
    }
  }
}
