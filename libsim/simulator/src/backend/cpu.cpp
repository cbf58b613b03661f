#include "nbsim/simulator.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <thread>

#include "nbsim/physics/kernel.hpp"

namespace nbsim {

namespace {

bool in_roi(const KernelParams& p, int s, int f) {
  return !(f < p.roi_fmin || f > p.roi_fmax || s < p.roi_smin || s > p.roi_smax);
}

/// Host-side sink for a traced pixel: formats every value %.17g.
class TextRecorder {
 public:
  static constexpr bool active = true;
  std::string out;

  void subpath(Vec3 pix0, Vec3 fdet, Vec3 sdet, Vec3 pixel_pos, double airpath, double omega,
               double close_distance, Vec3 diffracted, Vec3 incident, double lambda, Vec3 scattering) {
    vec("pix0_vector_meters", pix0);
    vec("fdet_vec", fdet);
    vec("sdet_vec", sdet);
    vec("pixel_pos_meters", pixel_pos);
    num("R_distance_meters", airpath);
    num("omega_pixel_sr", omega);
    num("close_distance_meters", close_distance);
    num("obliquity_factor", close_distance / airpath);
    vec("diffracted_vec", diffracted);
    vec("incident_vec", incident);
    num("lambda_meters", lambda);
    num("lambda_angstroms", lambda * 1e10);
    // Named as in the reference; the values are in 1/m.
    vec("scattering_vec_A_inv", scattering);
  }
  void orientation(Vec3 a, Vec3 b, Vec3 c, Vec3 as, Vec3 bs, Vec3 cs, double h, double k, double l, int h0,
                   int k0, int l0) {
    vec("rot_a_angstroms", {a.x * 1e10, a.y * 1e10, a.z * 1e10});
    vec("rot_b_angstroms", {b.x * 1e10, b.y * 1e10, b.z * 1e10});
    vec("rot_c_angstroms", {c.x * 1e10, c.y * 1e10, c.z * 1e10});
    vec("rot_a_star_A_inv", as);
    vec("rot_b_star_A_inv", bs);
    vec("rot_c_star_A_inv", cs);
    vec("hkl_frac", {h, k, l});
    out += "TRACE_CPP: hkl_rounded " + std::to_string(h0) + " " + std::to_string(k0) + " " +
           std::to_string(l0) + "\n";
  }
  void lattice(double fa, double fb, double fc, double f) {
    num("F_latt_a", fa);
    num("F_latt_b", fb);
    num("F_latt_c", fc);
    num("F_latt", f);
  }
  void phi_step(int tic, double phi_deg, double k, double fb, double f) {
    out += "TRACE_CPP_PHI phi_tic=" + std::to_string(tic) + " phi_deg=" + g(phi_deg) + " k_frac=" + g(k) +
           " F_latt_b=" + g(fb) + " F_latt=" + g(f) + "\n";
  }
  void cell(double F) { num("F_cell", F); }
  void final_scaling(double I, double r_e_sqr, double fluence, int steps, bool ot, bool op, bool oo,
                     double capture, double polar, double omega, double cos2theta, double I_final,
                     double accumulated) {
    num("I_before_scaling", I);
    num("r_e_meters", std::sqrt(r_e_sqr));
    num("r_e_sqr", r_e_sqr);
    num("fluence_photons_per_m2", fluence);
    integer("steps", steps);
    integer("oversample_thick", ot);
    integer("oversample_polar", op);
    integer("oversample_omega", oo);
    num("capture_fraction", capture);
    num("polar", polar);
    num("omega_pixel", omega);
    num("cos_2theta", cos2theta);
    num("I_pixel_final", I_final);
    num("floatimage_accumulated", accumulated);
  }

