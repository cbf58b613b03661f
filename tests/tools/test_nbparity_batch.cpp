// nbparity batch (local workers): bundles per job, failures recorded, resume,
// malformed jobs rejected up front, results independent of the worker count.
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <set>

#include "test_support.hpp"

namespace fs = std::filesystem;
using nlohmann::json;

namespace {
const char* kJobs =
    "# three small simulations and one that fails\n"
    R"({"id": "cubic32", "args": ["-cell", "100", "100", "100", "90", "90", "90", "-default_F", "100", "-N", "5", "-lambda", "6.2", "-distance", "100", "-detpixels", "32"]})"
    "\n"
    R"({"id": "sparse64", "args": ["-hkl", "sparse.hkl", "-default_F", "10", "-cell", "100", "100", "100", "90", "90", "90", "-lambda", "6.2", "-N", "5", "-distance", "100", "-detpixels", "64"]})"
    "\n\n"
    R"({"id": "tilted", "args": ["-cell", "70", "80", "90", "90", "90", "90", "-default_F", "50", "-N", "3", "-lambda", "1.0", "-distance", "80", "-detpixels", "48", "-detector_rotx", "5"]})"
    "\n"
    R"({"id": "broken", "args": ["-no_such_flag", "1"]})"
    "\n";

fs::path setup(const nbtest::TempDir& dir) {
  nbtest::write_file(dir / "jobs.jsonl", kJobs);
  fs::copy_file(nbtest::source_dir() / "examples/sparse_hkl_64/sparse.hkl", dir / "sparse.hkl");
  return dir / "jobs.jsonl";
}
}  // namespace

TEST_CASE("batch: one sealed bundle per job, failures recorded, the whole folder sealed") {
  nbtest::TempDir dir;
  const fs::path jobs = setup(dir);
  const auto r = nbtest::run_tool("nbparity", {"batch", jobs.string(), "--out", (dir / "out").string(), "--jobs", "2"});
  CHECK(r.exit_code == 3);  // one job fails
  const json b = json::parse(nbtest::read_file(dir / "out/batch.json"));
  CHECK(b["ok"] == 3);
  CHECK(b["failed"] == 1);
  REQUIRE(b["jobs"].size() == 4);
  CHECK(b["jobs"][3]["status"] == "failed");
  CHECK(b["jobs"][3]["error"].get<std::string>().find("-no_such_flag") != std::string::npos);
  CHECK(b["jobs"][0]["metrics"]["max_I"].get<double>() > 0);
  for (const char* id : {"cubic32", "sparse64", "tilted"}) {
    CAPTURE(id);
    CHECK(fs::exists(dir / "out" / id / "image.bin"));
    CHECK(nbtest::run_tool("nbbundle", {"verify", (dir / "out" / id).string()}).exit_code == 0);
  }
  CHECK(fs::exists(dir / "out/sparse64/sparse.hkl"));  // the bundle holds its input
  const auto audit = nbtest::run_tool("nbbundle", {"audit", (dir / "out").string()});
  CHECK_MESSAGE(audit.exit_code == 0, audit.out);
}

TEST_CASE("batch: --resume reruns only what does not verify; results equal across worker counts") {
  nbtest::TempDir dir;
  const fs::path jobs = setup(dir);
  REQUIRE(nbtest::run_tool("nbparity", {"batch", jobs.string(), "--out", (dir / "one").string()}).exit_code == 3);
  REQUIRE(nbtest::run_tool("nbparity", {"batch", jobs.string(), "--out", (dir / "two").string(), "--jobs", "2"}).exit_code ==
          3);
  for (const char* id : {"cubic32", "sparse64", "tilted"}) {
    CHECK(nbtest::read_file(dir / "one" / id / "image.bin") == nbtest::read_file(dir / "two" / id / "image.bin"));
  }
  const std::string before = nbtest::read_file(dir / "one/sparse64/image.bin");
  fs::remove(dir / "one/cubic32/image.bin");  // a damaged job bundle
  const auto r = nbtest::run_tool("nbparity", {"batch", jobs.string(), "--out", (dir / "one").string(), "--resume"});
  CHECK(r.exit_code == 3);
  const json b = json::parse(nbtest::read_file(dir / "one/batch.json"));
  CHECK(b["jobs"][0]["status"] == "ok");       // rerun
  CHECK(b["jobs"][1]["status"] == "skipped");  // verified, kept
  CHECK(b["jobs"][2]["status"] == "skipped");
  CHECK(b["jobs"][3]["status"] == "failed");   // failed jobs run again
  CHECK(fs::exists(dir / "one/cubic32/image.bin"));
  CHECK(nbtest::read_file(dir / "one/sparse64/image.bin") == before);
  CHECK(nbtest::run_tool("nbbundle", {"verify", (dir / "one").string()}).exit_code == 0);
}

