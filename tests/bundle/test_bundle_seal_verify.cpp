#include <unistd.h>

#include <cstdlib>
#include <sstream>

#include "nbtrace/bundle/bundle.hpp"
#include "nbtrace/base/error.hpp"
#include "nbtrace/bundle/sha256.hpp"
#include "test_support.hpp"

using namespace nbtrace::bundle;
using nbtrace::sha256_hex;
namespace fs = std::filesystem;

namespace {

/// A sealed bundle with awkward names: spaces, a backslash, a 0-byte file,
/// a subfolder.
struct SealedBundle {
  nbtest::TempDir tmp;
  fs::path dir = tmp / "20251008T212459Z";
  SealedBundle() {
    std::ostringstream err;
    ensure_bundle(dir, std::nullopt, err);
    nbtest::write_file(dir / "c_trace.log", "TRACE_C: I_before_scaling 943654.80923755\n");
    nbtest::write_file(dir / "name with spaces.md", "# notes\n");
    nbtest::write_file(dir / "back\\slash.txt", "b\n");
    nbtest::write_file(dir / "empty.log", "");
    nbtest::write_file(dir / "logs/run.log", "ok\n");
    seal_bundle(SealOptions{dir.string(), "nbbundle", 2});
  }
  /// nbbundle verify's exit code: 0 when the manifest passes, else 4.
  int verify(bool strict = false) const {
    return verify_manifest(dir, "sha256.txt", 2, strict).passes(strict) ? 0 : 4;
  }
  Verdict verdict_of(const std::string& path) const {
    for (const VerifyItem& i : verify_manifest(dir, "sha256.txt", 2, false).items) {
      if (i.entry.path == path) return i.verdict;
    }
    FAIL("not listed: " << path);
    return Verdict::failed;
  }
  void append_manifest(const std::string& line) const {
    nbtest::write_file(dir / "sha256.txt", nbtest::read_file(dir / "sha256.txt") + line);
  }
};

std::string find_program(const std::string& name) {
  const char* path = std::getenv("PATH");
  std::istringstream dirs(path ? path : "/usr/bin:/bin");
  for (std::string d; std::getline(dirs, d, ':');) {
    const fs::path p = fs::path(d) / name;
    if (::access(p.c_str(), X_OK) == 0) return p.string();
  }
  return {};
}

}  // namespace

TEST_CASE("seal lists every file but the manifest, sorted, GNU-escaped, and writes env.json and git_sha.txt") {
  SealedBundle b;
  const std::string manifest = nbtest::read_file(b.dir / "sha256.txt");
  const Manifest m = parse_manifest(manifest);
  CHECK(m.malformed.empty());
  std::vector<std::string> paths;
  for (const ManifestEntry& e : m.entries) paths.push_back(e.path);
  CHECK(paths == std::vector<std::string>{"back\\slash.txt", "c_trace.log", "commands.txt", "empty.log", "env.json",
                                          "git_sha.txt", "logs/run.log", "name with spaces.md"});
  CHECK(manifest.find("\\" + sha256_hex("b\n") + "  back\\\\slash.txt\n") != std::string::npos);
  CHECK(manifest.find(sha256_hex("") + "  empty.log\n") != std::string::npos);
  CHECK(manifest.find("sha256.txt") == std::string::npos);

  const std::string env = nbtest::read_file(b.dir / "env.json");
  for (const char* key : {"\"tool_version\"", "\"compiler\"", "\"cxx_flags\"", "\"os\"", "\"cpu\"", "\"threads\"",
                          "\"bundle_id\": \"20251008T212459Z\""}) {
    CHECK_MESSAGE(env.find(key) != std::string::npos, key);
  }
  const std::string sha = nbtest::read_file(b.dir / "git_sha.txt");
  CHECK(sha.size() >= 41);
  CHECK(sha.back() == '\n');
  CHECK(b.verify(true) == 0);
}

TEST_CASE("coreutils sha256sum -c --strict accepts a sealed bundle") {
  const std::string sha256sum = find_program("sha256sum");
  if (sha256sum.empty()) {
    MESSAGE("SKIPPED: sha256sum not on PATH");
    return;
  }
  SealedBundle b;
  nbtest::write_file(b.dir / "new\nline.txt", "n");
  seal_bundle(SealOptions{b.dir.string(), "nbbundle", 1});
  const auto r = nbtest::run_process({sha256sum, "-c", "--strict", "sha256.txt"}, b.dir);
  CHECK_MESSAGE(r.exit_code == 0, r.out << r.err);
  CHECK(r.out.find("name with spaces.md: OK") != std::string::npos);
  CHECK(r.err.empty());
}

TEST_CASE("resealing reports what changed against the old manifest") {
  SealedBundle b;
  nbtest::write_file(b.dir / "c_trace.log", "changed\n");
  nbtest::write_file(b.dir / "added.txt", "new\n");
  fs::remove(b.dir / "empty.log");
  const SealResult r = seal_bundle(SealOptions{b.dir.string(), "nbbundle", 2});
  CHECK(r.added == std::vector<std::string>{"added.txt"});
  CHECK(std::find(r.changed.begin(), r.changed.end(), "c_trace.log") != r.changed.end());
  CHECK(r.removed == std::vector<std::string>{"empty.log"});
  CHECK(b.verify(true) == 0);
}

