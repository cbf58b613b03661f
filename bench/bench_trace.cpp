// Benchmark: parse + diff of a generated trace log (default 100 MB) on one
// core. Prints throughput for parsing, diffing and the whole job.
// Usage: bench_trace [SIZE_MB] [REPEATS]
#include <chrono>
#include <ctime>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>

#include "nbtrace/trace/diff.hpp"
#include "nbtrace/trace/trace.hpp"

namespace {

/// A log shaped like nanoBragg.c's traces: per pixel, geometry set-up lines
/// (vectors, matrices, key:value), ~40 main fields (scalars and 3-vectors),
/// ten per-phi lines, and progress noise.
std::string generate(std::size_t target_bytes, std::uint32_t seed, double perturb) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> u(-1.0, 1.0);
  std::string out;
  out.reserve(target_bytes + 4096);
  char buf[512];
  const char* vectors[] = {"pix0_vector_meters", "fdet_vec", "sdet_vec", "pixel_pos_meters", "diffracted_vec",
                           "incident_vec", "scattering_vec_A_inv", "rot_a_angstroms", "rot_b_angstroms",
                           "rot_c_angstroms", "rot_a_star_A_inv", "rot_b_star_A_inv", "rot_c_star_A_inv", "hkl_frac"};
  const char* scalars[] = {"R_distance_meters", "omega_pixel_sr", "close_distance_meters", "obliquity_factor",
                           "lambda_meters", "F_latt_a", "F_latt_b", "F_latt_c", "F_latt", "F_cell",
                           "I_before_scaling", "r_e_sqr", "fluence_photons_per_m2", "polar", "omega_pixel",
                           "cos_2theta", "I_pixel_final", "floatimage_accumulated"};
  std::uint64_t pixel = 0;
  while (out.size() < target_bytes) {
    // The same values on both sides; `perturb` nudges one field per pixel.
    std::mt19937_64 values(pixel * 7919 + 1);
    auto v = [&] { return u(values) * 1000; };
    std::snprintf(buf, sizeof buf, "TRACE_C:Rx=[%.17g %.17g %.17g; %.17g %.17g %.17g; %.17g %.17g %.17g]\n", v(), v(), v(), v(),
                  v(), v(), v(), v(), v());
    out += buf;
    std::snprintf(buf, sizeof buf, "TRACE_C:angles_rad=rotx:%.17g roty:%.17g rotz:%.17g twotheta:%.17g\n", v(), v(), v(), v());
    out += buf;
    std::snprintf(buf, sizeof buf, "TRACE_CONFIG: tracing pixel (spixel=%llu, fpixel=%llu)\n",
                  static_cast<unsigned long long>(pixel / 1000), static_cast<unsigned long long>(pixel % 1000));
    out += buf;
    out += "42% done\n";
    for (const char* name : vectors) {
      std::snprintf(buf, sizeof buf, "TRACE_C: %s %.17g %.17g %.17g\n", name, v(), v(), v());
      out += buf;
    }
    for (const char* name : scalars) {
      double x = v();
      if (perturb != 0 && name == scalars[10]) x *= 1 + perturb;
      std::snprintf(buf, sizeof buf, "TRACE_C: %s %.17g\n", name, x);
      out += buf;
    }
    for (int tic = 0; tic < 10; ++tic) {
      std::snprintf(buf, sizeof buf, "TRACE_C_PHI phi_tic=%d phi_deg=%.17g k_frac=%.17g F_latt_b=%.17g F_latt=%.17g\n", tic,
                    tic * 0.01, v(), v(), v());
      out += buf;
    }
    ++pixel;
  }
  (void)rng;
  return out;
}

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

/// CPU time of this thread: on a shared machine it shows the work itself,
/// where wall time also counts waiting for a core.
double thread_cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

}  // namespace