TEST_CASE("batch: a malformed jobs line is rejected with its line number before any work") {
  nbtest::TempDir dir;
  nbtest::write_file(dir / "jobs.jsonl",
                     "{\"id\": \"a\", \"args\": [\"-detpixels\", \"8\"]}\n{\"id\": \"b\", \"args\": \"oops\"}\n");
  auto r = nbtest::run_tool("nbparity", {"batch", (dir / "jobs.jsonl").string(), "--out", (dir / "out").string()});
  CHECK(r.exit_code == 5);
  CHECK(r.err.find("jobs.jsonl:2:") != std::string::npos);
  CHECK_FALSE(fs::exists(dir / "out"));
  nbtest::write_file(dir / "dup.jsonl", "{\"id\": \"a\", \"args\": []}\n{\"id\": \"a\", \"args\": []}\n");
  r = nbtest::run_tool("nbparity", {"batch", (dir / "dup.jsonl").string(), "--out", (dir / "out").string()});
  CHECK(r.exit_code == 5);
  CHECK(r.err.find("appears twice") != std::string::npos);
  nbtest::write_file(dir / "path.jsonl", "{\"id\": \"../escape\", \"args\": []}\n");
  CHECK(nbtest::run_tool("nbparity", {"batch", (dir / "path.jsonl").string(), "--out", (dir / "out").string()}).exit_code ==
        5);
}

TEST_CASE("batch --device cuda: each worker's GPU is recorded, or every job says why there is none") {
  nbtest::TempDir dir;
  const fs::path jobs = setup(dir);
  const auto devices = nbtest::run_tool("nbsim", {"-list_devices"});
  REQUIRE(devices.exit_code == 0);
  CHECK(devices.out.rfind("cpu: ", 0) == 0);
  const bool gpu = devices.out.find("\ncuda 0: ") != std::string::npos;
  const auto r = nbtest::run_tool(
      "nbparity", {"batch", jobs.string(), "--out", (dir / "out").string(), "--jobs", "2", "--device", "cuda"});
  const json b = json::parse(nbtest::read_file(dir / "out/batch.json"));
  CHECK(b["device"] == "cuda");
  CHECK(r.exit_code == 3);  // "broken" fails either way
  for (const auto& job : b["jobs"]) {
    CAPTURE(job["id"]);
    if (job["id"] == "broken") continue;
    if (gpu) {
      CHECK(job["status"] == "ok");
      CHECK(job["device"].get<std::string>().rfind("cuda:", 0) == 0);
      CHECK(job["metrics"]["max_I"].get<double>() > 0);
    } else {
      CHECK(job["status"] == "failed");
      CHECK(job["error"].get<std::string>().find("sees no CUDA GPU") != std::string::npos);
    }
  }
}

