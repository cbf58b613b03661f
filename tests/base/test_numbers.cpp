#include <cmath>
#include <limits>

#include "nbtrace/base/numbers.hpp"
#include "test_support.hpp"

using namespace nbtrace;

TEST_CASE("parse_double reads every number form found in traces") {
  CHECK(*parse_double("-6.87") == -6.87);
  CHECK(*parse_double("1e+24") == 1e24);
  CHECK(*parse_double("+2.5") == 2.5);
  CHECK(*parse_double("7") == 7.0);
  const double negzero = *parse_double("-0");
  CHECK(negzero == 0.0);
  CHECK(std::signbit(negzero));
  CHECK(std::isnan(*parse_double("nan")));
  CHECK(std::isnan(*parse_double("-nan")));
  CHECK(std::isinf(*parse_double("inf")));
  CHECK(*parse_double("-inf") < 0);
  CHECK(*parse_double("1e-320") > 0);  // denormal, not an error
}

TEST_CASE("parse_double refuses partial numbers and overflow") {
  CHECK_FALSE(parse_double(""));
  CHECK_FALSE(parse_double("1.2.3"));
  CHECK_FALSE(parse_double("12abc"));
  CHECK_FALSE(parse_double("--1"));
  CHECK_FALSE(parse_double("+-1"));
  CHECK_FALSE(parse_double("1e999"));
  CHECK_FALSE(parse_double("rotx:0"));
}

TEST_CASE("format_double round-trips") {
  for (double v : {0.1, -6.8795206024501, 1e-300, 2.88139542684698e-07, 943654.80923755, 1.0 / 3.0}) {
    CHECK(*parse_double(format_double(v)) == v);
  }
  CHECK(format_double(10.0) == "10");
  CHECK(format_double(std::numeric_limits<double>::quiet_NaN()) == "nan");
  CHECK(format_double(-std::numeric_limits<double>::infinity()) == "-inf");
}

TEST_CASE("ulp_distance counts representable steps, across zero too") {
  const double one = 1.0;
  CHECK(ulp_distance(one, one) == 0);
  CHECK(ulp_distance(one, std::nextafter(one, 2.0)) == 1);
  CHECK(ulp_distance(std::nextafter(one, 2.0), one) == 1);
  CHECK(ulp_distance(0.0, -0.0) == 0);
  const double tiny = std::numeric_limits<double>::denorm_min();
  CHECK(ulp_distance(-tiny, tiny) == 2);
  CHECK(ulp_distance(1.0, std::nan("")) == std::numeric_limits<std::uint64_t>::max());
}