/// Writes `text` to `path` (outside the timed region).
void write_text(const std::string& path, const std::string& text) {
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (!f || std::fwrite(text.data(), 1, text.size(), f) != text.size()) {
    std::fprintf(stderr, "cannot write %s\n", path.c_str());
    std::exit(1);
  }
  std::fclose(f);
}

int main(int argc, char** argv) {
  const std::size_t mb = argc > 1 ? std::strtoul(argv[1], nullptr, 10) : 100;
  const int repeats = argc > 2 ? std::atoi(argv[2]) : 3;
  const std::string ref_text = generate(mb * 1000 * 1000, 1, 0);
  const std::string test_text = generate(mb * 1000 * 1000, 1, 1e-3);
  const double total_mb = static_cast<double>(ref_text.size() + test_text.size()) / 1e6;
  std::printf("generated 2 logs of %.1f MB each\n", static_cast<double>(ref_text.size()) / 1e6);
  double best_parse = 1e30, best_diff = 1e30, best_total = 1e30, best_cpu = 1e30;
  std::size_t components = 0, divergent = 0;
  for (int r = 0; r < repeats; ++r) {
    std::string a = ref_text, b = test_text;  // copies outside the timed region
    const double cpu0 = thread_cpu_seconds();
    const auto t0 = std::chrono::steady_clock::now();
    const nbtrace::Trace ref = nbtrace::parse_trace(std::move(a), "ref.log");
    const nbtrace::Trace test = nbtrace::parse_trace(std::move(b), "test.log");
    const double parse = seconds_since(t0);
    const auto t1 = std::chrono::steady_clock::now();
    const nbtrace::DiffResult d = nbtrace::diff_traces(ref, test, {});
    const double diff = seconds_since(t1);
    const double total = seconds_since(t0);
    best_cpu = std::min(best_cpu, thread_cpu_seconds() - cpu0);
    best_parse = std::min(best_parse, parse);
    best_diff = std::min(best_diff, diff);
    best_total = std::min(best_total, total);
    components = d.components.size();
    divergent = d.num_divergent;
    if (!ref.diagnostics().empty() || d.num_missing != 0) {
      std::fprintf(stderr, "unexpected: %zu malformed, %zu missing\n", ref.diagnostics().size(), d.num_missing);
      return 1;
    }
  }
  std::printf("records compared: %zu components, %zu divergent fields\n", components, divergent);
  std::printf("parse: %.3f s  (%.0f MB/s)\n", best_parse, total_mb / best_parse);
  std::printf("diff:  %.3f s  (%.0f MB/s of input)\n", best_diff, total_mb / best_diff);
  std::printf("parse+diff: %.3f s for %.1f MB  ->  %.0f MB/s (best of %d, one thread)\n", best_total, total_mb,
              total_mb / best_total, repeats);
  std::printf("parse+diff CPU time: %.3f s  ->  %.0f MB/s of CPU time\n", best_cpu, total_mb / best_cpu);

  // As users run it: both logs read from files (page cache warm), parsed, diffed.
  const std::string dir = std::getenv("TMPDIR") ? std::getenv("TMPDIR") : "/tmp";
  const std::string ref_path = dir + "/nbparity-bench-ref.log";
  const std::string test_path = dir + "/nbparity-bench-test.log";
  write_text(ref_path, ref_text);
  write_text(test_path, test_text);
  double best_files = 1e30;
  for (int r = 0; r < repeats; ++r) {
    const auto t0 = std::chrono::steady_clock::now();
    const nbtrace::Trace ref = nbtrace::load_trace(ref_path);
    const nbtrace::Trace test = nbtrace::load_trace(test_path);
    const nbtrace::DiffResult d = nbtrace::diff_traces(ref, test, {});
    best_files = std::min(best_files, seconds_since(t0));
    if (d.num_divergent != divergent) return 1;
  }
  std::remove(ref_path.c_str());
  std::remove(test_path.c_str());
  std::printf("from files: read+parse+diff %.3f s  ->  %.0f MB/s\n", best_files, total_mb / best_files);
  return 0;
}
