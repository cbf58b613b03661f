#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "nbtrace/bundle/bundle.hpp"
#include "nbtrace/base/error.hpp"
#include "nbtrace/bundle/sha256.hpp"
#include "test_support.hpp"

using namespace nbtrace::bundle;
using nbtrace::sha256_hex;
namespace fs = std::filesystem;

namespace {

fs::path seed() { return nbtest::shared_dir() / "seed-bundle/20251008T212459Z/spec_baseline"; }

std::vector<std::pair<std::string, std::string>> codes_and_files(const AuditResult& r) {
  std::vector<std::pair<std::string, std::string>> v;
  for (const Finding& f : r.findings) v.emplace_back(f.code, f.file);
  return v;
}

bool has(const AuditResult& r, const std::string& code, const std::string& file = "*") {
  for (const Finding& f : r.findings) {
    if (f.code == code && (file == "*" || f.file == file)) return true;
  }
  return false;
}

/// A clean, sealed generic bundle made the nbbundle way.
struct CleanBundle {
  nbtest::TempDir tmp;
  fs::path dir = tmp / "20251008T212459Z";
  CleanBundle() {
    std::ostringstream err;
    ensure_bundle(dir, std::nullopt, err);
    RunRecord run;
    run.argv = {"nbtrace", "diff", "c.log", "py.log"};
    run.cwd = fs::canonical(tmp.path());
    run.start_utc = "2025-10-08T21:24:59Z";
    run.git = GitState{"f81b8a5003ee25ec3f2f1b9ff2db591325cf9918", false, false};
    append_command(dir, run);
    nbtest::write_file(dir / "notes.md", "Run `nbtrace diff` from the parent; see https://example.org/a/b and /dev/null.\n");
    seal();
  }
  void seal() const { seal_bundle(SealOptions{dir.string(), "nbbundle", 2}); }
  AuditResult audit(std::string kind = "auto") const {
    AuditOptions o;
    o.dir = dir.string();
    o.kind = std::move(kind);
    o.threads = 2;
    return audit_bundle(o);
  }
};

}  // namespace

TEST_CASE("seed bundle: verify lists 10 files, 8 OK, the two absent prose files MISSING") {
  if (!nbtest::require_shared("seed bundle verify")) return;
  const VerifyResult r = verify_manifest(seed(), "sha256.txt", 2, true);
  CHECK(r.items.size() == 10);
  CHECK(r.count(Verdict::ok) == 8);
  CHECK(r.count(Verdict::failed) == 0);
  CHECK(r.count(Verdict::refused) == 0);
  std::vector<std::string> missing;
  for (const VerifyItem& i : r.items) {
    if (i.verdict == Verdict::missing) missing.push_back(i.entry.path);
  }
  CHECK(missing == std::vector<std::string>{"analysis_20251008T212459Z.md", "summary_addendum.md"});
  CHECK(r.unlisted == std::vector<std::string>{"pytest_collect.log", "run_metadata.json", "sha256_update.txt"});
  CHECK(!r.passes(false));
  const auto run = nbtest::run_tool("nbbundle", {"verify", seed().string()});
  CHECK(run.exit_code == 4);
  CHECK(run.out.find("sha256.txt: 10 listed, 8 OK, 0 FAILED, 2 MISSING, 0 REFUSED\n") != std::string::npos);
}

TEST_CASE("seed bundle: audit finds the missing, unlisted and absolute-path faults, and nothing false") {
  if (!nbtest::require_shared("seed bundle audit")) return;
  AuditOptions o;
  o.dir = seed().string();
  const AuditResult r = audit_bundle(o);
  CHECK(r.kind == "scaling");
  using P = std::pair<std::string, std::string>;
  CHECK(codes_and_files(r) == std::vector<P>{{"B002", "analysis_20251008T212459Z.md"},
                                             {"B002", "summary_addendum.md"},
                                             {"B004", "pytest_collect.log"},
                                             {"B004", "run_metadata.json"},
                                             {"B004", "sha256_update.txt"},
                                             {"B005", "run_metadata.json"},
                                             {"B005", "run_metadata.json"},
                                             {"B013", "commands.txt"}});
  CHECK(r.errors() == 7);
  CHECK(r.findings[5].message.find("line 6: absolute path /") == 0);
  CHECK(r.findings[5].message.find("/20251008T212459Z/spec_baseline/c_trace_scaling.log (bundles must be relocatable)") !=
        std::string::npos);
  CHECK(r.findings[7].severity == Severity::warning);
  // metrics.json was recomputed from the two traces and agrees (no B009);
  // the seed's own ids are consistent (no B008); git_sha.txt is hex (no B007).
}

