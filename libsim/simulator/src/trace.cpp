// Traces: the traced pixel is computed again by compute_pixel() with a
// recorder that formats every intermediate value (%.17g, round-trip), and
// the geometry set-up lines collected by prepare_simulation.
#include <cmath>
#include <iterator>
#include <string>

#include <fmt/format.h>

#include "nbsim/physics/kernel.hpp"
#include "nbsim/simulator.hpp"
#include "nbsim/statistics.hpp"

namespace nbsim {

namespace {

/// Host-side sink for a traced pixel: "TRACE_CPP: name values" lines.
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
    line("TRACE_CPP: hkl_rounded {} {} {}\n", h0, k0, l0);
  }
  void lattice(double fa, double fb, double fc, double f) {
    num("F_latt_a", fa);
    num("F_latt_b", fb);
    num("F_latt_c", fc);
    num("F_latt", f);
  }
  void phi_step(int tic, double phi_deg, double k, double fb, double f) {
    line("TRACE_CPP_PHI phi_tic={} phi_deg={:.17g} k_frac={:.17g} F_latt_b={:.17g} F_latt={:.17g}\n", tic, phi_deg, k,
         fb, f);
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
  template <class... Args>
  void line(fmt::format_string<Args...> f, Args&&... args) {
    fmt::format_to(std::back_inserter(out), f, std::forward<Args>(args)...);
  }
  void num(const char* name, double v) { line("TRACE_CPP: {} {:.17g}\n", name, v); }
  void integer(const char* name, long v) { line("TRACE_CPP: {} {}\n", name, v); }
  void vec(const char* name, Vec3 v) { line("TRACE_CPP: {} {:.17g} {:.17g} {:.17g}\n", name, v.x, v.y, v.z); }
};

}  // namespace

std::string trace_pixel(const PreparedSimulation& sim, TracePixel px) {
  std::string text = fmt::format("TRACE_CONFIG: tracing pixel (spixel={}, fpixel={})\n", px.spixel, px.fpixel);
  const KernelParams& p = sim.params;
  // The reference prints nothing more for a pixel it does not render.
  if (!render_box(p).contains(px.spixel, px.fpixel) ||
      !is_unmasked(p.mask, static_cast<long long>(px.spixel) * p.fpixels + px.fpixel))
    return text;
  TextRecorder rec;
  compute_pixel(p, px.spixel, px.fpixel, rec);
  return text + rec.out;
}

std::string geometry_trace(const PreparedSimulation& sim) {
  std::string text;
  for (const auto& line : sim.geometry_trace) fmt::format_to(std::back_inserter(text), "TRACE_CPP:{}={}\n", line.name, line.value);
  return text;
}

}  // namespace nbsim
