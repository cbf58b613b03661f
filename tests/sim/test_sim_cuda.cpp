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
  std::cout << "GPU_BENCH device=" << nbsim::cuda_device_info().name << "\n";
  for (const Row& row : rows) {
    nbtest::TempDir work;
    simtest::stage_inputs(row.golden, work.path());
    std::vector<std::string> args = simtest::c_parity_case_args(row.golden, {});
    for (const auto& flag : row.drop) {
      const auto it = std::find(args.begin(), args.end(), flag);
      if (it != args.end()) args.erase(it, it + 1 + row.drop_values);
    }
    args.insert(args.end(), row.extra.begin(), row.extra.end());
    args.insert(args.end(), {"-device", "cuda"});
    std::vector<double> kms, wall;
    for (int rep = 0; rep < 5; ++rep) {
      const auto t0 = std::chrono::steady_clock::now();
      const auto run = nbtest::run_tool("nbsim", args, work.path());
      const double w = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      INFO(run.err);
      REQUIRE(run.exit_code == 0);
      kms.push_back(kernel_ms(run.out));
      wall.push_back(w);
    }
    std::sort(kms.begin(), kms.end());
    std::sort(wall.begin(), wall.end());
    std::cout << "GPU_BENCH case=\"" << row.label << "\" kernel_ms_median=" << kms[2] << " kernel_ms_min=" << kms[0]
              << " process_s_median=" << wall[2] << " goal_kernel_ms=" << row.goal_ms << "\n";
  }
}
