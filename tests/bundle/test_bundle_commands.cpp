#include <sstream>

#include "nbtrace/bundle/bundle.hpp"
#include "nbtrace/base/error.hpp"
#include "test_support.hpp"

using namespace nbtrace::bundle;
namespace fs = std::filesystem;

namespace {
RunRecord make_run(const fs::path& cwd, std::vector<std::string> argv, int exit_code = 0) {
  RunRecord r;
  r.argv = std::move(argv);
  r.cwd = fs::canonical(cwd);
  r.start_utc = "2025-10-08T21:24:59Z";
  r.duration_s = 1.5;
  r.exit_code = exit_code;
  r.git = GitState{"f81b8a5003ee25ec3f2f1b9ff2db591325cf9918", true, false};
  return r;
}
}  // namespace

TEST_CASE("the hand-written seed commands.txt parses without entries and without crashing") {
  if (!nbtest::require_shared("seed commands.txt")) return;
  const std::string text =
      nbtest::read_file(nbtest::shared_dir() / "seed-bundle/20251008T212459Z/spec_baseline/commands.txt");
  const CommandsFile f = parse_commands(text);
  CHECK(f.entries.empty());
  CHECK_FALSE(f.bundle_id.has_value());
  REQUIRE(f.legacy_commands.size() == 6);
  CHECK(f.legacy_commands[1] ==
        "python scripts/validation/compare_scaling_traces.py --c "
        "reports/2025-10-cli-flags/phase_l/scaling_validation/20251008T212459Z/spec_baseline/c_trace_scaling.log "
        "--py reports/2025-10-cli-flags/phase_l/scaling_validation/20251008T212459Z/spec_baseline/"
        "trace_py_scaling.log --out "
        "reports/2025-10-cli-flags/phase_l/scaling_validation/20251008T212459Z/spec_baseline/summary.md");
  CHECK(f.legacy_commands[2] == "KMP_DUPLICATE_LIB_OK=TRUE pytest --collect-only -q tests/test_cli_scaling_phi0.py");
}

TEST_CASE("append_command writes parseable entries and detects reruns") {
  nbtest::TempDir dir;
  const fs::path bundle = dir / "20251008T212459Z";
  std::ostringstream err;
  CHECK(ensure_bundle(bundle, std::nullopt, err) == "20251008T212459Z");
  CHECK(err.str().empty());  // the folder name carries the id: no note

  const AppendResult a = append_command(bundle, make_run(dir.path(), {"nbtrace", "diff", "c.log", "py.log"}));
  CHECK(a.number == 1);
  CHECK_FALSE(a.rerun);
  CHECK(a.command_line == "nbtrace diff c.log py.log");  // ran in the bundle's parent: no cd
  const AppendResult b = append_command(bundle, make_run(bundle, {"sh", "-c", "exit 2"}, 2));
  CHECK(b.command_line == "(cd 20251008T212459Z && sh -c 'exit 2')");
  const AppendResult c = append_command(bundle, make_run(dir.path(), {"nbtrace", "diff", "c.log", "py.log"}));
  CHECK(c.number == 3);
  CHECK(c.rerun);
  CHECK(c.rerun_of == std::optional<std::size_t>(1));

  const std::string text = nbtest::read_file(bundle / "commands.txt");
  const CommandsFile f = parse_commands(text);
  CHECK(f.bundle_id == std::optional<std::string>("20251008T212459Z"));
  CHECK(f.problems.empty());
  REQUIRE(f.entries.size() == 3);
  CHECK(f.entries[0].fields.at("cwd") == "..");
  CHECK(f.entries[0].fields.at("run") == "first");
  CHECK(f.entries[0].fields.at("git") == "f81b8a5003ee25ec3f2f1b9ff2db591325cf9918");
  CHECK(f.entries[0].fields.at("dirty") == "yes");
  CHECK(f.entries[0].fields.at("duration_s") == "1.500");
  CHECK(f.entries[1].fields.at("cwd") == ".");
  CHECK(f.entries[1].fields.at("exit") == "2");
  CHECK(f.entries[2].fields.at("run") == "rerun");
  CHECK(f.entries[2].fields.at("of") == "1");
  CHECK(f.entries[2].command == "nbtrace diff c.log py.log");
  for (unsigned char ch : text) CHECK(ch < 0x80);
}

TEST_CASE("recorded command lines stay ASCII and re-run to the same bytes in sh") {
  nbtest::TempDir dir;
  fs::create_directories(dir / "b" / "work dir");
  RunRecord run = make_run(dir / "b" / "work dir", {"printf", "%s|", "\xce\x94 it's", "100%", "a\\b", "tab\tx"});
  const std::string line = recorded_command_line(dir / "b" / "bundle", run);
  for (unsigned char ch : line) CHECK((ch >= 0x20 && ch < 0x7f));
  CHECK(line.starts_with("(cd 'work dir' && printf "));
  // Running it from the bundle's parent prints the original arguments.
  const auto r = nbtest::run_process({"/bin/sh", "-c", line}, dir / "b");
  CHECK(r.exit_code == 0);
  CHECK(r.out == "\xce\x94 it's|100%|a\\b|tab\tx|");
}

TEST_CASE("field values with spaces are percent-encoded and decoded") {
  nbtest::TempDir dir;
  const fs::path bundle = dir / "my runs" / "20251008T212459Z";
  std::ostringstream err;
  ensure_bundle(bundle, std::nullopt, err);
  append_command(bundle, make_run(dir.path(), {"true"}));
  const CommandsFile f = parse_commands(nbtest::read_file(bundle / "commands.txt"));
  REQUIRE(f.entries.size() == 1);
  CHECK(f.entries[0].fields.at("cwd") == "../..");
  CHECK(f.entries[0].command == "(cd .. && true)");
}

TEST_CASE("ensure_bundle takes the id from the path, refuses contradictions, notes id-less names") {
  nbtest::TempDir dir;
  std::ostringstream err;
  CHECK_THROWS_AS(ensure_bundle(dir / "20251008T212459Z", std::string("20240101T000000Z"), err), nbtrace::UsageError);
  CHECK_THROWS_AS(ensure_bundle(dir / "x", std::string("2024"), err), nbtrace::UsageError);
  CHECK(ensure_bundle(dir / "plain", std::string("20240101T000000Z"), err) == "20240101T000000Z");
  CHECK(err.str().find("carries no bundle id") != std::string::npos);
  CHECK(nbtest::read_file(dir / "plain/commands.txt").starts_with("# nbbundle commands.txt v1 bundle=20240101T000000Z\n"));
  // An existing bundle keeps its id; asking for another is an error.
  CHECK(ensure_bundle(dir / "plain", std::nullopt, err) == "20240101T000000Z");
  CHECK_THROWS_AS(ensure_bundle(dir / "plain", std::string("20250101T000000Z"), err), nbtrace::UsageError);
}