TEST_CASE("batch --device cuda: the GPUs the simulator lists are shared out by worker, metrics from its stats.json") {
  nbtest::TempDir dir;
  // A stand-in simulator with two GPUs: lists them, and otherwise writes its
  // image and a run summary whose statistics have more digits than nbsim prints.
  const fs::path sim = dir / "gpu_sim.sh";
  nbtest::write_file(sim, R"SH(#!/bin/sh
if [ "$1" = -list_devices ]; then printf 'cpu: 2 threads\ncuda 0: Fake GPU A\ncuda 1: Fake GPU B\n'; exit 0; fi
stats=''; image=''
while [ $# -gt 0 ]; do
  case "$1" in -stats_json) stats=$2; shift;; -floatfile) image=$2; shift;; esac
  shift
done
printf 'abcd' > "$image"
cat > "$stats" <<JSON
{"tool": "nbsim", "version": "0", "mode": "spec", "device": "cuda", "dtype": "float64", "fpixels": 1, "spixels": 1,
 "statistics": {"max_I": 154.65249, "max_I_x_m": 0, "max_I_y_m": 0, "mean": 0.123456789, "rms": 2.5e-7, "rmsd": 1234567.5,
 "pixels": 1}, "solid_angle_sr": 0, "interpolation_stop": null}
JSON
)SH");
  fs::permissions(sim, fs::perms::owner_all);
  nbtest::write_file(dir / "jobs.jsonl", "{\"id\": \"a\", \"args\": [\"-detpixels\", \"1\"]}\n"
                                          "{\"id\": \"b\", \"args\": [\"-detpixels\", \"1\"]}\n");
  const auto r = nbtest::run_tool("nbparity", {"batch", (dir / "jobs.jsonl").string(), "--out", (dir / "out").string(),
                                               "--jobs", "2", "--device", "cuda", "--test", sim.string()});
  CHECK_MESSAGE(r.exit_code == 0, r.err);
  const json b = json::parse(nbtest::read_file(dir / "out/batch.json"));
  std::set<std::string> devices;
  for (const auto& job : b["jobs"]) {
    CAPTURE(job["id"]);
    CHECK(job["status"] == "ok");
    devices.insert(job["device"].get<std::string>());
    // As nbsim prints them (%g): 6 significant digits.
    CHECK(job["metrics"] == json{{"max_I", 154.652}, {"mean", 0.123457}, {"rms", 2.5e-07}, {"rmsd", 1.23457e+06}});
    const std::string cmd = nbtest::read_file(dir / "out" / job["id"].get<std::string>() / "commands.txt");
    CHECK(cmd.find("-floatfile image.bin -stats_json stats.json -device cuda -cuda_device ") != std::string::npos);
  }
  for (const std::string& d : devices) CHECK((d == "cuda:0 Fake GPU A" || d == "cuda:1 Fake GPU B"));
  // --resume keeps both and reads their metrics back from stats.json.
  const auto again = nbtest::run_tool("nbparity", {"batch", (dir / "jobs.jsonl").string(), "--out", (dir / "out").string(),
                                                   "--resume", "--device", "cuda", "--test", sim.string()});
  CHECK(again.exit_code == 0);
  const json rb = json::parse(nbtest::read_file(dir / "out/batch.json"));
  CHECK(rb["skipped"] == 2);
  CHECK(rb["jobs"][1]["metrics"]["rmsd"] == 1.23457e+06);
}

TEST_CASE("batch refuses to run as one of several srun tasks without an MPI environment") {
  nbtest::TempDir dir;
  const fs::path jobs = setup(dir);
  ::setenv("SLURM_STEP_NUM_TASKS", "4", 1);
  const auto r = nbtest::run_tool("nbparity", {"batch", jobs.string(), "--out", (dir / "out").string()});
  ::unsetenv("SLURM_STEP_NUM_TASKS");
  CHECK(r.exit_code == 1);
  CHECK(r.err.find("srun --mpi=pmix") != std::string::npos);
  CHECK_FALSE(fs::exists(dir / "out"));
}

TEST_CASE("batch: a parity job's bundle holds its report.html, sealed with it") {
  nbtest::TempDir dir;
  // The reference: nbsim's c-parity mode behind a script; the job's test side runs spec mode.
  const fs::path ref = dir / "cparity.sh";
  nbtest::write_file(ref, "#!/bin/sh\nexec '" + (nbtest::bin_dir() / "nbsim").string() + "' -mode c-parity \"$@\"\n");
  fs::permissions(ref, fs::perms::owner_all);
  nbtest::write_file(dir / "jobs.jsonl",
                     R"({"id": "phi", "args": ["-cell", "100", "100", "100", "90", "90", "90", "-default_F", "100", "-N", "5", "-lambda", "6.2", "-distance", "100", "-detpixels", "32", "-pixel", "0.4", "-phi", "0", "-osc", "10", "-phisteps", "3"], "parity": {"ref_bin": ")" +
                         ref.string() + R"(", "pixels": [[16, 16]], "mode": "spec"}})" + "\n");
  const auto r = nbtest::run_tool("nbparity", {"batch", (dir / "jobs.jsonl").string(), "--out", (dir / "out").string()});
  INFO(r.out << r.err);
  CHECK(r.exit_code == 3);  // spec diverges from c-parity by the phi carry-over
  const fs::path bundle = dir / "out/phi";
  REQUIRE(fs::exists(bundle / "report.html"));
  CHECK(nbtest::read_file(bundle / "sha256.txt").find("  report.html\n") != std::string::npos);
  CHECK(nbtest::run_tool("nbbundle", {"verify", "--strict", bundle.string()}).exit_code == 0);
  const std::string page = nbtest::read_file(bundle / "report.html");
  CHECK(page.find("id=\"verdict\">DIVERGENT<") != std::string::npos);
  CHECK(page.find("data-panel=\"diff\"") != std::string::npos);
}
