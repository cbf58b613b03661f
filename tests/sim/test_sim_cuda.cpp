// The CUDA backend (issue 7): -device cuda against the CPU backend on every
// golden case, traces included, and (NB_GPU_BENCH=1) the GPU benchmark.
// Without a CUDA build or a GPU the suite skips (exit 77) with a message.
#include <doctest/doctest.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <iostream>
#include <sstream>
#include <thread>

#include "nbsim/cuda.hpp"
#include "sim_cases.hpp"

namespace {

/// True when the CUDA backend can run here; otherwise records a skip with
/// the reason (built without CUDA, no GPU).
/// Call after require_shared (which counts the test as entered).
bool require_gpu(const char* what) {
  const nbsim::CudaDeviceInfo info = nbsim::cuda_device_info();
  if (info.available) return true;
  ++nbtest::skipped_count();
  const std::string line =
      std::string("SKIPPED (") + what + "): " + info.reason + "; GPU tests need a CUDA build and a GPU";
  MESSAGE(line);
  std::cerr << line << "\n";
  return false;
}

/// Every golden case folder under ../shared/golden.
std::vector<std::string> golden_cases() {
  std::vector<std::string> names;
  for (const auto& e : simtest::fs::directory_iterator(nbtest::shared_dir() / "golden"))
    if (simtest::fs::exists(e.path() / "case.json")) names.push_back(e.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}


struct Agreement {
  std::size_t pixels = 0, identical = 0, adjacent = 0, outside = 0;
  double max_rel = 0;
};

/// The goal is 1e-12 relative (or 1e-15 of the maximum) in float64. The
/// images are float32, so a double difference that small can still round
/// to the neighbouring float: that happens to a fraction of about
/// (relative double difference)/(6e-8) of the pixels. Neighbouring floats
/// count as agreeing while they stay under 2e-5 of the pixels (a 1e-12
/// double difference); anything further apart is outside the tolerance.
Agreement agree(const std::vector<float>& cpu, const std::vector<float>& gpu) {
  Agreement a;
  a.pixels = cpu.size();
  double max_v = 0;
  for (float v : cpu) max_v = std::max(max_v, static_cast<double>(std::fabs(v)));
  for (std::size_t i = 0; i < cpu.size(); ++i) {
    const double c = cpu[i], g = gpu[i], d = std::fabs(c - g);
    if (c != 0) a.max_rel = std::max(a.max_rel, d / std::fabs(c));
    if (cpu[i] == gpu[i]) ++a.identical;
    else if (d <= 1e-12 * std::fabs(c) || d <= 1e-15 * max_v) ++a.identical;
    else if (std::nextafter(cpu[i], gpu[i]) == gpu[i]) ++a.adjacent;
    else ++a.outside;
  }
  return a;
}

std::string trace_lines(const std::string& out) {
  std::istringstream in(out);
  std::string lines;
  for (std::string line; std::getline(in, line);)
    if (line.rfind("TRACE_", 0) == 0) lines += line + "\n";
  return lines;
}

double kernel_ms(const std::string& out) {
  const auto at = out.find("pixel kernels ");
  return at == std::string::npos ? -1 : std::strtod(out.c_str() + at + 14, nullptr);
}

/// Whole-process wall times (seconds) of `runs` runs of argv in `cwd`, and
/// the "pixel kernels" milliseconds each printed (-1 when none). Stops at
/// the first failing run; `failure` then holds its exit code and stderr.
struct Timed {
  std::vector<double> wall, kernel;
  std::string failure;
  bool ok() const { return failure.empty() && !wall.empty(); }
};

Timed time_runs(const std::vector<std::string>& argv, const simtest::fs::path& cwd, int runs) {
  Timed t;
  for (int rep = 0; rep < runs; ++rep) {
    const auto t0 = std::chrono::steady_clock::now();
    const auto run = nbtest::run_process(argv, cwd);
    const double w = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (run.exit_code != 0) {
      t.failure = "exit " + std::to_string(run.exit_code) + ": " +
                  (run.err.size() > 600 ? run.err.substr(run.err.size() - 600) : run.err);
      return t;
    }
    t.wall.push_back(w);
    t.kernel.push_back(kernel_ms(run.out));
  }
  return t;
}

double median(std::vector<double> v) {
  if (v.empty()) return -1;
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

double min_of(const std::vector<double>& v) { return v.empty() ? -1 : *std::min_element(v.begin(), v.end()); }

/// Removes each flag in `drop` with its `values` values.
void drop_flags(std::vector<std::string>& args, const std::vector<std::string>& drop, int values) {
  for (const auto& flag : drop) {
    const auto it = std::find(args.begin(), args.end(), flag);
    if (it != args.end()) args.erase(it, it + 1 + values);
  }
}

/// a / b, or -1 when either is unknown.
double ratio(double a, double b) { return a > 0 && b > 0 ? a / b : -1; }

std::string one_line(std::string s) {
  std::replace(s.begin(), s.end(), '\n', ' ');
  return s;
}

}  // namespace

TEST_CASE("-device cuda -dtype float64 matches the CPU backend on every golden case, traces included") {
  if (!nbtest::require_shared("cuda vs cpu")) return;
  if (!require_gpu("cuda vs cpu")) return;
  for (const std::string& name : golden_cases()) {
    CAPTURE(name);
    const auto json = simtest::case_json(name);
    std::vector<std::string> trace;
    if (json.contains("traces"))
      for (const auto& t : json.at("traces"))
        for (const char* key : {"spixel", "fpixel"}) trace.push_back(std::to_string(t.at(key).get<int>()));
    std::vector<std::string> extra;
    for (std::size_t i = 0; i + 1 < trace.size(); i += 2) extra.insert(extra.end(), {"-trace_pixel", trace[i], trace[i + 1]});

    nbtest::TempDir cpu_dir, gpu_dir;
    simtest::stage_inputs(name, cpu_dir.path());
    simtest::stage_inputs(name, gpu_dir.path());
    const auto cpu = nbtest::run_tool("nbsim", simtest::c_parity_case_args(name, extra), cpu_dir.path());
    auto gpu_args = extra;
    gpu_args.insert(gpu_args.end(), {"-device", "cuda", "-dtype", "float64"});
    const auto gpu = nbtest::run_tool("nbsim", simtest::c_parity_case_args(name, gpu_args), gpu_dir.path());
    INFO(cpu.err);
    INFO(gpu.err);
    REQUIRE(cpu.exit_code == 0);
    REQUIRE(gpu.exit_code == 0);

    const auto a = simtest::read_floats(cpu_dir / "image.bin");
    const auto b = simtest::read_floats(gpu_dir / "image.bin");
    REQUIRE(a.size() == b.size());
    const Agreement ag = agree(a, b);
    std::cout << "CUDA_VS_CPU " << name << " pixels=" << ag.pixels << " identical=" << ag.identical
              << " adjacent_float=" << ag.adjacent << " outside=" << ag.outside << " max_rel=" << ag.max_rel
              << " kernel_ms=" << kernel_ms(gpu.out) << "\n";
    CHECK(ag.outside == 0);
    CHECK(static_cast<double>(ag.adjacent) <= 2e-5 * static_cast<double>(ag.pixels) + 1);

    // Statistics: reduced on the device in another order, so the printed
    // 6 digits may differ in the last one.
    const auto sc = simtest::stats_lines(cpu.out), sg = simtest::stats_lines(gpu.out);
    REQUIRE(sc.size() == 2);
    REQUIRE(sg.size() == 2);
    for (int l = 0; l < 2; ++l) {
      const auto nc = simtest::numbers_in(sc[l]), ng = simtest::numbers_in(sg[l]);
      REQUIRE(nc.size() == ng.size());
      for (std::size_t i = 0; i < nc.size(); ++i) CHECK(std::fabs(nc[i] - ng[i]) <= 2e-5 * std::fabs(nc[i]) + 1e-300);
    }
    // The traced pixels are computed on the host by the same functions.
    CHECK(trace_lines(gpu.out) == trace_lines(cpu.out));
  }
}

TEST_CASE("-device cuda -dtype float32 within the float32 tolerance of the CPU's float64 image, every golden case") {
  if (!nbtest::require_shared("cuda float32")) return;
  if (!require_gpu("cuda float32")) return;
  // docs/performance.md, "float32": each pixel within 1e-2 relative or
  // within 1e-4 of the image's brightest pixel (as the CPU's float32).
  constexpr double kRel = 1e-2, kOfPeak = 1e-4;
  for (const std::string& name : golden_cases()) {
    CAPTURE(name);
    nbtest::TempDir cpu_dir, gpu_dir;
    simtest::stage_inputs(name, cpu_dir.path());
    simtest::stage_inputs(name, gpu_dir.path());
    const auto cpu = nbtest::run_tool("nbsim", simtest::c_parity_case_args(name, {"-dtype", "float64"}), cpu_dir.path());
    const auto gpu = nbtest::run_tool("nbsim", simtest::c_parity_case_args(name, {"-device", "cuda", "-dtype", "float32"}),
                                      gpu_dir.path());
    INFO(cpu.err);
    INFO(gpu.err);
    REQUIRE(cpu.exit_code == 0);
    REQUIRE(gpu.exit_code == 0);
    const auto f64 = simtest::read_floats(cpu_dir / "image.bin");
    const auto f32 = simtest::read_floats(gpu_dir / "image.bin");
    REQUIRE(f64.size() == f32.size());
    double peak = 0;
    for (float v : f64) peak = std::max(peak, static_cast<double>(v));
    REQUIRE(peak > 0);
    std::size_t outside = 0, nan = 0;
    double worst_rel = 0;
    for (std::size_t i = 0; i < f64.size(); ++i) {
      const double r = f64[i], e = std::fabs(static_cast<double>(f32[i]) - r);
      if (std::isnan(f32[i])) ++nan;
      if (!(e <= kRel * std::fabs(r) || e <= kOfPeak * peak)) ++outside;
      if (r > 1e-3 * peak) worst_rel = std::max(worst_rel, e / r);
    }
    std::cout << "CUDA_F32_VS_CPU_F64 " << name << " pixels=" << f64.size() << " outside=" << outside
              << " worst_rel_above_1e-3_peak=" << worst_rel << " kernel_ms=" << kernel_ms(gpu.out) << "\n";
    CHECK(nan == 0);
    CHECK(outside == 0);
  }
}

// The benchmark: per case, nbsim -device cuda (5 runs: kernel time and
// whole-process time), nbsim on the CPU with all cores (3 runs) and, when
// NB_REF_BIN names a nanoBragg binary, that reference with OMP_NUM_THREADS =
// all cores (or NB_REF_THREADS; 3 runs): medians of whole-process wall
// times, measured in the same run on the same machine.
TEST_CASE("GPU benchmark (NB_GPU_BENCH=1)") {
  const char* bench = std::getenv("NB_GPU_BENCH");
  if (!bench || std::string(bench) != "1") return;  // not a check: scripts/gpu-check.sh runs it
  if (!nbtest::require_shared("gpu bench")) return;
  if (!require_gpu("gpu bench")) return;
  struct Row {
    std::string label, golden;
    std::vector<std::string> drop, extra;  ///< flags (with their values) to remove; flags to add
    int drop_values = 0;
    double goal_ms;
  };
  const std::vector<Row> rows{
      {"supervisor_scaling full detector float64", "supervisor_scaling", {"-roi"}, {}, 4, 4.0},
      {"simple_cubic 4096^2 float64", "simple_cubic_1024", {"-detsize"}, {"-detpixels", "4096"}, 1, 2.0},
      {"simple_cubic_1024 float64", "simple_cubic_1024", {}, {}, 0, -1},
  };
  const int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  std::string ref_bin;
  int ref_threads = cores;
  if (const char* env = std::getenv("NB_REF_BIN"); env && *env) {
    ref_bin = simtest::fs::absolute(env).string();
    if (const char* t = std::getenv("NB_REF_THREADS"); t && std::atoi(t) > 0) ref_threads = std::atoi(t);
    ::setenv("OMP_NUM_THREADS", std::to_string(ref_threads).c_str(), 1);
  }
  const std::string nbsim_bin = (nbtest::bin_dir() / "nbsim").string();
  std::cout << "GPU_BENCH device=" << nbsim::cuda_device_info().name << std::endl;
  std::cout << "GPU_BENCH_SETUP cores=" << cores << " ref_bin=" << (ref_bin.empty() ? "-" : ref_bin)
            << " ref_threads=" << (ref_bin.empty() ? 0 : ref_threads) << std::endl;
  for (const Row& row : rows) {
    CAPTURE(row.label);
    nbtest::TempDir gpu_dir, cpu_dir, ref_dir;
    for (const auto* d : {&gpu_dir, &cpu_dir, &ref_dir}) simtest::stage_inputs(row.golden, d->path());
    std::vector<std::string> args = simtest::c_parity_case_args(row.golden, {});
    drop_flags(args, row.drop, row.drop_values);
    args.insert(args.end(), row.extra.begin(), row.extra.end());

    std::vector<std::string> gpu_argv{nbsim_bin};
    gpu_argv.insert(gpu_argv.end(), args.begin(), args.end());
    gpu_argv.insert(gpu_argv.end(), {"-device", "cuda"});
    const Timed gpu = time_runs(gpu_argv, gpu_dir.path(), 5);
    INFO(gpu.failure);
    REQUIRE(gpu.ok());

    // nbsim on the CPU: all cores (its default).
    std::vector<std::string> cpu_argv{nbsim_bin};
    cpu_argv.insert(cpu_argv.end(), args.begin(), args.end());
    const Timed cpu = time_runs(cpu_argv, cpu_dir.path(), 3);
    INFO(cpu.failure);
    CHECK(cpu.ok());

    Timed ref;
    std::string ref_vs_gpu = "-";
    if (!ref_bin.empty()) {
      std::vector<std::string> ref_argv{ref_bin};
      const auto image_args = simtest::arguments(simtest::case_json(row.golden).at("image_command"));
      ref_argv.insert(ref_argv.end(), image_args.begin(), image_args.end());
      drop_flags(ref_argv, row.drop, row.drop_values);
      ref_argv.insert(ref_argv.end(), row.extra.begin(), row.extra.end());
      ref = time_runs(ref_argv, ref_dir.path(), 3);
      // Reported, not checked: the CUDA checks are the ones above.
      if (!ref.ok())
        std::cout << "GPU_BENCH_NOTE case=\"" << row.label << "\" reference failed: " << one_line(ref.failure)
                  << std::endl;
      if (ref.ok() && simtest::fs::exists(ref_dir / "image.bin")) {
        const auto a = simtest::read_floats(ref_dir / "image.bin");
        const auto b = simtest::read_floats(gpu_dir / "image.bin");
        if (a.size() == b.size()) {
          // Informative only: nanoBragg.c's own image depends on its thread
          // count at the first pixel of each thread's block of rows.
          const Agreement ag = agree(a, b);
          std::ostringstream o;
          o << ag.max_rel << " ref_vs_gpu_outside=" << ag.outside;
          ref_vs_gpu = o.str();
        }
      }
    }

    const double gpu_s = median(gpu.wall), kernel = median(gpu.kernel);
    const double cpu_s = cpu.ok() ? median(cpu.wall) : -1, ref_s = ref.ok() ? median(ref.wall) : -1;
    std::cout << "GPU_BENCH case=\"" << row.label << "\" kernel_ms_median=" << kernel
              << " kernel_ms_min=" << min_of(gpu.kernel) << " process_s_median=" << gpu_s
              << " goal_kernel_ms=" << row.goal_ms << " cpu_process_s_median=" << cpu_s << " cpu_threads=" << cores
              << " ref_process_s_median=" << ref_s << " ref_threads=" << (ref_bin.empty() ? 0 : ref_threads)
              << " ref_over_gpu_process=" << ratio(ref_s, gpu_s)
              << " ref_over_gpu_kernel=" << ratio(ref_s, kernel / 1000) << " ref_over_cpu_process=" << ratio(ref_s, cpu_s)
              << " cpu_over_gpu_process=" << ratio(cpu_s, gpu_s) << " ref_vs_gpu_max_rel=" << ref_vs_gpu << std::endl;
  }
}
