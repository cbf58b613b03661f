#include "nbsim/run.hpp"

#include <algorithm>
#include <cmath>
#include <ctime>
#include <filesystem>
#include <ostream>
#include <string>
#include <thread>

#include <fmt/format.h>

#include "nbtrace/base/files.hpp"
#include "nbtrace/base/error.hpp"
#include "nbtrace/base/progress.hpp"
#include "nbsim/cuda.hpp"
#include "nbsim/setup.hpp"
#include "nbsim/simulator.hpp"
#include "nbsim/smv.hpp"
#include "nbsim/summary.hpp"
#include "nbsim/nbsim.hpp"

namespace nbsim {

namespace {

void require_writable_folder(const std::string& file) {
  if (file.empty()) return;
  const auto parent = std::filesystem::absolute(file).parent_path();
  if (!std::filesystem::is_directory(parent))
    throw nbtrace::UsageError("cannot write " + file + ": folder " + parent.string() + " does not exist");
}

}  // namespace

void print_devices(std::ostream& out) {
  out << "cpu: " << std::max(1u, std::thread::hardware_concurrency()) << " threads\n";
  for (int i = 0, n = cuda_device_count(); i < n; ++i) out << "cuda " << i << ": " << cuda_device_info(i).name << "\n";
}

int run(const SimConfig& config, std::ostream& out, std::ostream& err, bool stderr_is_terminal) {
  require_writable_folder(config.output.floatfile);
  require_writable_folder(config.output.trace_file);
  require_writable_folder(config.output.stats_json);
  require_writable_folder(config.output.intfile);
  require_writable_folder(config.output.noisefile);
  require_writable_folder(config.output.pgmfile);

  // The device is checked before anything (even the Fdump.bin cache) is written.
  if (config.device == Device::cuda) require_cuda(config.dtype, config.cuda_device);

  PreparedSimulation sim;
  prepare_simulation(config, sim);
  const bool quiet = config.output.quiet;
  if (!quiet)
    for (const auto& line : sim.log) out << line << "\n";
  out.flush();

  // Progress in rows, on stderr; -quiet silences the automatic meter only.
  // The CUDA launcher is one kernel: nothing to count while it runs.
  nbtrace::ProgressRequest request = config.output.progress;
  if (quiet && request == nbtrace::ProgressRequest::automatic) request = nbtrace::ProgressRequest::off;
  const bool counted = config.device == Device::cpu;
  nbtrace::ProgressOptions meter_options;
  meter_options.label = "nbsim";
  meter_options.unit = "rows";
  nbtrace::ProgressMeter meter(counted ? nbtrace::progress_settings(request, stderr_is_terminal) : nbtrace::ProgressMode::off,
                               err, meter_options);
  if (counted) meter.start(static_cast<std::uint64_t>(render_box(sim.params).rows()));
  CudaRunInfo cuda;
  // The specification (no quirk) may take its lattice sines from a vector
  // routine; a run with any quirk on reproduces nanoBragg.c and keeps
  // glibc's scalar sin bits (checked vector sines where they provably match),
  // so -mode spec -quirk ID equals c-parity bit for bit where the other
  // quirks do not matter. -scalar_sin: scalar sin for every sine, any mode.
  CpuNumerics numerics;
  numerics.dtype = config.dtype;
  numerics.vector_math = config.quirks == Quirks::none() && !config.scalar_sines;
  numerics.checked_sines = !config.scalar_sines;
  const SimulationResult result = config.device == Device::cuda ? run_simulation_cuda(sim, config.dtype, &cuda, config.cuda_device)
                                                                 : run_simulation(sim, config.threads, &meter, numerics);
  meter.finish();
  if (!quiet && config.device == Device::cuda)
    out << "CUDA device: " << cuda.device << (config.dtype == DType::float32 ? " (float32)" : " (float64)")
        << "; pixel kernels "
        << fmt::format("{:.3f} ms, GPU total {:.3f} ms\n", cuda.kernel_ms, cuda.total_ms);
  if (!quiet && sim.params.interp_stop_pixel != kNeverStops)
    out << "WARNING: out of range for three point interpolation at pixel (spixel="
        << sim.params.interp_stop_pixel / sim.params.fpixels << ", fpixel=" << sim.params.interp_stop_pixel % sim.params.fpixels
        << "); nearest-neighbour structure factors from there on\n";
  const KernelParams& p = sim.params;

  // Traces re-run their pixels with a recorder, after the main loop.
  std::string trace_text;
  if (!config.output.trace_pixels.empty()) {
    trace_text = geometry_trace(sim);
    for (const TracePixel& px : config.output.trace_pixels) trace_text += trace_pixel(sim, px);
    if (config.output.trace_file.empty()) out << trace_text;
  }

  const double solid = result.stats.omega_sum / p.steps;
  // All outputs land together or not at all.
  nbtrace::AtomicFileSet files;
  if (!config.output.trace_file.empty() && !config.output.trace_pixels.empty())
    files.add(config.output.trace_file, trace_text);
  files.add_borrowed(config.output.floatfile, std::string_view(reinterpret_cast<const char*>(result.image.data()),
                                                               result.image.size() * sizeof(float)));
  double intfile_scale = config.output.intfile_scale;
  if (!config.output.intfile.empty())
    files.add(config.output.intfile,
              encode_smv(sim, integer_pixels(p, result.image, result.stats.max_I, intfile_scale,
                                             config.output.adc_offset)));
  double pgm_scale = config.output.pgm_scale;
  const bool write_pgm = config.output.pgm && !config.output.pgmfile.empty();
  if (write_pgm) {
    // The preview's default scale falls back on the integer image's.
    const double int_scale = integer_image_scale(config.output.intfile_scale, result.stats.max_I);
    files.add(config.output.pgmfile, encode_pgm(p, result.image, pgm_scale, int_scale, result.stats.rmsd));
  }
  NoiseImage noise;
  const bool write_noise = config.output.noise && !config.output.noisefile.empty();
  if (write_noise) {
    const long seed = config.output.noise_seed ? *config.output.noise_seed : -static_cast<long>(std::time(nullptr));
    noise = noise_pixels(p, result.image, seed, config.output.adc_offset);
    files.add(config.output.noisefile, encode_smv(sim, noise.pixels));
  }
  if (!config.output.stats_json.empty()) {
    RunSummary summary;
    summary.version = std::string(version());
    summary.mode = config.mode == Mode::c_parity ? "c-parity" : "spec";
    summary.quirks = quirk_ids(config.quirks);
    summary.device = config.device == Device::cuda ? "cuda" : "cpu";
    summary.dtype = config.dtype == DType::float32 ? "float32" : "float64";
    summary.fpixels = result.fpixels;
    summary.spixels = result.spixels;
    summary.statistics = {result.stats.max_I, result.stats.max_I_x, result.stats.max_I_y, result.stats.mean,
                          result.stats.rms,   result.stats.rmsd,    result.stats.pixels};
    summary.solid_angle_sr = solid;
    if (p.interp_stop_pixel != kNeverStops)
      summary.interpolation_stop = std::pair<int, int>{static_cast<int>(p.interp_stop_pixel / p.fpixels),
                                                       static_cast<int>(p.interp_stop_pixel % p.fpixels)};
    files.add(config.output.stats_json, summary_json_text(summary));
  }
  files.commit();
  if (!quiet) {
    out << fmt::format("solid angle subtended by detector = {:g} steradian ( {:g}% sphere)\n", solid,
                       100 * solid / 4 / 3.14159265358979323846);
    out << "writing " << config.output.floatfile << " as " << result.image.size() << " 4-byte floats\n";
  }
  // The statistics lines are the run's result: printed even with -quiet.
  out << fmt::format("max_I = {:g}  at {:g} {:g}\n", result.stats.max_I, result.stats.max_I_x, result.stats.max_I_y);
  out << fmt::format("mean= {:g} rms= {:g} rmsd= {:g}\n", result.stats.mean, result.stats.rms, result.stats.rmsd);
  if (!quiet && !config.output.intfile.empty()) {
    out << fmt::format("intfile_scale = {:g}\n", intfile_scale);
    out << "writing " << config.output.intfile << " as 2-byte integers\n";
  }
  if (!quiet && write_pgm) {
    out << fmt::format("pgm_scale = {:g}\n", pgm_scale);
    out << "writing " << config.output.pgmfile << " as 1-byte integers\n";
  }
  if (!quiet && write_noise) {
    out << fmt::format("{:.0f} photons on noise image ({} overloads)\n", noise.photons, noise.overloads)
        << "writing " << config.output.noisefile << " as 2-byte integers\n";
  }
  out.flush();
  return 0;
}

}  // namespace nbsim
