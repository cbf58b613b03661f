// nbbundle and compare_scaling_traces --bundle as a user runs them.
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "nbtrace/bundle/bundle.hpp"
#include "nbtrace/bundle/sha256.hpp"
#include "test_support.hpp"

namespace fs = std::filesystem;

namespace {
fs::path seed() { return nbtest::shared_dir() / "seed-bundle/20251008T212459Z/spec_baseline"; }
}  // namespace

TEST_CASE("nbbundle --help and every subcommand's --help") {
  const auto top = nbtest::run_tool("nbbundle", {"--help"});
  CHECK(top.exit_code == 0);
  for (const char* sub : {"init", "record", "seal", "verify", "audit"}) {
    CHECK(top.out.find(sub) != std::string::npos);
    const auto r = nbtest::run_tool("nbbundle", {sub, "--help"});
    CHECK_MESSAGE(r.exit_code == 0, sub);
    CHECK(r.out.find("DIR") != std::string::npos);
  }
  CHECK(nbtest::run_tool("nbbundle", {}).exit_code == 1);
  CHECK(nbtest::run_tool("nbbundle", {"verify"}).exit_code == 1);
}

TEST_CASE("init, record (first run, rerun, failure, capture), seal, verify, audit") {
  nbtest::TempDir tmp;
  const auto init = nbtest::run_tool("nbbundle", {"init", "runs", "--id", "20251008T212459Z"}, tmp.path());
  CHECK(init.exit_code == 0);
  CHECK(init.err.find("carries no bundle id") != std::string::npos);
  CHECK(nbtest::run_tool("nbbundle", {"init", "20251008T212459Z", "--id", "20240101T000000Z"}, tmp.path()).exit_code ==
        1);

  const fs::path b = tmp / "20251008T212459Z";
  CHECK(nbtest::run_tool("nbbundle", {"init", "20251008T212459Z"}, tmp.path()).exit_code == 0);
  auto r = nbtest::run_tool("nbbundle", {"record", "20251008T212459Z", "--capture", "hello", "--", "sh", "-c",
                                         "echo out; echo err >&2"},
                            tmp.path());
  CHECK(r.exit_code == 0);
  CHECK(nbtest::read_file(b / "hello.stdout.log") == "out\n");
  CHECK(nbtest::read_file(b / "hello.stderr.log") == "err\n");
  r = nbtest::run_tool("nbbundle", {"record", ".", "--", "sh", "-c", "exit 3"}, b);
  CHECK(r.exit_code == 3);  // record returns the command's code
  r = nbtest::run_tool("nbbundle", {"record", ".", "--", "sh", "-c", "exit 3"}, b);
  CHECK(r.exit_code == 3);
  CHECK(r.err.find("recorded entry 3") != std::string::npos);
  CHECK(r.err.find("rerun") != std::string::npos);
  r = nbtest::run_tool("nbbundle", {"record", ".", "--", "no-such-program-nb"}, b);
  CHECK(r.exit_code == 127);
  // Absolute paths: record warns about the ones audit reports (B005), not /bin/sh.
  r = nbtest::run_tool("nbbundle", {"record", "../scratch", "--", "/bin/sh", "-c", "true", "--out=/scratch/u1/x"}, b);
  CHECK(r.exit_code == 0);
  CHECK(r.err.find("warning: /scratch/u1/x is an absolute path") != std::string::npos);
  CHECK(r.err.find("/bin/sh is") == std::string::npos);
  r = nbtest::run_tool("nbbundle", {"audit", "../scratch", "--kind", "generic"}, b);
  CHECK(r.out.find("B005 error   commands.txt: line 6: absolute path /scratch/u1/x (bundles must be relocatable)\n") !=
        std::string::npos);
  CHECK(r.out.find("/bin/sh (") == std::string::npos);
    r = nbtest::run_tool("nbbundle", {"record", ".", "--", "sh", "-c", "kill -TERM $$"}, b);
  CHECK(r.exit_code == 143);  // killed by SIGTERM: 128 + 15, as sh reports it

  const auto cmds = nbtrace::bundle::parse_commands(nbtest::read_file(b / "commands.txt"));
  REQUIRE(cmds.entries.size() == 5);
  CHECK(cmds.entries[0].command == "sh -c 'echo out; echo err >&2'");
  CHECK(cmds.entries[0].fields.at("stdout") == "hello.stdout.log");
  CHECK(cmds.entries[0].fields.at("cwd") == "..");
  CHECK(cmds.entries[1].command == "(cd 20251008T212459Z && sh -c 'exit 3')");
  CHECK(cmds.entries[1].fields.at("exit") == "3");
  CHECK(cmds.entries[2].fields.at("run") == "rerun");
  CHECK(cmds.entries[2].fields.at("of") == "2");
  CHECK(cmds.entries[3].fields.at("exit") == "127");
  CHECK(cmds.entries[4].fields.at("exit") == "143");
  // The recorded line re-runs from the bundle's parent.
  CHECK(nbtest::run_process({"/bin/sh", "-c", cmds.entries[1].command}, tmp.path()).exit_code == 3);

  r = nbtest::run_tool("nbbundle", {"seal", "20251008T212459Z"}, tmp.path());
  CHECK(r.exit_code == 0);
  CHECK(r.out.find("sealed 20251008T212459Z: 5 files") == 0);
  r = nbtest::run_tool("nbbundle", {"verify", "--strict", "20251008T212459Z"}, tmp.path());
  CHECK(r.exit_code == 0);
  CHECK(r.out.find("sha256.txt: 5 listed, 5 OK, 0 FAILED, 0 MISSING, 0 REFUSED, 0 malformed, 0 not listed") !=
        std::string::npos);
  r = nbtest::run_tool("nbbundle", {"audit", "20251008T212459Z", "--json", "audit.json"}, tmp.path());
  CHECK(r.exit_code == 0);
  CHECK(r.out == "audit 20251008T212459Z (generic bundle): clean\n");
  CHECK(nlohmann::json::parse(nbtest::read_file(tmp / "audit.json"))["findings"].empty());

  nbtest::write_file(b / "hello.stdout.log", "tampered\n");
  r = nbtest::run_tool("nbbundle", {"verify", "20251008T212459Z"}, tmp.path());
  CHECK(r.exit_code == 4);
  CHECK(r.out.find("hello.stdout.log: FAILED\n") != std::string::npos);
  r = nbtest::run_tool("nbbundle", {"audit", "20251008T212459Z"}, tmp.path());
  CHECK(r.exit_code == 4);
  CHECK(r.out.find("B003 error   hello.stdout.log: SHA-256 ") == 0);
  CHECK(nbtest::run_tool("nbbundle", {"verify", "no-such-bundle"}, tmp.path()).exit_code == 5);
}

