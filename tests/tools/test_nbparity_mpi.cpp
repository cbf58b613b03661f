// nbparity batch under mpirun (issue 8 acceptance): 40 jobs — golden cases,
// small simulations, two parity checks, three made to fail — on 4 ranks;
// every output checked, results equal to a single-rank run bit for bit; a
// rank killed mid-run leaves its job "not done", and --resume completes it.
#include <nlohmann/json.hpp>

#include <map>
#include <set>

#include "test_support.hpp"

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

#ifdef NBTEST_MPIEXEC
constexpr const char* kMpiexec = NBTEST_MPIEXEC;
#else
constexpr const char* kMpiexec = "";
#endif

// Golden cases small enough for a 2-core CI machine (the 1024² and
// supervisor cases are left to the nbsim suites).
const std::vector<std::string> kGolden{
    "absorption_256", "adxv_convention_256", "cubic_tilted_256", "demo_scaling",     "mosaic_256",
    "noise_smv_128",  "phi_osc_256",         "polar_oversample_256", "round_xtal_256", "simple_cubic_256",
    "sourcefile_128", "sparse_hkl_64",       "tophat_256",       "triclinic_P1_512", "xds_convention_256"};

/// The golden command's arguments, c-parity, inputs named by absolute path.
std::vector<std::string> golden_args(const std::string& name) {
  const fs::path dir = nbtest::shared_dir() / "golden" / name;
  const json c = json::parse(nbtest::read_file(dir / "case.json"));
  std::vector<std::string> args{"-mode", "c-parity"};
  const auto cmd = c.at("image_command").get<std::vector<std::string>>();
  for (std::size_t i = 1; i < cmd.size(); ++i) {
    std::string a = cmd[i];
    static const std::set<std::string> kInputFlags{"-mat", "-hkl", "-sourcefile", "-img", "-mask", "-stolfile"};
    if (kInputFlags.count(cmd[i - 1])) a = (dir / a).string();
    args.push_back(a);
  }
  return args;
}

std::vector<std::string> small_args(int i) {
  return {"-cell",     std::to_string(60 + 3 * i), "100", "100", "90", "90", "90", "-default_F", "100", "-N", "3",
          "-lambda",   "1.2",  "-distance", "90", "-detpixels", std::to_string(24 + 4 * (i % 6)), "-pixel", "0.2",
          "-misset",   std::to_string(i), std::to_string(2 * i), "0"};
}

struct Batch {
  fs::path jobs_file;
  std::set<std::string> golden_ids, failing_ids;
  std::string divergent_id, parity_ok_id;
  std::size_t count = 0;
};

Batch write_jobs(const fs::path& dir) {
  Batch b;
  std::string text = "# issue 8 acceptance: 40 jobs\n";
  auto add = [&](const json& j) {
    text += j.dump() + "\n";
    ++b.count;
  };
  for (const std::string& g : kGolden) {
    add({{"id", "golden-" + g}, {"args", golden_args(g)}});
    b.golden_ids.insert("golden-" + g);
  }
  for (int i = 0; i < 20; ++i) add({{"id", "small-" + std::to_string(i)}, {"args", small_args(i)}});
  // Parity against nbsim itself (no reference binary in CI): spec vs spec
  // agrees; spec vs c-parity on the phi-sweep case differs by the
  // documented phi carry-over, so that job is "divergent".
  const std::string nbsim = (nbtest::bin_dir() / "nbsim").string();
  b.parity_ok_id = "parity-same";
  add({{"id", b.parity_ok_id},
       {"args", small_args(3)},
       {"parity", {{"ref_bin", nbsim}, {"mode", "spec"}, {"pixels", {{10, 12}}}, {"correlation_min", 0.999999}}}});
  std::vector<std::string> demo = golden_args("demo_scaling");
  demo.erase(demo.begin(), demo.begin() + 2);  // the reference side runs in spec mode
  b.divergent_id = "parity-carry";
  add({{"id", b.divergent_id},
       {"args", demo},
       {"parity", {{"ref_bin", nbsim}, {"mode", "c-parity"}, {"auto_pixels", 1}, {"max_abs_diff_rel", 1e-9}}}});
  add({{"id", "fail-flag"}, {"args", {"-no_such_flag", "1"}}});
  add({{"id", "fail-input"}, {"args", {"-hkl", "missing.hkl", "-detpixels", "8"}}});
  add({{"id", "fail-value"}, {"args", {"-cell", "100", "100", "100", "90", "90", "90", "-N", "abc"}}});
  b.failing_ids = {"fail-flag", "fail-input", "fail-value"};
  b.jobs_file = dir / "jobs.jsonl";
  nbtest::write_file(b.jobs_file, text);
  return b;
}

nbtest::ProcessResult mpirun(int ranks, std::vector<std::string> args, const fs::path& cwd) {
  std::vector<std::string> argv{kMpiexec, "--oversubscribe", "--allow-run-as-root", "-n", std::to_string(ranks),
                                (nbtest::bin_dir() / "nbparity").string()};
  argv.insert(argv.end(), args.begin(), args.end());
  return nbtest::run_process(argv, cwd);
}

