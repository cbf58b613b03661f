// Output sets are all-or-nothing: a failure keeps what was there and adds
// nothing, no staging debris is left.
#include "hostile_support.hpp"

TEST_CASE("nbsim -floatfile f.bin -intfile <a folder>: refused, f.bin untouched") {
  nbtest::TempDir dir;
  nbtest::write_file(dir / "f.bin", "previous image");
  hostile::fs::create_directory(dir / "i.img");
  const auto r = nbtest::run_tool("nbsim", {"-cell", "100", "100", "100", "90", "90", "90", "-default_F", "10", "-N", "2",
                                            "-lambda", "1", "-distance", "50", "-detpixels", "8", "-pixel", "0.1",
                                            "-floatfile", "f.bin", "-intfile", "i.img"},
                                  dir.path());
  CHECK(r.exit_code == 1);
  CHECK(r.err.find("i.img") != std::string::npos);
  CHECK(nbtest::read_file(dir / "f.bin") == "previous image");
  CHECK(hostile::tree(dir.path()) == std::vector<std::string>{"f.bin", "i.img"});
}

TEST_CASE("compare_scaling_traces whose metrics.json cannot be written leaves no summary.md") {
  nbtest::TempDir dir;
  hostile::fs::create_directory(dir / "metrics.json");  // a folder where the file should go
  const auto r = nbtest::run_tool("compare_scaling_traces",
                                  {"--c", hostile::demo_trace("c_trace_s27_f488.log"), "--py",
                                   hostile::demo_trace("py_trace_s27_f488.log"), "--out", (dir / "summary.md").string()});
  CHECK(r.exit_code == 1);
  CHECK(r.err.find("metrics.json") != std::string::npos);
  CHECK(hostile::tree(dir.path()) == std::vector<std::string>{"metrics.json"});
}

TEST_CASE("nbtrace diff with --json into a folder writes nothing, not half a report set") {
  nbtest::TempDir dir;
  hostile::fs::create_directory(dir / "out.json");
  const auto r = nbtest::run_tool("nbtrace", {"diff", hostile::demo_trace("c_trace_s27_f488.log"),
                                              hostile::demo_trace("py_trace_s27_f488.log"), "--json",
                                              (dir / "out.json").string(), "--md", (dir / "out.md").string()});
  CHECK(r.exit_code == 1);
  CHECK(r.err.find("out.json") != std::string::npos);
  CHECK(hostile::tree(dir.path()) == std::vector<std::string>{"out.json"});
}
