// KernelParams from the resolved units: the plain data compute_pixel reads,
// pointing into the PreparedSimulation's storage, with the per-quirk
// switches the kernel needs and the first pixel the reference renders.
#include "nbtrace/base/error.hpp"
#include "nbsim/statistics.hpp"
#include "units.hpp"

namespace nbsim::setup {

namespace {
constexpr double kAvogadro = 6.02214179e23;    // 1/mol, the reference's value
constexpr double kRe2 = 7.94079248018965e-30;  // Thomson cross-section r_e^2 (m^2)
constexpr double kWaterF = 2.57;   // forward-scattering amplitude of water (electrons)
constexpr double kWaterMW = 18.0;  // g/mol
}  // namespace

void fill_kernel_params(const SimConfig& cfg, const Resolved& r, PreparedSimulation& out) {
  const DetectorConfig& d = cfg.detector;
  const BeamConfig& bm = cfg.beam;
  const CrystalConfig& cr = cfg.crystal;
  const SamplingConfig& smp = cfg.sampling;
  const DetectorGrid& g = r.grid;
  const DetectorPlacement& pl = r.placement;
  const int oversample = r.oversampling.oversample;
  KernelParams& p = out.params;

  p.fpixels = g.fpixels;
  p.spixels = g.spixels;
  p.roi_fmin = g.roi_fmin;
  p.roi_fmax = g.roi_fmax;
  p.roi_smin = g.roi_smin;
  p.roi_smax = g.roi_smax;
  p.pixel_size = d.pixel_size;
  p.oversample = oversample;
  p.subpixel_size = d.pixel_size / oversample;
  p.fdet = pl.fdet;
  p.sdet = pl.sdet;
  p.odet = pl.odet;
  p.pix0 = pl.pix0;
  p.beam = r.frame.beam;
  p.distance = pl.distance;
  p.close_distance = pl.close_distance;
  p.curved = d.curved;
  p.point_pixel = d.point_pixel;
  p.thicksteps = r.sensor.thicksteps;
  p.thickstep = r.sensor.thickstep;
  p.thick = r.sensor.thick;
  p.mu = r.sensor.mu;
  p.oversample_thick = smp.oversample_thick;
  p.oversample_polar = smp.oversample_polar;
  p.oversample_omega = smp.oversample_omega;
  p.sources = out.sources.data();
  p.num_sources = static_cast<int>(out.sources.size());
  p.kahn = bm.kahn;
  p.nopolar = bm.nopolar;
  p.polar_vector = r.frame.polar_vector;
  p.fluence = r.fluence.fluence;
  p.r_e_sqr = kRe2;
  p.I_bg = kWaterF * kWaterF * kRe2 * r.fluence.fluence * cr.water_size * cr.water_size * cr.water_size * 1e6 *
           kAvogadro / kWaterMW;
  p.dmin = cr.dmin;
  p.a0 = r.cell.a;
  p.b0 = r.cell.b;
  p.c0 = r.cell.c;
  p.a_star = r.cell.a_star;
  p.b_star = r.cell.b_star;
  p.c_star = r.cell.c_star;
  p.Na = r.size.Na;
  p.Nb = r.size.Nb;
  p.Nc = r.size.Nc;
  p.shape = cr.shape;
  p.fudge = cr.fudge;
  p.phisteps = r.phi.steps;
  p.phi0 = cr.phi0;
  p.phistep = r.phi.step;
  p.spindle = r.frame.spindle;
  p.mosaic_umats = out.mosaic_umats.data();
  p.mosaic_domains = r.mosaic.count;
  p.mosaic_spread = r.mosaic.spread;
  p.water_size = cr.water_size;
  p.hkl = out.hkl.view(cr.default_F);
  p.interpolate = r.interpolate;
  p.interp_stop_default_F = !cfg.quirks.interp_stop_nearest;  // C-PARITY-007
  p.phi_carry = cfg.quirks.phi_carry;                         // C-PARITY-001

  const RenderBox box = render_box(p);
  if (!d.mask.empty()) {
    out.mask = d.mask;
    p.mask = out.mask.data();
  }
  // The orientation a full phi sweep leaves, carried into later pixels.
  PhiCells cells = phi_cells(r.cell, r.frame.spindle, cr.phi0, r.phi);
  out.phi_cells = std::move(cells.cells);
  p.carry_a = cells.carry_a;
  p.carry_b = cells.carry_b;
  p.carry_c = cells.carry_c;
  p.phi_cells = out.phi_cells.data();
  p.steps = p.num_sources * p.mosaic_domains * p.phisteps * oversample * oversample;
  // The first pixel each reference thread renders: the first of its rows'
  // ROI pixels that is unmasked and (with a resolution cut) whose phi loop
  // runs at all; the orientation is carried from there on.
  p.reference_threads = cfg.reference_threads;
  for (int t = 0; t < KernelParams::kMaxReferenceThreads; ++t) {
    p.thread_first_spixel[t] = -1;
    p.thread_first_fpixel[t] = -1;
  }
  for (BoxWalk w(box, 0, 1); !w.done(); w.next()) {
    const int t = reference_thread_of_row(w.slow(), p.spixels, p.reference_threads);
    if (p.thread_first_spixel[t] >= 0) continue;
    if (!is_unmasked(p.mask, w.index())) continue;
    if (p.phi_carry && p.dmin > 0.0 && !pixel_reaches_phi_loop(p, w.slow(), w.fast())) continue;
    p.thread_first_spixel[t] = w.slow();
    p.thread_first_fpixel[t] = w.fast();
  }
  // nanoBragg.c's threads share one interpolation scratch array (sub_Fhkl is
  // firstprivate as a pointer) and one interpolation switch: where two of
  // them interpolate at once its image differs run to run (measured), so
  // there is nothing to reproduce. One rendering thread (an ROI inside one
  // thread's rows) is deterministic, and reproduced.
  int rendering_threads = 0;
  for (int t = 0; t < p.reference_threads; ++t) rendering_threads += p.thread_first_spixel[t] >= 0 ? 1 : 0;
  if (p.interpolate && rendering_threads > 1)
    throw nbtrace::UsageError(
        "-c_threads " + std::to_string(p.reference_threads) + " with interpolation: " +
        std::to_string(rendering_threads) +
        " of nanoBragg.c's threads would render pixels and they share its interpolation scratch array, so its own "
        "image differs run to run and cannot be reproduced; use -nointerpolate, -c_threads 1, or an -roi inside one "
        "thread's rows");
}

}  // namespace nbsim::setup