TEST_CASE("nbbundle on the seed bundle: verify and audit output") {
  if (!nbtest::require_shared("seed bundle via nbbundle")) return;
  auto r = nbtest::run_tool("nbbundle", {"verify", seed().string()});
  CHECK(r.exit_code == 4);
  CHECK(r.out == "analysis_20251008T212459Z.md: MISSING\nc_trace_scaling.log: OK\ncollect.log: OK\ncommands.txt: OK\n"
                 "env.json: OK\ngit_sha.txt: OK\nmetrics.json: OK\nsummary.md: OK\nsummary_addendum.md: MISSING\n"
                 "trace_py_scaling.log: OK\nsha256.txt: 10 listed, 8 OK, 0 FAILED, 2 MISSING, 0 REFUSED\n");
  CHECK(r.err.empty());  // no meter: stderr is not a terminal
  // --quiet keeps the lines that are not OK (as sha256sum --quiet) and the summary.
  r = nbtest::run_tool("nbbundle", {"verify", "--quiet", seed().string()});
  CHECK(r.exit_code == 4);
  CHECK(r.out == "analysis_20251008T212459Z.md: MISSING\nsummary_addendum.md: MISSING\n"
                 "sha256.txt: 10 listed, 8 OK, 0 FAILED, 2 MISSING, 0 REFUSED\n");
  // --progress on a pipe: lines, ending with the files hashed (the 10 listed).
  r = nbtest::run_tool("nbbundle", {"verify", "--progress", seed().string()});
  CHECK(r.exit_code == 4);
  CHECK(r.err.find("nbbundle verify: done 10/10 files in ") != std::string::npos);
  CHECK(nbtest::run_tool("nbbundle", {"verify", "--progress", "--quiet", seed().string()}).exit_code == 1);
  nbtest::TempDir tmp;
  r = nbtest::run_tool("nbbundle", {"audit", seed().string(), "--json", (tmp / "a.json").string()});
  CHECK(r.exit_code == 4);
  const auto j = nlohmann::json::parse(nbtest::read_file(tmp / "a.json"));
  CHECK(j["findings"].size() == 8);
  CHECK(j["errors"] == 7);
  CHECK(j["kind"] == "scaling");
}