 private:
  static std::string g(double v) {
    char buf[40];
    std::snprintf(buf, sizeof buf, "%.17g", v);
    return buf;
  }
  void num(const char* name, double v) { out += std::string("TRACE_CPP: ") + name + " " + g(v) + "\n"; }
  void integer(const char* name, long v) {
    out += std::string("TRACE_CPP: ") + name + " " + std::to_string(v) + "\n";
  }
  void vec(const char* name, Vec3 v) {
    out += std::string("TRACE_CPP: ") + name + " " + g(v.x) + " " + g(v.y) + " " + g(v.z) + "\n";
  }
};

}  // namespace

void launch_cpu(const KernelParams& p, float* image, double* row_omega, int threads,
                const ProgressFn& progress, int* outside_eval, int first_row) {
  if (threads <= 0) threads = static_cast<int>(std::thread::hardware_concurrency());
  if (threads <= 0) threads = 1;
  const int smin = std::max({p.roi_smin, 0, first_row}), smax = std::min(p.roi_smax, p.spixels - 1);
  const int fmin = std::max(p.roi_fmin, 0), fmax = std::min(p.roi_fmax, p.fpixels - 1);
  const long rows = smax >= smin ? smax - smin + 1 : 0;
  const long per_row = fmax >= fmin ? fmax - fmin + 1 : 0;
  if (rows == 0 || per_row == 0) return;
  if (threads > rows) threads = static_cast<int>(rows);

  std::atomic<long> next_row{0};
  std::atomic<long> rows_done{0};
  auto worker = [&] {
    NullRecorder none;
    for (;;) {
      const long r = next_row.fetch_add(1, std::memory_order_relaxed);
      if (r >= rows) break;
      const int s = smin + static_cast<int>(r);
      double omega = 0;
      for (int f = fmin; f <= fmax; ++f) {
        const PixelResult px = compute_pixel(p, s, f, none);
        image[static_cast<std::size_t>(s) * p.fpixels + f] = px.value;
        if (outside_eval) outside_eval[static_cast<std::size_t>(s) * p.fpixels + f] = px.first_outside_eval;
        omega += px.omega_sum;
      }
      row_omega[s] = omega;
      rows_done.fetch_add(1, std::memory_order_release);
    }
  };
  std::vector<std::thread> pool;
  pool.reserve(threads - 1);
  for (int t = 1; t < threads; ++t) pool.emplace_back(worker);
  if (progress) {
    // The launching thread reports while the workers run, then joins in.
    std::thread reporter_work(worker);
    long last = -1;
    while (rows_done.load(std::memory_order_acquire) < rows) {
      const long done = rows_done.load(std::memory_order_acquire);
      if (done != last) {
        progress(done * per_row, rows * per_row);
        last = done;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
    reporter_work.join();
    progress(rows * per_row, rows * per_row);
  } else {
    worker();
  }
  for (auto& t : pool) t.join();
}

ImageStats compute_stats(const KernelParams& p, const std::vector<float>& image,
                         const std::vector<double>& row_omega, bool rmsd_counts_masked) {
  ImageStats st;
  double sum = 0, sumsqr = 0;
  long n = 0;
  for (int s = 0; s < p.spixels; ++s) {
    for (int f = 0; f < p.fpixels; ++f) {
      if (!in_roi(p, s, f)) continue;
      const std::size_t i = static_cast<std::size_t>(s) * p.fpixels + f;
      // Masked pixels do not count here (in c-parity they do in rmsd below).
      if (p.mask && p.mask[i] == 0) continue;
      const float v = image[i];
      if (v > st.max_I) {
        st.max_I = v;
        // Position of the pixel's last sub-pixel, as the reference records it.
        st.max_I_x = p.subpixel_size * (f * p.oversample + p.oversample - 1) + p.subpixel_size / 2.0;
        st.max_I_y = p.subpixel_size * (s * p.oversample + p.oversample - 1) + p.subpixel_size / 2.0;
      }
      sum += v;
      const float sq = v * v;  // single precision, as the reference squares its floats
      sumsqr += sq;
      ++n;
    }
  }
  st.pixels = n;
  long sumn = n;
  if (sumn <= 0) sumn = 1;
  st.mean = sum / static_cast<double>(sumn);
  if (sumn <= 1) sumn = 2;
  st.rms = std::sqrt(sumsqr / static_cast<double>(sumn - 1));
  double dev = 0;
  long m = 0;
  for (int s = 0; s < p.spixels; ++s) {
    for (int f = 0; f < p.fpixels; ++f) {
      if (!in_roi(p, s, f)) continue;
      const std::size_t i = static_cast<std::size_t>(s) * p.fpixels + f;
      if (!rmsd_counts_masked && p.mask && p.mask[i] == 0) continue;
      const double t = image[i] - st.mean;
      dev += t * t;
      ++m;
    }
  }
  if (m <= 1) m = 2;
  st.rmsd = std::sqrt(dev / static_cast<double>(m - 1));
  for (double w : row_omega) st.omega_sum += w;
  return st;
}

SimulationResult run_simulation(PreparedSimulation& sim, int threads, const ProgressFn& progress) {
  KernelParams& p = sim.params;
  SimulationResult r;
  r.fpixels = p.fpixels;
  r.spixels = p.spixels;
  const std::size_t n = static_cast<std::size_t>(p.fpixels) * p.spixels;
  r.image.assign(n, 0.0f);
  std::vector<double> row_omega(p.spixels, 0.0);
  if (!p.interpolate) {
    launch_cpu(p, r.image.data(), row_omega.data(), threads, progress);
  } else {
    // Pass 1 interpolates everywhere and notes where the grid runs out; the
    // first such evaluation in pixel order switches interpolation off for
    // the rest of the run, so pass 2 redoes the rows from there.
    std::vector<int> outside(n, -1);
    launch_cpu(p, r.image.data(), row_omega.data(), threads, progress, outside.data());
    for (std::size_t i = 0; i < n; ++i) {
      if (outside[i] < 0) continue;
      p.interp_stop_pixel = static_cast<long>(i);
      p.interp_stop_eval = outside[i];
      launch_cpu(p, r.image.data(), row_omega.data(), threads, {}, nullptr, static_cast<int>(i / p.fpixels));
      break;
    }
  }
  r.stats = compute_stats(p, r.image, row_omega, sim.quirks.rmsd_counts_masked);
  return r;
}

std::string trace_pixel(const PreparedSimulation& sim, TracePixel px) {
  std::string text = "TRACE_CONFIG: tracing pixel (spixel=" + std::to_string(px.spixel) +
                     ", fpixel=" + std::to_string(px.fpixel) + ")\n";
  const KernelParams& p = sim.params;
  if (px.spixel < 0 || px.fpixel < 0 || px.spixel >= p.spixels || px.fpixel >= p.fpixels ||
      !in_roi(p, px.spixel, px.fpixel) ||
      (p.mask && p.mask[static_cast<std::size_t>(px.spixel) * p.fpixels + px.fpixel] == 0))
    return text;  // the reference prints nothing for a pixel it does not render
  TextRecorder rec;
  compute_pixel(p, px.spixel, px.fpixel, rec);
  return text + rec.out;
}

std::string geometry_trace(const PreparedSimulation& sim) {
  std::string text;
  for (const auto& line : sim.geometry_trace) text += "TRACE_CPP:" + line.name + "=" + line.value + "\n";
  return text;
}

}  // namespace nbsim