TEST_CASE("a bundle made by nbbundle audits clean") {
  CleanBundle b;
  const AuditResult r = b.audit();
  CHECK(r.kind == "generic");
  CHECK_MESSAGE(r.findings.empty(), findings_json(r));
}

TEST_CASE("each audit code is found where its fault is") {
  CleanBundle b;
  SUBCASE("B001 manifest lists itself") {
    nbtest::write_file(b.dir / "sha256.txt",
                       nbtest::read_file(b.dir / "sha256.txt") + sha256_hex("x") + "  sha256.txt\n");
    const AuditResult r = b.audit();
    CHECK(has(r, "B001", "sha256.txt"));
    CHECK_FALSE(has(r, "B003"));
  }
  SUBCASE("B002 listed file missing, B003 hash mismatch, B004 not covered") {
    fs::remove(b.dir / "notes.md");
    nbtest::write_file(b.dir / "env.json", "{}\n");
    nbtest::write_file(b.dir / "extra.log", "x");
    const AuditResult r = b.audit();
    CHECK(has(r, "B002", "notes.md"));
    CHECK(has(r, "B003", "env.json"));
    CHECK(has(r, "B004", "extra.log"));
    CHECK(r.errors() == 3);
  }
  SUBCASE("B005 absolute paths in JSON, TXT and MD files, not in logs or URLs") {
    nbtest::write_file(b.dir / "run_metadata.json", "{\"c_trace\": \"/Users/alice/runs/c.log\"}\n");
    nbtest::write_file(b.dir / "readme.txt", "made with --out=/scratch/u1/out and C:\\Users\\bob\\x\n");
    nbtest::write_file(b.dir / "tool.log", "/Users/alice/in/a/log is fine here\n");
    b.seal();
    const AuditResult r = b.audit("generic");
    std::vector<std::string> msgs;
    for (const Finding& f : r.findings) {
      CHECK(f.code == "B005");
      msgs.push_back(f.file + ": " + f.message);
    }
    CHECK(msgs == std::vector<std::string>{
                      "readme.txt: line 1: absolute path /scratch/u1/out (bundles must be relocatable)",
                      "readme.txt: line 1: absolute path C:\\Users\\bob\\x (bundles must be relocatable)",
                      "run_metadata.json: line 1: absolute path /Users/alice/runs/c.log (bundles must be relocatable)"});
  }
  SUBCASE("B006 non-ASCII in commands.txt") {
    nbtest::write_file(b.dir / "commands.txt",
                       nbtest::read_file(b.dir / "commands.txt") + "# \xce\x94 note\n");
    b.seal();
    const AuditResult r = b.audit();
    REQUIRE(r.findings.size() == 1);
    CHECK(r.findings[0].code == "B006");
    CHECK(r.findings[0].message == "2 non-ASCII bytes (first on line 8); commands must paste into any shell");
  }
  SUBCASE("B007 git_sha.txt malformed or missing") {
    nbtest::write_file(b.dir / "git_sha.txt", "(to be updated post-commit)\n");  // after seal: seal writes it
    CHECK(has(b.audit(), "B007", "git_sha.txt"));
    fs::remove(b.dir / "git_sha.txt");
    const AuditResult r = b.audit();
    CHECK(has(r, "B007", "git_sha.txt"));
    CHECK(has(r, "B002", "git_sha.txt"));
  }
  SUBCASE("B008 ids inside the files against the folder name") {
    std::string cmds = nbtest::read_file(b.dir / "commands.txt");
    cmds.replace(cmds.find("bundle=20251008T212459Z"), 23, "bundle=20240101T000000Z");
    nbtest::write_file(b.dir / "commands.txt", cmds);
    nbtest::write_file(b.dir / "summary.md", "Outputs: reports/20240101T000000Z/c.log (copied from another run)\n");
    b.seal();
    const AuditResult r = b.audit();
    CHECK(has(r, "B008", "commands.txt"));
    CHECK(has(r, "B008", "env.json"));  // seal wrote the id it found in commands.txt
    CHECK(has(r, "B008", "summary.md") == false);  // c.log is not a file of this bundle
  }
  SUBCASE("B010 required files missing; B013 hand-written commands") {
    nbtest::write_file(b.dir / "commands.txt", "# how we did it\npython run.py \\\n  --fast\n");
    b.seal();
    AuditResult r = b.audit();
    CHECK(has(r, "B013", "commands.txt"));
    CHECK(r.errors() == 0);  // hand-written commands are a warning
    fs::remove(b.dir / "commands.txt");
    b.seal();
    r = b.audit("scaling");
    CHECK(has(r, "B010", "commands.txt"));
    CHECK(has(r, "B010", "metrics.json"));
    CHECK(has(r, "B010", "summary.md"));
    CHECK(has(r, "B010", ""));  // the two traces
    fs::remove(b.dir / "sha256.txt");
    CHECK(has(b.audit(), "B010", "sha256.txt"));
  }
  SUBCASE("B011 unsafe entries and B012 malformed lines") {
    nbtest::write_file(b.dir / "sha256.txt", nbtest::read_file(b.dir / "sha256.txt") + sha256_hex("x") +
                                                  "  ../x\n" + sha256_hex("x") + "  /etc/passwd\nnot a line\n");
    const AuditResult r = b.audit();
    int unsafe = 0;
    for (const Finding& f : r.findings) unsafe += f.code == "B011";
    CHECK(unsafe == 2);
    CHECK(has(r, "B012", "sha256.txt"));
  }
  SUBCASE("B014 BSD lines are a warning only") {
    const Manifest m = parse_manifest(nbtest::read_file(b.dir / "sha256.txt"));
    std::string bsd;
    for (const ManifestEntry& e : m.entries) bsd += "SHA256 (" + e.path + ") = " + e.hex + "\n";
    nbtest::write_file(b.dir / "sha256.txt", bsd);
    const AuditResult r = b.audit();
    REQUIRE(r.findings.size() == 1);
    CHECK(r.findings[0].code == "B014");
    CHECK(r.errors() == 0);
  }
}