TEST_CASE("compare_scaling_traces --bundle --seal makes a bundle that audits clean and passes sha256sum -c") {
  if (!nbtest::require_shared("seed traces for compare_scaling_traces --bundle")) return;
  nbtest::TempDir tmp;
  fs::create_directories(tmp / "traces");
  fs::copy_file(seed() / "c_trace_scaling.log", tmp / "traces/c_trace_scaling.log");
  fs::copy_file(seed() / "trace_py_scaling.log", tmp / "traces/trace_py_scaling.log");
  const std::vector<std::string> args{"--c", "traces/c_trace_scaling.log", "--py", "traces/trace_py_scaling.log",
                                      "--bundle", "runs/20251008T212459Z", "--seal"};
  auto r = nbtest::run_tool("compare_scaling_traces", args, tmp.path());
  REQUIRE_MESSAGE(r.exit_code == 0, r.err);
  const fs::path b = tmp / "runs/20251008T212459Z";
  CHECK(nbtest::read_file(b / "metrics.json") == nbtest::read_file(seed() / "metrics.json"));
  const auto meta = nlohmann::json::parse(nbtest::read_file(b / "run_metadata.json"));
  CHECK(meta["c_trace"] == "c_trace_scaling.log");
  CHECK(meta["py_trace"] == "trace_py_scaling.log");
  CHECK(meta["bundle_id"] == "20251008T212459Z");

  const auto cmds = nbtrace::bundle::parse_commands(nbtest::read_file(b / "commands.txt"));
  REQUIRE(cmds.entries.size() == 1);
  // The entry re-runs from the bundle's own copies of the traces.
  CHECK(cmds.entries[0].command ==
        "(cd .. && compare_scaling_traces --c runs/20251008T212459Z/c_trace_scaling.log --py "
        "runs/20251008T212459Z/trace_py_scaling.log --bundle runs/20251008T212459Z --seal)");
  CHECK(cmds.entries[0].fields.at("exit") == "0");
  CHECK(cmds.entries[0].fields.at("run") == "first");

  r = nbtest::run_tool("nbbundle", {"audit", "runs/20251008T212459Z"}, tmp.path());
  CHECK_MESSAGE(r.exit_code == 0, r.out);
  CHECK(r.out == "audit runs/20251008T212459Z (scaling bundle): clean\n");
  const auto sum = nbtest::run_process({"/usr/bin/env", "sha256sum", "-c", "--strict", "sha256.txt"}, b);
  CHECK_MESSAGE(sum.exit_code == 0, sum.out << sum.err);

  // Run it again: a rerun entry; a failing run is recorded with its code.
  r = nbtest::run_tool("compare_scaling_traces", args, tmp.path());
  CHECK(r.exit_code == 0);
  r = nbtest::run_tool("compare_scaling_traces",
                       {"--c", "traces/c_trace_scaling.log", "--py", "traces/none.log", "--bundle", "runs/20251008T212459Z"},
                       tmp.path());
  CHECK(r.exit_code == 5);
  const auto after = nbtrace::bundle::parse_commands(nbtest::read_file(b / "commands.txt"));
  REQUIRE(after.entries.size() == 3);
  CHECK(after.entries[1].fields.at("run") == "rerun");
  CHECK(after.entries[1].fields.at("of") == "1");
  CHECK(after.entries[2].fields.at("exit") == "5");
  CHECK(nbtest::run_tool("compare_scaling_traces", {"--c", "a", "--py", "b"}, tmp.path()).exit_code == 1);
  CHECK(nbtest::run_tool("compare_scaling_traces", {"--c", "a", "--py", "b", "--out", "x.md", "--seal"}, tmp.path())
            .exit_code == 1);
}