std::map<std::string, json> by_id(const json& batch) {
  std::map<std::string, json> m;
  for (const auto& j : batch.at("jobs")) m[j.at("id").get<std::string>()] = j;
  return m;
}

bool mpi_ready(const char* what) {
  if (std::string(kMpiexec).empty()) {
    ++nbtest::entered_count();
    MESSAGE("SKIPPED (" << what << "): nbparity was built without MPI (install libopenmpi-dev, -DNB_MPI=AUTO)");
    ++nbtest::skipped_count();
    return false;
  }
  // mpirun itself must work here (an environment without usable
  // transports or process slots is not a failure of nbparity).
  static const nbtest::ProcessResult probe = nbtest::run_process(
      {kMpiexec, "--oversubscribe", "--allow-run-as-root", "-n", "2", "/bin/sh", "-c", "exit 0"});
  if (probe.exit_code != 0) {
    ++nbtest::entered_count();
    ++nbtest::skipped_count();
    MESSAGE("SKIPPED (" << what << "): " << kMpiexec << " cannot start 2 processes here (exit " << probe.exit_code
                        << "): " << probe.err.substr(0, 600));
    return false;
  }
  return nbtest::require_shared(what);
}

}  // namespace

TEST_CASE("mpirun -n 4: 40 jobs, every output checked, equal to one rank bit for bit; a killed rank, then --resume") {
  if (!mpi_ready("nbparity batch over MPI")) return;
  nbtest::TempDir dir;
  const Batch b = write_jobs(dir.path());
  REQUIRE(b.count == 40);

  // One rank, no launcher: the reference results.
  const auto single = nbtest::run_tool("nbparity", {"batch", b.jobs_file.string(), "--out", (dir / "single").string()});
  INFO(single.err);
  REQUIRE(single.exit_code == 3);  // three jobs fail, one diverges

  const auto multi = mpirun(4, {"batch", b.jobs_file.string(), "--out", (dir / "multi").string()}, dir.path());
  INFO(multi.err);
  REQUIRE(multi.exit_code != 0);  // mpirun passes on the ranks' exit code 3
  const json mb = json::parse(nbtest::read_file(dir / "multi/batch.json"));
  const json sb = json::parse(nbtest::read_file(dir / "single/batch.json"));
  CHECK(mb["complete"] == true);
  CHECK(mb["ranks"] == 4);
  CHECK(mb["ok"] == 36);
  CHECK(mb["failed"] == 3);
  CHECK(mb["divergent"] == 1);
  CHECK(mb["not_done"] == 0);
  const auto mj = by_id(mb), sj = by_id(sb);
  std::set<int> ranks_used;
  for (const auto& [id, job] : mj) {
    CAPTURE(id);
    ranks_used.insert(job["rank"].get<int>());
    const fs::path bundle = dir / "multi" / id;
    // Every job, failed or not, is a bundle that verifies.
    CHECK(nbtest::run_tool("nbbundle", {"verify", bundle.string()}).exit_code == 0);
    CHECK(job["status"] == sj.at(id)["status"]);
    CHECK(job["exit_code"] == sj.at(id)["exit_code"]);
    CHECK(job["metrics"] == sj.at(id)["metrics"]);
    if (b.failing_ids.count(id)) {
      CHECK(job["status"] == "failed");
      CHECK_FALSE(job["error"].is_null());
      continue;
    }
    if (id == b.divergent_id) {
      CHECK(job["status"] == "divergent");
      CHECK(job["metrics"]["verdict"] == "DIVERGENT");
      CHECK(job["metrics"]["max_abs_diff_rel"].get<double>() > 1e-9);
      continue;
    }
    CHECK(job["status"] == "ok");
    if (id == b.parity_ok_id) {
      CHECK(job["metrics"]["correlation"].get<double>() == 1.0);
      CHECK(job["metrics"]["divergent_pixels"] == 0);
      CHECK(nbtest::read_file(bundle / "test_image.bin") == nbtest::read_file(dir / "single" / id / "test_image.bin"));
      continue;
    }
    // Simulations: the image is bit for bit the single-rank image ...
    const std::string image = nbtest::read_file(bundle / "image.bin");
    CHECK(image == nbtest::read_file(dir / "single" / id / "image.bin"));
    CHECK(job["metrics"]["max_I"].get<double>() > 0);
    // ... and, for the golden cases, nanoBragg.c's image bit for bit.
    if (b.golden_ids.count(id)) {
      const std::string name = id.substr(std::string("golden-").size());
      CHECK(image == nbtest::read_file(nbtest::shared_dir() / "golden" / name / "image.bin"));
    }
  }
  CHECK(ranks_used.size() >= 3);  // the work was spread
  CHECK(nbtest::run_tool("nbbundle", {"verify", (dir / "multi").string()}).exit_code == 0);
  const auto audit = nbtest::run_tool("nbbundle", {"audit", (dir / "multi").string()});
  CHECK_MESSAGE(audit.exit_code == 0, audit.out);

  // A rank dies mid-run: the test simulator kills the rank running it for
  // one job, once (a marker file arms it). Open MPI then ends the run.
  const std::string victim = "small-9";
  const fs::path killer = dir / "killer.sh";
  nbtest::write_file(killer, "#!/bin/sh\n"
                             "if [ \"$(basename \"$PWD\")\" = " + victim + " ] && rm \"" + (dir / "armed").string() +
                                 "\" 2>/dev/null; then\n"
                                 "  kill -9 $PPID; sleep 5; exit 1\n"
                                 "fi\n"
                                 "exec \"" + (nbtest::bin_dir() / "nbsim").string() + "\" \"$@\"\n");
  fs::permissions(killer, fs::perms::owner_all);
  nbtest::write_file(dir / "armed", "");
  const auto killed =
      mpirun(4, {"batch", b.jobs_file.string(), "--out", (dir / "killed").string(), "--test", killer.string()}, dir.path());
  CHECK(killed.exit_code != 0);
  CHECK_FALSE(fs::exists(dir / "armed"));
  const json kb = json::parse(nbtest::read_file(dir / "killed/batch.json"));
  CHECK(kb["complete"] == false);
  const auto kj = by_id(kb);
  CHECK(kj.at(victim)["status"] == "not done");  // never "ok"
  std::size_t done = 0;
  for (const auto& [id, job] : kj) {
    CAPTURE(id);
    if (job["status"] != "ok") continue;
    ++done;
    // What it calls finished really is: a verifying bundle, the same image.
    CHECK(nbtest::run_tool("nbbundle", {"verify", (dir / "killed" / id).string()}).exit_code == 0);
  }
  CHECK(done < 36);
  CHECK(nbtest::run_tool("nbbundle", {"verify", (dir / "killed").string()}).exit_code != 0);  // not sealed

  // --resume reruns what is missing (the marker is gone: no kill this time).
  const auto resumed = mpirun(
      4, {"batch", b.jobs_file.string(), "--out", (dir / "killed").string(), "--test", killer.string(), "--resume"},
      dir.path());
  INFO(resumed.err);
  const json rb = json::parse(nbtest::read_file(dir / "killed/batch.json"));
  CHECK(rb["complete"] == true);
  CHECK(rb["not_done"] == 0);
  CHECK(rb["failed"] == 3);
  CHECK(rb["skipped"].get<int>() + rb["ok"].get<int>() == 36);
  // Every job recorded as done is kept; so may be some that finished after
  // batch.json was last written (their bundles verify).
  CHECK(rb["skipped"].get<std::size_t>() >= done);
  const auto rj = by_id(rb);
  CHECK(rj.at(victim)["status"] == "ok");
  for (const auto& [id, job] : rj) {
    if (job["status"] != "ok" && job["status"] != "skipped") continue;
    if (!fs::exists(dir / "single" / id / "image.bin")) continue;
    CAPTURE(id);
    CHECK(nbtest::read_file(dir / "killed" / id / "image.bin") == nbtest::read_file(dir / "single" / id / "image.bin"));
  }
  CHECK(nbtest::run_tool("nbbundle", {"verify", (dir / "killed").string()}).exit_code == 0);
}

