// No raw exception text, no crash, no terminal control sequence from input:
// each bad input gets one line naming it.
#include "hostile_support.hpp"

TEST_CASE("a folder given as a trace: one line, exit 5 (it was std::bad_alloc)") {
  nbtest::TempDir dir;
  const auto r = nbtest::run_tool("nbtrace", {"diff", dir.path().string(), hostile::demo_trace("py_trace_s27_f488.log")});
  hostile::check_refusal(r, "nbtrace", 5, "is a folder, not a trace log");
  const auto scaling = nbtest::run_tool("compare_scaling_traces", {"--c", dir.path().string(), "--py",
                                                                   hostile::demo_trace("py_trace_s27_f488.log"), "--out",
                                                                   (dir / "s.md").string()});
  hostile::check_refusal(scaling, "compare_scaling_traces", 5, "is a folder, not a trace log");
}

TEST_CASE("control characters from input are escaped in messages") {
  nbtest::TempDir dir;
  // A file name carrying an escape sequence that would clear the screen.
  const std::string name = "bad\x1b[2Jname.log";
  const auto r = nbtest::run_tool("nbtrace", {"diff", (dir / name).string(), hostile::demo_trace("py_trace_s27_f488.log")});
  CHECK(r.exit_code == 5);
  CHECK(r.err.find('\x1b') == std::string::npos);
  CHECK(r.err.find("bad\\x1b[2Jname.log") != std::string::npos);
  // A malformed record whose name holds a bell and a carriage return.
  nbtest::write_file(dir / "c.log", "TRACE_C: al\x07pha\r 1.2.3\n");
  const auto rec = nbtest::run_tool("nbtrace", {"show", (dir / "c.log").string()});
  CHECK(rec.exit_code == 5);
  CHECK(rec.err.find('\x07') == std::string::npos);
}

TEST_CASE("nbparity run --pixels with words or huge numbers: a usage line, not std::stoi") {
  for (const std::string bad : {"a,b", "1,99999999999999999999", "3,-4", "12"}) {
    const auto r = nbtest::run_tool("nbparity", {"run", "--ref-bin", "/bin/true", "--pixels",
                                                 bad, "--", "-detpixels", "8"});
    CAPTURE(bad);
    hostile::check_refusal(r, "nbparity", 1, "expected SLOW,FAST");
  }
}

TEST_CASE("a bad option holding an escape sequence: CLI11's message is escaped too, in every tool") {
  const std::vector<std::vector<std::string>> commands{
      {"nbtrace", "diff", "a.log", "b.log"},
      {"nbbundle", "verify", "dir"},
      {"nbparity", "run", "--ref-bin", "x"},
      {"compare_scaling_traces", "--c", "a.log", "--py", "b.log", "--out", "s.md"},
      {"nb-compare"}};
  for (std::vector<std::string> args : commands) {
    const std::string tool = args.front();
    args.erase(args.begin());
    args.push_back("--bogus\x1b[2J");
    const auto r = nbtest::run_tool(tool, args);
    CAPTURE(tool);
    CHECK(r.exit_code == 1);
    CHECK(r.err.find('\x1b') == std::string::npos);
    CHECK(r.err.find("--bogus\\x1b[2J") != std::string::npos);
  }
}
