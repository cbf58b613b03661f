// The CUDA backend: launch, memory and reductions only. The physics is
// compute_pixel() from nbsim/physics/kernel.hpp, the very function the CPU
// launcher calls (NB_HD = __host__ __device__ under nvcc); the rendered box,
// the statistics and the interpolation stop are nbsim/statistics.hpp's, as
// on the CPU. Built with --fmad=false so the device keeps the CPU's
// operation-by-operation rounding; what remains is the device math library
// (sin, exp, atan2: within 2 ulp).
#include <cuda_runtime.h>

#include <algorithm>
#include <climits>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "nbsim/cuda.hpp"
#include "nbsim/physics/kernel.hpp"
#include "nbsim/statistics.hpp"
#include "nbtrace/base/error.hpp"
#include "cuda_host.hpp"

namespace nbsim {

namespace {

constexpr int kThreads = 256;          // per block, every kernel
constexpr int kMaxReduceBlocks = 1024;  // partial sums per reduction (fixed: deterministic order)

void check(cudaError_t rc, const char* what) {
  if (rc != cudaSuccess)
    throw nbtrace::UsageError(std::string("-device cuda: ") + what + ": " + cudaGetErrorString(rc));
}

/// Checks a launch and waits for it, so an error names the kernel.
void check_launch(const char* kernel) {
  check(cudaGetLastError(), kernel);
  check(cudaDeviceSynchronize(), kernel);
}

/// Device memory owned for one run; freed on every path (exceptions too).
template <class T>
class DeviceBuffer {
 public:
  DeviceBuffer() = default;
  explicit DeviceBuffer(std::size_t n, const char* what) : n_(n) {
    if (n) check(cudaMalloc(reinterpret_cast<void**>(&p_), n * sizeof(T)), what);
  }
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;
  ~DeviceBuffer() {
    if (p_) cudaFree(p_);
  }
  T* get() const { return p_; }
  void upload(const T* src, const char* what) {
    if (n_) check(cudaMemcpy(p_, src, n_ * sizeof(T), cudaMemcpyHostToDevice), what);
  }

 private:
  T* p_ = nullptr;
  std::size_t n_ = 0;
};

/// Page-locked host memory: the image comes back at full PCIe speed.
class PinnedFloats {
 public:
  explicit PinnedFloats(std::size_t n) {
    if (n) check(cudaMallocHost(reinterpret_cast<void**>(&p_), n * sizeof(float)), "pinned image buffer");
  }
  PinnedFloats(const PinnedFloats&) = delete;
  PinnedFloats& operator=(const PinnedFloats&) = delete;
  ~PinnedFloats() {
    if (p_) cudaFreeHost(p_);
  }
  float* get() const { return p_; }

 private:
  float* p_ = nullptr;
};

/// A CUDA event, destroyed on every path.
class Event {
 public:
  Event() { check(cudaEventCreate(&e_), "cudaEventCreate"); }
  Event(const Event&) = delete;
  Event& operator=(const Event&) = delete;
  ~Event() { cudaEventDestroy(e_); }
  void record() { check(cudaEventRecord(e_), "cudaEventRecord"); }
  /// Milliseconds from `start` to this event (both recorded, this one done).
  float since(const Event& start) const {
    float ms = 0;
    check(cudaEventElapsedTime(&ms, start.e_, e_), "cudaEventElapsedTime");
    return ms;
  }
  void wait() { check(cudaEventSynchronize(e_), "cudaEventSynchronize"); }