TEST_CASE("matrix --mpi: the parity matrix spread over 3 ranks gives the single-rank table") {
  if (!mpi_ready("nbparity matrix --mpi")) return;
  nbtest::TempDir dir;
  const fs::path cases = nbtest::source_dir() / "tests/parity_cases.json";
  const std::vector<std::string> pick{"--case", "simple_cubic_256", "--case", "sparse_hkl_64", "--case", "tophat_256",
                                      "--case", "phi_osc_256"};
  std::vector<std::string> args{"matrix", cases.string(), "--json", (dir / "one.json").string()};
  args.insert(args.end(), pick.begin(), pick.end());
  const auto one = nbtest::run_tool("nbparity", args);
  INFO(one.err);
  REQUIRE(one.exit_code == 0);
  args = {"matrix", cases.string(), "--mpi", "--json", (dir / "three.json").string()};
  args.insert(args.end(), pick.begin(), pick.end());
  const auto three = mpirun(3, args, dir.path());
  INFO(three.err);
  REQUIRE(three.exit_code == 0);
  json a = json::parse(nbtest::read_file(dir / "one.json")), b = json::parse(nbtest::read_file(dir / "three.json"));
  CHECK(b["distribution"] == "3 MPI ranks");
  CHECK(b["passed"] == 4);
  for (json* d : {&a, &b}) {
    d->erase("distribution");
    for (auto& c : (*d)["cases"]) c.erase("seconds");
  }
  CHECK(a == b);
  CHECK(three.err.find("rank ") != std::string::npos);
}
