// Bundle verify throughput: nbtrace::bundle::verify_manifest on 1 and N
// threads against coreutils `sha256sum -c --strict` on the same sealed
// bundle (page cache warm, best and median of several runs).
// Usage: bench_bundle_verify DIR [REPS]   (bench/bench_bundle_verify.sh makes DIR)
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "nbtrace/base/process.hpp"
#include "nbtrace/bundle/bundle.hpp"

namespace {

struct Timing {
  double best = 0, median = 0;
  double cpu = 0;  ///< median CPU seconds (user + system) per run
};

double cpu_seconds(int who) {
  rusage u{};
  ::getrusage(who, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) * 1e-6;
}

/// Wall time of `reps` runs, and the CPU time they used: this process's
/// (RUSAGE_SELF) or its waited-for children's (RUSAGE_CHILDREN). CPU time
/// shows the work done when the machine is shared and wall time is not.
Timing time_runs(int reps, int who, const std::function<void()>& fn) {
  std::vector<double> t, c;
  for (int i = 0; i < reps; ++i) {
    const double c0 = cpu_seconds(who);
    const auto t0 = std::chrono::steady_clock::now();
    fn();
    t.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    c.push_back(cpu_seconds(who) - c0);
  }
  std::sort(t.begin(), t.end());
  std::sort(c.begin(), c.end());
  return {t.front(), t[t.size() / 2], c[c.size() / 2]};
}

void run_sha256sum(const std::string& dir) {
  std::fflush(stdout);  // else the child would inherit and re-emit buffered output
  nbtrace::ProcessOptions o;
  o.cwd = dir;
  o.out = nbtrace::StreamTarget::discarded();
  const nbtrace::ProcessResult r = nbtrace::run_process({"sha256sum", "-c", "--strict", "--quiet", "sha256.txt"}, o);
  if (r.exit_code != 0) {
    std::fprintf(stderr, "sha256sum -c failed\n");
    std::exit(1);
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s DIR [REPS]\n", argv[0]);
    return 1;
  }
  const std::string dir = argv[1];
  const int reps = argc > 2 ? std::max(1, std::atoi(argv[2])) : 5;
  std::uint64_t bytes = 0;
  std::size_t files = 0;
  for (const auto& f : nbtrace::bundle::list_files(dir)) {
    bytes += f.size;
    ++files;
  }
  const double gib = static_cast<double>(bytes) / (1u << 30);
  std::printf("bundle: %zu files, %.3f GiB; %d runs each, page cache warm; cores: %u\n", files, gib, reps,
              std::thread::hardware_concurrency());
  run_sha256sum(dir);  // warms the page cache
  const auto report = [&](const char* what, Timing t) {
    std::printf("%-34s best %.3f s (%.0f MiB/s)   median %.3f s (%.0f MiB/s)   CPU %.3f s (%.0f MiB per CPU-s)\n",
                what, t.best, gib * 1024 / t.best, t.median, gib * 1024 / t.median, t.cpu, gib * 1024 / t.cpu);
    return t;
  };
  const Timing coreutils = report("sha256sum -c --strict (1 core)", time_runs(reps, RUSAGE_CHILDREN, [&] { run_sha256sum(dir); }));
  std::vector<unsigned> thread_counts{1, 2};
  if (std::thread::hardware_concurrency() > 2) thread_counts.push_back(std::thread::hardware_concurrency());
  for (unsigned threads : thread_counts) {
    const std::string label = "nbbundle verify, " + std::to_string(threads) + " thread" + (threads > 1 ? "s" : "");
    const Timing t = report(label.c_str(), time_runs(reps, RUSAGE_SELF, [&] {
                              const auto r = nbtrace::bundle::verify_manifest(dir, "sha256.txt", threads, true);
                              if (!r.all_ok() || !r.unlisted.empty() || !r.malformed.empty()) {
                                std::fprintf(stderr, "verify failed\n");
                                std::exit(1);
                              }
                            }));
    std::printf("%-34s %.2fx the throughput of sha256sum -c (best), %.2fx (median)\n", "", coreutils.best / t.best,
                coreutils.median / t.median);
  }
  return 0;
}