TEST_CASE("nbbundle verify and audit on tampered bundles: verdict lines and exit codes") {
  nbtest::TempDir tmp;
  const fs::path b = tmp / "20251008T212459Z";
  nbtest::write_file(b / "data.log", "0123456789\n");
  nbtest::write_file(b / "name with spaces.txt", "s\n");
  nbtest::write_file(b / "empty.log", "");
  REQUIRE(nbtest::run_tool("nbbundle", {"init", b.string()}).exit_code == 0);
  REQUIRE(nbtest::run_tool("nbbundle", {"seal", b.string()}).exit_code == 0);
  const std::string manifest = nbtest::read_file(b / "sha256.txt");
  const auto verify = [&](std::vector<std::string> extra = {}) {
    std::vector<std::string> args{"verify", b.string()};
    args.insert(args.end(), extra.begin(), extra.end());
    return nbtest::run_tool("nbbundle", args);
  };
  const auto audit_codes = [&] {
    const auto r = nbtest::run_tool("nbbundle", {"audit", b.string(), "--json", "-"});
    const auto j = nlohmann::json::parse(r.out);  // stdout is the JSON alone
    std::string codes;
    for (const auto& f : j["findings"]) codes += f["code"].get<std::string>() + " ";
    return std::make_pair(r.exit_code, codes);
  };
  CHECK(verify({"--strict"}).exit_code == 0);
  CHECK(audit_codes() == std::make_pair(0, std::string("B013 ")));  // nothing recorded yet: a warning

  SUBCASE("symlink to /etc/passwd") {
    fs::create_symlink("/etc/passwd", b / "passwd");
    nbtest::write_file(b / "sha256.txt", manifest + nbtrace::sha256_hex(nbtest::read_file("/etc/passwd")) + "  passwd\n");
    const auto r = verify();
    CHECK(r.exit_code == 4);
    CHECK(r.out.find("passwd: REFUSED (symlink pointing outside the bundle)\n") != std::string::npos);
    CHECK(audit_codes() == std::make_pair(4, std::string("B011 B013 ")));
  }
  SUBCASE("../ and absolute entries") {
    nbtest::write_file(b / "sha256.txt", manifest + std::string(64, '0') + "  ../x\n" + std::string(64, '0') + "  /etc/hostname\n");
    const auto r = verify();
    CHECK(r.exit_code == 4);
    CHECK(r.out.find("../x: REFUSED ('..' leaves the bundle)\n") != std::string::npos);
    CHECK(r.out.find("/etc/hostname: REFUSED (absolute path)\n") != std::string::npos);
    CHECK(audit_codes() == std::make_pair(4, std::string("B011 B011 B013 ")));
  }
  SUBCASE("flipped byte, truncation, deletion, addition") {
    nbtest::write_file(b / "data.log", "0123456789\r");
    fs::resize_file(b / "name with spaces.txt", 1);
    fs::remove(b / "empty.log");
    nbtest::write_file(b / "added.txt", "new");
    const auto r = verify();
    CHECK(r.exit_code == 4);
    CHECK(r.out.find("data.log: FAILED\n") != std::string::npos);
    CHECK(r.out.find("name with spaces.txt: FAILED\n") != std::string::npos);
    CHECK(r.out.find("empty.log: MISSING\n") != std::string::npos);
    CHECK(r.out.find("added.txt") == std::string::npos);  // not strict: unlisted files are not checked
    CHECK(verify({"--strict"}).out.find("added.txt: NOT LISTED\n") != std::string::npos);
    CHECK(audit_codes() == std::make_pair(4, std::string("B002 B003 B003 B004 B013 ")));
  }
  SUBCASE("a manifest that is a symlink out of the bundle is refused") {
    fs::remove(b / "sha256.txt");
    fs::create_symlink("/etc/passwd", b / "sha256.txt");
    const auto r = verify();
    CHECK(r.exit_code == 5);
    CHECK(r.err.find("sha256.txt: symlink pointing outside the bundle; refused") != std::string::npos);
  }
}

TEST_CASE("concurrent records of one bundle keep every entry") {
  nbtest::TempDir tmp;
  REQUIRE(nbtest::run_tool("nbbundle", {"init", "20251008T212459Z"}, tmp.path()).exit_code == 0);
  std::vector<std::thread> runs;
  std::vector<int> codes(6, -1);
  for (int i = 0; i < 6; ++i) {
    runs.emplace_back([&, i] {
      codes[i] = nbtest::run_tool("nbbundle", {"record", "20251008T212459Z", "--", "sh", "-c", "exit " + std::to_string(i)},
                                  tmp.path())
                     .exit_code;
    });
  }
  for (auto& t : runs) t.join();
  for (int i = 0; i < 6; ++i) CHECK(codes[i] == i);
  const auto cmds = nbtrace::bundle::parse_commands(nbtest::read_file(tmp / "20251008T212459Z/commands.txt"));
  REQUIRE(cmds.entries.size() == 6);
  std::set<std::string> exits, numbers;
  for (const auto& e : cmds.entries) {
    exits.insert(e.fields.at("exit"));
    numbers.insert(e.fields.at("n"));
  }
  CHECK(exits == std::set<std::string>{"0", "1", "2", "3", "4", "5"});
  CHECK(numbers == std::set<std::string>{"1", "2", "3", "4", "5", "6"});
}