TEST_CASE("B008 sees a sub-bundle that names itself by another run's id") {
  nbtest::TempDir tmp;
  const fs::path dir = tmp / "20251008T212459Z" / "spec_baseline";
  std::ostringstream err;
  ensure_bundle(dir, std::nullopt, err);
  nbtest::write_file(dir / "notes.md", "outputs in reports/20251007T000000Z/spec_baseline/summary.md\n"
                                       "compare with ../20251008T075949Z/lattice_hypotheses.md\n");
  seal_bundle(SealOptions{dir.string(), "nbbundle", 1});
  AuditOptions o;
  o.dir = dir.string();
  const AuditResult r = audit_bundle(o);
  REQUIRE(r.findings.size() == 2);  // B008 + B013 (no command recorded)
  CHECK(r.findings[0].code == "B008");
  CHECK(r.findings[0].message == "line 1: refers to this bundle as 20251007T000000Z, but its folder says 20251008T212459Z");
}

TEST_CASE("B009: metrics.json is recomputed from the traces") {
  if (!nbtest::require_shared("seed traces for B009")) return;
  nbtest::TempDir tmp;
  const fs::path dir = tmp / "20251008T212459Z";
  fs::create_directories(dir);
  for (const char* f : {"c_trace_scaling.log", "trace_py_scaling.log", "metrics.json", "summary.md", "commands.txt"}) {
    fs::copy_file(seed() / f, dir / f);
  }
  nbtest::write_file(dir / "git_sha.txt", "e5d303f\n");
  seal_bundle(SealOptions{dir.string(), "nbbundle", 1});
  AuditOptions o;
  o.dir = dir.string();
  CHECK_FALSE(has(audit_bundle(o), "B009"));
  std::string metrics = nbtest::read_file(dir / "metrics.json");
  metrics.replace(metrics.find("805473.78705817"), 15, "805473.78705917");  // a stale py_value
  nbtest::write_file(dir / "metrics.json", metrics);
  seal_bundle(SealOptions{dir.string(), "nbbundle", 1});
  const AuditResult r = audit_bundle(o);
  REQUIRE(has(r, "B009", "metrics.json"));
  for (const Finding& f : r.findings) {
    if (f.code == "B009") {
      CHECK(f.message == "disagrees with c_trace_scaling.log and trace_py_scaling.log: factors.I_before_scaling.py_value "
                         "is 805473.78705917, traces give 805473.78705817");
    }
  }
  nbtest::write_file(dir / "metrics.json", "{ not json");
  seal_bundle(SealOptions{dir.string(), "nbbundle", 1});
  CHECK(has(audit_bundle(o), "B009", "metrics.json"));
}

TEST_CASE("findings_json has code, severity, file and message for every finding") {
  CleanBundle b;
  fs::remove(b.dir / "notes.md");
  nbtest::write_file(b.dir / "commands.txt", "# hand made\nrun it\n");
  const AuditResult r = b.audit();
  const auto j = nlohmann::json::parse(findings_json(r));
  REQUIRE(j["findings"].size() == r.findings.size());
  std::set<std::string> codes;
  for (const auto& f : j["findings"]) {
    CHECK(f.size() == 4);
    codes.insert(f["code"].get<std::string>());
    CHECK((f["severity"] == "error" || f["severity"] == "warning"));
    CHECK(f["file"].is_string());
    CHECK(f["message"].is_string());
  }
  CHECK(codes == std::set<std::string>{"B002", "B003", "B013"});
  CHECK(j["errors"] == 2);
}
