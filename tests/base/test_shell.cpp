#include "nbtrace/base/shell.hpp"
#include "test_support.hpp"

using namespace nbtrace;

TEST_CASE("shell quoting survives a round trip through sh") {
  CHECK(shell_quote("plain-arg_1.0") == "plain-arg_1.0");
  CHECK(shell_quote("") == "''");
  CHECK(shell_quote("a b") == "'a b'");
  CHECK(shell_quote("it's") == "'it'\\''s'");
  const std::vector<std::string> argv{"printf", "%s|", "a b", "it's", "$HOME", "*"};
  const auto r = nbtest::run_process({"/bin/sh", "-c", shell_join(argv)});
  CHECK(r.exit_code == 0);
  CHECK(r.out == "a b|it's|$HOME|*|");
}