TEST_CASE("seal refuses a symlink out of the bundle and leaves the old manifest") {
  SealedBundle b;
  const std::string before = nbtest::read_file(b.dir / "sha256.txt");
  fs::create_symlink("/etc/passwd", b.dir / "passwd");
  CHECK_THROWS_AS(seal_bundle(SealOptions{b.dir.string(), "nbbundle", 2}), nbtrace::InputError);
  CHECK(nbtest::read_file(b.dir / "sha256.txt") == before);
  for (const auto& e : fs::directory_iterator(b.dir)) CHECK(e.path().filename().string().find(".tmp.") == std::string::npos);
}

TEST_CASE("tampering: each fault gives its verdict and exit code") {
  SUBCASE("one flipped byte") {
    SealedBundle b;
    std::string t = nbtest::read_file(b.dir / "c_trace.log");
    t[3] ^= 1;
    nbtest::write_file(b.dir / "c_trace.log", t);
    CHECK(b.verdict_of("c_trace.log") == Verdict::failed);
    CHECK(b.verify() == 4);
  }
  SUBCASE("a truncated file") {
    SealedBundle b;
    fs::resize_file(b.dir / "c_trace.log", 5);
    CHECK(b.verdict_of("c_trace.log") == Verdict::failed);
    CHECK(b.verify() == 4);
  }
  SUBCASE("a deleted file") {
    SealedBundle b;
    fs::remove(b.dir / "logs/run.log");
    CHECK(b.verdict_of("logs/run.log") == Verdict::missing);
    CHECK(b.verify() == 4);
  }
  SUBCASE("an added file fails only --strict") {
    SealedBundle b;
    nbtest::write_file(b.dir / "extra.txt", "x");
    CHECK(b.verify(false) == 0);
    CHECK(b.verify(true) == 4);
    CHECK(verify_manifest(b.dir, "sha256.txt", 1, true).unlisted == std::vector<std::string>{"extra.txt"});
  }
  SUBCASE("a manifest line with ../ (correct hash of the outside file) is refused") {
    SealedBundle b;
    nbtest::write_file(b.tmp / "outside.txt", "secret");
    b.append_manifest(sha256_hex("secret") + "  ../outside.txt\n");
    CHECK(b.verdict_of("../outside.txt") == Verdict::refused);
    CHECK(b.verify() == 4);
  }
  SUBCASE("an absolute path is refused") {
    SealedBundle b;
    nbtest::write_file(b.tmp / "abs.txt", "secret");
    b.append_manifest(sha256_hex("secret") + "  " + (b.tmp / "abs.txt").string() + "\n");
    CHECK(b.verdict_of((b.tmp / "abs.txt").string()) == Verdict::refused);
    CHECK(b.verify() == 4);
  }
  SUBCASE("a symlink to /etc/passwd listed with its true hash is refused, not read") {
    SealedBundle b;
    fs::create_symlink("/etc/passwd", b.dir / "passwd");
    b.append_manifest(sha256_hex(nbtest::read_file("/etc/passwd")) + "  passwd\n");
    CHECK(b.verdict_of("passwd") == Verdict::refused);
    CHECK(b.verify() == 4);
  }
  SUBCASE("a 0-byte file, names with spaces and a backslash verify") {
    SealedBundle b;
    CHECK(b.verdict_of("empty.log") == Verdict::ok);
    CHECK(b.verdict_of("name with spaces.md") == Verdict::ok);
    CHECK(b.verdict_of("back\\slash.txt") == Verdict::ok);
    nbtest::write_file(b.dir / "empty.log", "now not empty");
    CHECK(b.verdict_of("empty.log") == Verdict::failed);
  }
  SUBCASE("a malformed line fails only --strict") {
    SealedBundle b;
    b.append_manifest("this is not a checksum line\n");
    CHECK(b.verify(false) == 0);
    CHECK(b.verify(true) == 4);
  }
}

TEST_CASE("verify: BSD lines and the * marker are accepted with a warning; no valid line is an input error") {
  SealedBundle b;
  nbtest::write_file(b.dir / "bsd.txt", "SHA256 (c_trace.log) = " + sha256_hex(nbtest::read_file(b.dir / "c_trace.log")) +
                                            "\n" + sha256_hex("") + " *empty.log\n");
  const auto run = nbtest::run_tool("nbbundle", {"verify", b.dir.string(), "--manifest", "bsd.txt", "-j", "1"});
  CHECK(run.exit_code == 0);
  CHECK(run.out == "c_trace.log: OK\nempty.log: OK\nbsd.txt: 2 listed, 2 OK, 0 FAILED, 0 MISSING, 0 REFUSED\n");
  CHECK(run.err.find("bsd.txt:1: BSD-style line accepted") != std::string::npos);
  CHECK(run.err.find("bsd.txt:2: '*' binary marker accepted") != std::string::npos);

  nbtest::write_file(b.dir / "junk.txt", "nothing here\n");
  CHECK(verify_manifest(b.dir, "junk.txt", 1, false).items.empty());
  const auto junk = nbtest::run_tool("nbbundle", {"verify", b.dir.string(), "--manifest", "junk.txt"});
  CHECK(junk.exit_code == 5);
  CHECK(junk.err.find("junk.txt: no properly formatted SHA-256 checksum lines found") != std::string::npos);
  CHECK_THROWS_AS(verify_manifest(b.dir, "absent.txt", 1, false), nbtrace::InputError);
  CHECK_THROWS_AS(verify_manifest(b.dir, "../x", 1, false), nbtrace::UsageError);
}

