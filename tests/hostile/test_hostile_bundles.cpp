// Bundles are never damaged by the tool that checks them: a refused seal
// changes nothing, debris of a killed run is neither sealed nor unreported,
// and refusals say exactly why.
#include <nlohmann/json.hpp>

#include "hostile_support.hpp"

namespace fs = hostile::fs;

namespace {

/// A sealed bundle made with the tools, as a user would make it.
fs::path sealed_bundle(const nbtest::TempDir& tmp) {
  const fs::path dir = tmp / "20261201T000000Z";
  REQUIRE(nbtest::run_tool("nbbundle", {"init", dir.string()}).exit_code == 0);
  nbtest::write_file(dir / "c_trace.log", "TRACE_C: I_before_scaling 943654.80923755\n");
  nbtest::write_file(dir / "notes.md", "# notes\n");
  REQUIRE(nbtest::run_tool("nbbundle", {"seal", dir.string()}).exit_code == 0);
  REQUIRE(nbtest::run_tool("nbbundle", {"verify", dir.string()}).exit_code == 0);
  return dir;
}

}  // namespace

TEST_CASE("a refused seal leaves env.json, git_sha.txt and sha256.txt as they were; the bundle still verifies") {
  nbtest::TempDir tmp;
  const fs::path dir = sealed_bundle(tmp);
  const std::string env = nbtest::read_file(dir / "env.json"), git = nbtest::read_file(dir / "git_sha.txt"),
                    manifest = nbtest::read_file(dir / "sha256.txt");
  fs::create_symlink("/etc/passwd", dir / "passwd");
  const auto r = nbtest::run_tool("nbbundle", {"seal", dir.string()});
  hostile::check_refusal(r, "nbbundle", 5, "symlink pointing outside the bundle");
  CHECK(nbtest::read_file(dir / "env.json") == env);
  CHECK(nbtest::read_file(dir / "git_sha.txt") == git);
  CHECK(nbtest::read_file(dir / "sha256.txt") == manifest);
  fs::remove(dir / "passwd");
  CHECK(nbtest::run_tool("nbbundle", {"verify", dir.string()}).exit_code == 0);
  const std::vector<std::string> left = hostile::tree(dir);
  CHECK(std::find(left.begin(), left.end(), ".nbstage") == left.end());
}

TEST_CASE("debris of a killed seal is not sealed in, and audit reports it (B015)") {
  nbtest::TempDir tmp;
  const fs::path dir = sealed_bundle(tmp);
  // What a killed writer leaves: its staging folder and an old-style temporary.
  nbtest::write_file(dir / ".nbstage/sha256.txt", "partial");
  nbtest::write_file(dir / "sha256.txt.tmp.4242", "partial");
  REQUIRE(nbtest::run_tool("nbbundle", {"seal", dir.string()}).exit_code == 0);
  const std::string manifest = nbtest::read_file(dir / "sha256.txt");
  CHECK(manifest.find(".nbstage") == std::string::npos);
  CHECK(manifest.find(".tmp.4242") == std::string::npos);
  CHECK(nbtest::run_tool("nbbundle", {"verify", dir.string()}).exit_code == 0);
  const auto audit = nbtest::run_tool("nbbundle", {"audit", dir.string(), "--json", "-"});
  CHECK(audit.exit_code == 0);  // a warning: the sealed files are intact
  const auto j = nlohmann::json::parse(audit.out);
  int stray = 0;
  for (const auto& f : j["findings"])
    if (f["code"] == "B015") ++stray;
  CHECK(stray == 2);
}

TEST_CASE("a symlink loop is refused as a loop, not as a way out of the bundle") {
  nbtest::TempDir tmp;
  const fs::path dir = sealed_bundle(tmp);
  fs::create_symlink("loop_b", dir / "loop_a");
  fs::create_symlink("loop_a", dir / "loop_b");
  const auto seal = nbtest::run_tool("nbbundle", {"seal", dir.string()});
  hostile::check_refusal(seal, "nbbundle", 5, "a symlink loop");
  // A manifest that lists the loop: verify refuses that entry as a loop.
  fs::remove(dir / "loop_b");
  fs::create_symlink("loop_a", dir / "loop_b");
  nbtest::write_file(dir / "sha256.txt", nbtest::read_file(dir / "sha256.txt") +
                                             "0000000000000000000000000000000000000000000000000000000000000000  loop_a\n");
  const auto verify = nbtest::run_tool("nbbundle", {"verify", dir.string()});
  CHECK(verify.exit_code == 4);
  CHECK(verify.out.find("symlink loop") != std::string::npos);
}