 private:
  cudaEvent_t e_{};
};

/// One thread per pixel of the box; no atomics, each thread owns its pixel.
/// T: the number type of the physics (-dtype); the intensity sum, the solid
/// angle and the final scaling stay double either way (compute_pixel).
template <class T>
__global__ void pixel_kernel(const KernelParams p, RenderBox box, float* image, double* omega, int* outside) {
  const long long j = blockIdx.x * static_cast<long long>(blockDim.x) + threadIdx.x;
  if (j >= box.count()) return;
  const int s = box.slow(j);
  const int f = box.fast(j);
  NullRecorder none;
  const PixelResult px = compute_pixel<T>(p, s, f, none);
  const long long i = static_cast<long long>(s) * p.fpixels + f;
  image[i] = px.value;
  omega[i] = px.omega_sum;
  if (outside) outside[i] = px.first_outside_eval;
}

/// The shared combine() (nbsim/statistics.hpp) as a reduction operator.
struct Combine {
  template <class T>
  __device__ void operator()(T& a, const T& b) const {
    combine(a, b);
  }
};

/// Tree reduction of one value per thread into sh[0] (blockDim = kThreads).
/// Shared memory as raw storage (a __shared__ object may not have a constructor).
template <class T>
__device__ T* shared_array() {
  __shared__ alignas(16) unsigned char raw[kThreads * sizeof(T)];
  return reinterpret_cast<T*>(raw);
}

template <class T>
__device__ void block_reduce(T* sh, const T& v) {
  sh[threadIdx.x] = v;
  __syncthreads();
  for (int w = kThreads / 2; w > 0; w >>= 1) {
    if (threadIdx.x < w) Combine{}(sh[threadIdx.x], sh[threadIdx.x + w]);
    __syncthreads();
  }
}

/// Each thread's share of the box (grid-stride), then one partial per block;
/// the statistics of the first pass.
__global__ void moments_partial(const float* image, const double* omega, const unsigned short* mask, RenderBox box,
                                Moments* partial) {
  Moments* sh = shared_array<Moments>();
  const long long stride = static_cast<long long>(gridDim.x) * blockDim.x;
  const long long first = blockIdx.x * static_cast<long long>(blockDim.x) + threadIdx.x;
  block_reduce(sh, box_moments(image, omega, mask, box, first, stride));
  if (threadIdx.x == 0) partial[blockIdx.x] = sh[0];
}

/// The same for the squared deviations (masked pixels as counts_in_rmsd says).
__global__ void deviation_partial(const float* image, const unsigned short* mask, bool rmsd_counts_masked,
                                  RenderBox box, double mean, Deviation* partial) {
  Deviation* sh = shared_array<Deviation>();
  const long long stride = static_cast<long long>(gridDim.x) * blockDim.x;
  const long long first = blockIdx.x * static_cast<long long>(blockDim.x) + threadIdx.x;
  block_reduce(sh, box_deviation(image, mask, rmsd_counts_masked, box, mean, first, stride));
  if (threadIdx.x == 0) partial[blockIdx.x] = sh[0];
}

/// Reduces `n` partials in one block, in a fixed order.
template <class T>
__global__ void reduce_final(const T* partial, int n, T* result) {
  T* sh = shared_array<T>();
  T v{};
  for (int i = threadIdx.x; i < n; i += kThreads) Combine{}(v, partial[i]);
  block_reduce(sh, v);
  if (threadIdx.x == 0) *result = sh[0];
}

/// First pixel (index order) whose interpolation left the grid.
__global__ void first_outside(const int* outside, RenderBox box, unsigned long long* first) {
  const long long j = blockIdx.x * static_cast<long long>(blockDim.x) + threadIdx.x;
  if (j >= box.count()) return;
  const long long i = box.pixel(j);
  if (stop_candidate(i, outside[i]).stops()) atomicMin(first, static_cast<unsigned long long>(i));  // one word, not the image
}

int blocks_for(long long count) { return static_cast<int>((count + kThreads - 1) / kThreads); }


}  // namespace

bool cuda_built() { return true; }

int cuda_device_count() {
  int count = 0;
  return cudaGetDeviceCount(&count) == cudaSuccess ? count : 0;
}

CudaDeviceInfo cuda_device_info(int index) {
  CudaDeviceInfo info;
  int count = 0;
  const cudaError_t rc = cudaGetDeviceCount(&count);
  if (rc != cudaSuccess) {
    // Without a driver the runtime says "driver version is insufficient".
    const bool absent = rc == cudaErrorNoDevice || rc == cudaErrorInsufficientDriver;
    info.reason = std::string(absent ? "no CUDA GPU available (no NVIDIA GPU or driver here: "
                                     : "no usable CUDA GPU (") +
                  cudaGetErrorString(rc) + ")";
    return info;
  }
  if (count == 0) {
    info.reason = "no CUDA GPU found";
    return info;
  }
  if (index < 0 || index >= count) {
    info.reason = "no CUDA GPU " + std::to_string(index) + " (this machine shows " + std::to_string(count) +
                  (count == 1 ? " GPU: 0)" : " GPUs: 0.." + std::to_string(count - 1) + ")");
    return info;
  }
  cudaDeviceProp prop{};
  if (cudaGetDeviceProperties(&prop, index) != cudaSuccess) {
    info.reason = "cannot query the CUDA GPU";
    return info;
  }
  info.available = true;
  info.name = prop.name;
  return info;
}

void require_cuda(DType dtype, int device) {
  const CudaDeviceInfo info = cuda_device_info(device);
  if (!info.available) throw nbtrace::UsageError("-device cuda: " + info.reason);
  (void)dtype;  // both number types run on the GPU (issue 16)
}

SimulationResult run_simulation_cuda(PreparedSimulation& sim, DType dtype, CudaRunInfo* info, int device) {
  require_cuda(dtype, device);
  const CudaDeviceInfo dev = cuda_device_info(device);
  check(cudaSetDevice(device), "cudaSetDevice");
  KernelParams& p = sim.params;
  SimulationResult r;
  r.fpixels = p.fpixels;
  r.spixels = p.spixels;
  const std::size_t n = static_cast<std::size_t>(p.fpixels) * p.spixels;
  r.image.assign(n, 0.0f);

  const RenderBox box = render_box(p);

  // Size every buffer up front and check it against the free memory, so a
  // too-large request is one error line rather than a failed launch.
  const std::size_t hkl_n = p.hkl.loaded ? sim.hkl.values.size() : 0;
  const std::size_t mask_n = p.mask ? n : 0;
  const std::size_t umats_n = p.mosaic_umats ? sim.mosaic_umats.size() : 0;
  const std::size_t phi_n = p.phi_cells ? sim.phi_cells.size() : 0;
  const int reduce_blocks = static_cast<int>(std::clamp<long long>(blocks_for(box.count()), 1, kMaxReduceBlocks));
  const double need = hkl_n * 8.0 + mask_n * 2.0 + umats_n * 8.0 + phi_n * sizeof(Vec3) +
                      p.num_sources * sizeof(Source) + n * (4.0 + 8.0 + (p.interpolate ? 4.0 : 0.0)) +
                      reduce_blocks * (sizeof(Moments) + sizeof(Deviation)) + 64.0;
  std::size_t free_bytes = 0, total_bytes = 0;
  check(cudaMemGetInfo(&free_bytes, &total_bytes), "cudaMemGetInfo");
  if (need > 0.95 * static_cast<double>(free_bytes))
    throw nbtrace::UsageError(cuda_host::memory_message(
        {need, hkl_n * 8.0, n * (p.interpolate ? 16.0 : 12.0), static_cast<double>(free_bytes)}, dev.name));
  if (blocks_for(box.count()) > INT_MAX / 2)
    throw nbtrace::UsageError("-device cuda: too many pixels for one launch");

  Event t0, t1, k0, k1;
  t0.record();

  // Per-run constants, uploaded once; the device copy of the parameters
  // points into them.
  DeviceBuffer<double> d_hkl(hkl_n, "structure factors");
  d_hkl.upload(sim.hkl.values.data(), "structure factors");
  DeviceBuffer<std::uint16_t> d_mask(mask_n, "mask");
  d_mask.upload(p.mask, "mask");
  DeviceBuffer<double> d_umats(umats_n, "mosaic matrices");
  d_umats.upload(sim.mosaic_umats.data(), "mosaic matrices");
  DeviceBuffer<Vec3> d_phi(phi_n, "phi cells");
  d_phi.upload(sim.phi_cells.data(), "phi cells");
  DeviceBuffer<Source> d_sources(p.num_sources, "sources");
  d_sources.upload(p.sources, "sources");
  DeviceBuffer<float> d_image(n, "image");
  DeviceBuffer<double> d_omega(n, "per-pixel solid angles");
  DeviceBuffer<int> d_outside(p.interpolate ? n : 0, "interpolation flags");
  DeviceBuffer<Moments> d_moments(reduce_blocks + 1, "statistics");
  DeviceBuffer<Deviation> d_dev(reduce_blocks + 1, "statistics");
  DeviceBuffer<unsigned long long> d_first(1, "interpolation stop");
  // Pixels outside the ROI stay 0, as on the CPU.
  check(cudaMemset(d_image.get(), 0, n * sizeof(float)), "cudaMemset");
  check(cudaMemset(d_omega.get(), 0, n * sizeof(double)), "cudaMemset");
  if (p.interpolate) check(cudaMemset(d_outside.get(), 0xff, n * sizeof(int)), "cudaMemset");  // -1

  KernelParams dp = p;
  dp.hkl.values = d_hkl.get();
  dp.mask = p.mask ? d_mask.get() : nullptr;
  dp.mosaic_umats = p.mosaic_umats ? d_umats.get() : nullptr;
  dp.phi_cells = p.phi_cells ? d_phi.get() : nullptr;
  dp.sources = d_sources.get();

  float kernel_ms = 0;
  if (box.count() > 0) {
    k0.record();
    if (dtype == DType::float32)
      pixel_kernel<float><<<blocks_for(box.count()), kThreads>>>(dp, box, d_image.get(), d_omega.get(), d_outside.get());
    else
      pixel_kernel<double><<<blocks_for(box.count()), kThreads>>>(dp, box, d_image.get(), d_omega.get(), d_outside.get());
    k1.record();
    check_launch("pixel kernel");
    kernel_ms = k1.since(k0);

    if (p.interpolate) {
      // As on the CPU: the first evaluation (pixel order) whose grid
      // neighbourhood runs out stops interpolation for the rest of the run;
      // the rows from there are redone.
      const unsigned long long none = ULLONG_MAX;
      check(cudaMemcpy(d_first.get(), &none, sizeof none, cudaMemcpyHostToDevice), "cudaMemcpy");
      first_outside<<<blocks_for(box.count()), kThreads>>>(d_outside.get(), box, d_first.get());
      check_launch("interpolation stop search");
      unsigned long long first = none;
      check(cudaMemcpy(&first, d_first.get(), sizeof first, cudaMemcpyDeviceToHost), "cudaMemcpy");
      if (first != none) {
        int eval = 0;
        check(cudaMemcpy(&eval, d_outside.get() + first, sizeof eval, cudaMemcpyDeviceToHost), "cudaMemcpy");
        const RenderBox rest =
            apply_interpolation_stop(p, stop_candidate(static_cast<long long>(first), eval), box);
        dp.interp_stop_pixel = p.interp_stop_pixel;
        dp.interp_stop_eval = p.interp_stop_eval;
        if (rest.count() > 0) {
          k0.record();
          if (dtype == DType::float32)
            pixel_kernel<float><<<blocks_for(rest.count()), kThreads>>>(dp, rest, d_image.get(), d_omega.get(), nullptr);
          else
            pixel_kernel<double><<<blocks_for(rest.count()), kThreads>>>(dp, rest, d_image.get(), d_omega.get(), nullptr);
          k1.record();
          check_launch("pixel kernel (after the interpolation stop)");
          kernel_ms += k1.since(k0);
        }
      }
    }
  }

  // Statistics on the device: two passes (the mean, then the deviations),
  // each a fixed-shape tree over the shared accumulate/combine
  // (nbsim/statistics.hpp), so repeated runs agree exactly. The sums are
  // taken in another order than the CPU's running sum: mean, rms and rmsd
  // may differ from the CPU's in the last bits (printed with 6 digits).
  Moments mom;
  Deviation deviation;
  if (box.count() > 0) {
    moments_partial<<<reduce_blocks, kThreads>>>(d_image.get(), d_omega.get(), dp.mask, box, d_moments.get());
    reduce_final<Moments><<<1, kThreads>>>(d_moments.get(), reduce_blocks, d_moments.get() + reduce_blocks);
    check_launch("statistics");
    check(cudaMemcpy(&mom, d_moments.get() + reduce_blocks, sizeof mom, cudaMemcpyDeviceToHost), "cudaMemcpy");
  }
  ImageStats& st = r.stats;
  finalize(mom, p, st);
  if (box.count() > 0) {
    deviation_partial<<<reduce_blocks, kThreads>>>(d_image.get(), dp.mask, sim.quirks.rmsd_counts_masked, box, st.mean,
                                                   d_dev.get());
    reduce_final<Deviation><<<1, kThreads>>>(d_dev.get(), reduce_blocks, d_dev.get() + reduce_blocks);
    check_launch("statistics");
    check(cudaMemcpy(&deviation, d_dev.get() + reduce_blocks, sizeof deviation, cudaMemcpyDeviceToHost), "cudaMemcpy");
  }
  finalize(deviation, st);

  // One copy of the image, through page-locked memory.
  if (n) {
    PinnedFloats host(n);
    check(cudaMemcpy(host.get(), d_image.get(), n * sizeof(float), cudaMemcpyDeviceToHost), "image download");
    std::copy(host.get(), host.get() + n, r.image.begin());
  }
  t1.record();
  t1.wait();
  const float total_ms = t1.since(t0);
  if (info) {
    info->device = dev.name;
    info->kernel_ms = kernel_ms;
    info->total_ms = total_ms;
  }
  return r;
}

}  // namespace nbsim
