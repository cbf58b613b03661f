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

TEST_CASE("shell_split splits a command line as sh does, and undoes shell_join") {
  using V = std::vector<std::string>;
  CHECK(shell_split("python -m nanobrag_torch") == V{"python", "-m", "nanobrag_torch"});
  CHECK(shell_split("  nbsim\t-mode  c-parity \n") == V{"nbsim", "-mode", "c-parity"});
  CHECK(shell_split("") == V{});
  CHECK(shell_split("a '' b") == V{"a", "", "b"});
  CHECK(shell_split("'/opt/my tools/nanoBragg' -N 5") == V{"/opt/my tools/nanoBragg", "-N", "5"});
  CHECK(shell_split(R"(a\ b "c \"d\" \$e \x" f'g'h)") == V{"a b", R"(c "d" $e \x)", "fgh"});
  CHECK(shell_split("a \\\nb") == V{"a", "b"});
  std::string why;
  CHECK_FALSE(shell_split("-cell 'abc", &why));
  CHECK(why == "a single quote is not closed");
  CHECK_FALSE(shell_split("\"abc", &why));
  CHECK(why == "a double quote is not closed");
  CHECK_FALSE(shell_split("abc\\", &why));
  CHECK(why == "the text ends in a lone backslash");
  // The same words as sh makes of the same text (nothing in it that sh expands).
  const std::string line = R"(x\ y 'it'\''s' "a \"b\"" '*' -N\ 5 '$HOME')";
  const auto r = nbtest::run_process({"/bin/sh", "-c", "printf '%s|' " + line});
  const auto split = shell_split(line);
  REQUIRE(split);
  std::string words;
  for (const std::string& w : *split) words += w + "|";
  CHECK(r.out == "x y|it's|a \"b\"|*|-N 5|$HOME|");
  CHECK(words == r.out);
  CHECK(shell_split("$HOME ~ *") == V{"$HOME", "~", "*"});  // never expanded
  const V argv{"printf", "%s|", "a b", "it's", "$HOME", "*", "", "tab\there"};
  CHECK(shell_split(shell_join(argv)) == argv);
}

TEST_CASE("shell_split: blanks, quotes, escapes and open quotes") {
  using V = std::vector<std::string>;
  CHECK(shell_split("python -m nanobrag_torch") == V{"python", "-m", "nanobrag_torch"});
  CHECK(shell_split("  nbsim\t-mode   spec \n") == V{"nbsim", "-mode", "spec"});
  CHECK(shell_split("") == V{});
  CHECK(shell_split("'a b' \"c d\" e\\ f") == V{"a b", "c d", "e f"});
  CHECK(shell_split("'' \"\"") == V{"", ""});
  CHECK(shell_split("x'y'\"z\"") == V{"xyz"});
  CHECK(shell_split("'it'\\''s' \"\\$HOME \\\" \\a\"") == V{"it's", "$HOME \" \\a"});
  CHECK_FALSE(shell_split("'open").has_value());
  CHECK_FALSE(shell_split("\"open").has_value());
  CHECK_FALSE(shell_split("trailing\\").has_value());
  const V argv{"printf", "%s|", "a b", "it's", "$HOME", "*", "", "tab\there"};
  CHECK(shell_split(shell_join(argv)) == argv);
  // What sh itself makes of the same line.
  const auto r = nbtest::run_process({"/bin/sh", "-c", "printf '%s|' " + std::string("'a b' \"c\\\"d\" e\\ f")});
  CHECK(r.out == "a b|c\"d|e f|");
  CHECK(shell_split("'a b' \"c\\\"d\" e\\ f") == V{"a b", "c\"d", "e f"});
}
