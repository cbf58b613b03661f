// Image comparisons: a NaN image is no agreement, an empty image no crash.
#include <cmath>
#include <cstring>

#include "hostile_support.hpp"

namespace {

void write_floats(const hostile::fs::path& p, std::size_t n, float v) {
  std::string bytes(n * sizeof(float), '\0');
  for (std::size_t i = 0; i < n; ++i) std::memcpy(bytes.data() + i * sizeof(float), &v, sizeof v);
  nbtest::write_file(p, bytes);
}

}  // namespace

TEST_CASE("nb-compare on a NaN-filled image: exit 4 with the count and first position (it said max|diff| 0)") {
  nbtest::TempDir dir;
  write_floats(dir / "r.bin", 16, 1.0f);
  write_floats(dir / "nan.bin", 16, std::nanf(""));
  const auto r = nbtest::run_tool(
      "nb-compare", {"images", "r.bin", "nan.bin", "--fpixels", "4", "--spixels", "4", "--outdir", "out"}, dir.path());
  CHECK(r.exit_code == 4);
  CHECK(r.out.find("test image has 16 non-finite pixels (first at slow 0, fast 0: nan)") != std::string::npos);
  CHECK(r.out.find("nothing was compared") != std::string::npos);
}

TEST_CASE("nb-compare images r.bin empty.bin --resample: one line, exit 5, no output folder (it segfaulted)") {
  nbtest::TempDir dir;
  write_floats(dir / "r.bin", 16, 1.0f);
  nbtest::write_file(dir / "empty.bin", "");
  const auto r = nbtest::run_tool("nb-compare", {"images", "r.bin", "empty.bin", "--fpixels", "4", "--spixels", "4",
                                                 "--resample", "--outdir", "out"},
                                  dir.path());
  hostile::check_refusal(r, "nb-compare", 5, "empty.bin: is empty (0 bytes): no pixels to compare");
  CHECK(hostile::tree(dir.path()) == std::vector<std::string>{"empty.bin", "r.bin"});
}