TEST_CASE("verify gives the same verdicts on one thread and on several") {
  SealedBundle b;
  fs::remove(b.dir / "empty.log");
  nbtest::write_file(b.dir / "c_trace.log", "tampered");
  const VerifyResult one = verify_manifest(b.dir, "sha256.txt", 1, false);
  const VerifyResult many = verify_manifest(b.dir, "sha256.txt", 4, false);
  REQUIRE(one.items.size() == many.items.size());
  for (std::size_t i = 0; i < one.items.size(); ++i) CHECK(one.items[i].verdict == many.items[i].verdict);
  CHECK(one.count(Verdict::ok) == 6);
  CHECK(one.count(Verdict::failed) == 1);
  CHECK(one.count(Verdict::missing) == 1);
}

TEST_CASE("nvidia_gpus reads the driver's /proc files (closed and open kernel module forms)") {
  nbtest::TempDir proc;
  CHECK(nvidia_gpus(proc.path()).empty());  // no driver: no GPU key in env.json
  nbtest::write_file(proc / "version",
                     "NVRM version: NVIDIA UNIX Open Kernel Module for x86_64  550.54.14  Release Build  (dvs-builder@U16)\n"
                     "GCC version:  gcc version 12.2.0\n");
  nbtest::write_file(proc / "gpus/0000:19:00.0/information",
                     "Model: \t\t NVIDIA H100 80GB HBM3\nIRQ:   \t\t 17\nGPU UUID: \t GPU-1\n");
  nbtest::write_file(proc / "gpus/0000:3b:00.0/information", "Model: \t\t NVIDIA H200\n");
  const auto gpus = nvidia_gpus(proc.path());
  REQUIRE(gpus.size() == 2);
  CHECK(gpus[0].model == "NVIDIA H100 80GB HBM3");
  CHECK(gpus[0].driver == "550.54.14");
  CHECK(gpus[1].model == "NVIDIA H200");
  nbtest::write_file(proc / "version", "NVRM version: NVIDIA UNIX x86_64 Kernel Module  535.104.05  Sat Aug 19 01:15:15 UTC 2023\n");
  CHECK(nvidia_gpus(proc.path())[0].driver == "535.104.05");
}

TEST_CASE("sealing over sealed sub-bundles reuses their digests, but never for a file changed since") {
  nbtest::TempDir tmp;
  const fs::path root = tmp / "batch";
  std::ostringstream err;
  ensure_bundle(root, std::nullopt, err);
  for (const char* job : {"job-a", "job-b"}) {
    ensure_bundle(root / job, std::nullopt, err);
    nbtest::write_file(root / job / "image.bin", std::string("pixels of ") + job);
    seal_bundle(SealOptions{(root / job).string(), "nbbundle", 1});
  }
  nbtest::write_file(root / "batch.json", "{}\n");
  SealOptions reuse{root.string(), "nbbundle", 1};
  reuse.reuse_subbundle_digests = true;
  seal_bundle(reuse);
  const std::string reused = nbtest::read_file(root / "sha256.txt");
  seal_bundle(SealOptions{root.string(), "nbbundle", 1});
  CHECK(nbtest::read_file(root / "sha256.txt") == reused);  // the same manifest as hashing everything
  CHECK(reused.find(sha256_hex("pixels of job-a") + "  job-a/image.bin") != std::string::npos);

  // A file rewritten after its sub-bundle was sealed is hashed afresh.
  const fs::path image = root / "job-b/image.bin";
  nbtest::write_file(image, "changed pixels");
  fs::last_write_time(image, fs::last_write_time(root / "job-b/sha256.txt") + std::chrono::seconds(2));
  seal_bundle(reuse);
  CHECK(nbtest::read_file(root / "sha256.txt").find(sha256_hex("changed pixels") + "  job-b/image.bin") !=
        std::string::npos);

  // One changed with its old time kept takes the sub-manifest's digest, and
  // verify (which hashes every file) then reports it.
  nbtest::write_file(root / "job-a/image.bin", "tampered");
  fs::last_write_time(root / "job-a/image.bin", fs::last_write_time(root / "job-a/sha256.txt") - std::chrono::seconds(2));
  seal_bundle(reuse);
  Verdict v = Verdict::ok;
  for (const VerifyItem& i : verify_manifest(root, "sha256.txt", 1, false).items)
    if (i.entry.path == "job-a/image.bin") v = i.verdict;
  CHECK(v != Verdict::ok);
}
