// Sampling: phi steps, the divergence and dispersion grid, sensor layers,
// sub-pixels per pixel and whether structure factors are interpolated,
// by the reference's rules for any combination of count, range and step.
#include <cmath>

#include <fmt/format.h>

#include "units.hpp"

namespace nbsim::setup {

namespace {

/// The reference's rules for a sampled range given any of count, range and
/// step (phi uses its own rules, below). `thickness` selects the
/// reference's thickness rule for a lone range: 2 steps of range/2 (the
/// spec and the angles: 2 steps of range).
void resolve_steps(int& steps, double& range, double& step, double count_only_range, bool thickness) {
  if (steps <= 0) {
    if (range < 0.0) {
      if (step <= 0.0) {
        steps = 1;
        range = 0.0;
        step = 0.0;
      } else {
        range = step;
        steps = 2;
      }
    } else {
      if (step <= 0.0) {
        if (thickness) {
          steps = 2;
          step = range / steps;
        } else {
          step = range;
          steps = 2;
        }
      } else {
        steps = static_cast<int>(std::ceil(range / step));
      }
    }
  } else {
    if (range < 0.0) {
      if (step <= 0.0) {
        range = count_only_range;
        step = range / steps;
      } else {
        range = step;
        steps = 2;
      }
    } else {
      if (step <= 0.0) {
        if (steps <= 1) steps = 2;
        step = range / (steps - 1);
      }
    }
  }
}

/// A sampled range that ends up empty is one step of nothing.
void collapse_if_empty(int& steps, double& range, double& step) {
  if (range <= 0.0 || step <= 0.0 || steps <= 0) {
    steps = 1;
    range = 0.0;
    step = 0.0;
  }
}

}  // namespace

PhiSampling resolve_phi(const CrystalConfig& cr) {
  // The reference's rules, with its -1 for "not given" (validate_config
  // has refused given values below 1 step or 0 rad).
  int phisteps = cr.phisteps.value_or(-1);
  double osc = cr.osc.value_or(-1), phistep = cr.phistep.value_or(-1);
  const double rtd = detail::kRadToDeg;
  if (phisteps < 0) {
    if (osc < 0.0) {
      if (phistep <= 0.0) {
        phisteps = 1;
        osc = 0.0;
        phistep = 0.0;
      } else {
        osc = phistep;
        phisteps = 2;
      }
    } else {
      if (phistep <= 0.0) {
        phisteps = 2;
        phistep = osc / 2.0;
      } else {
        phisteps = static_cast<int>(std::ceil(osc / phistep));
      }
    }
  } else {
    if (osc < 0.0) {
      if (phistep <= 0.0) {
        osc = 1.0 / rtd;
        phistep = osc / phisteps;
      } else {
        osc = phistep;
        phisteps = 2;
      }
    } else if (phistep < 0.0) {
      phistep = osc / phisteps;
    }
  }
  return {phisteps, osc, phistep};
}

BeamSampling resolve_beam_sampling(const BeamConfig& bm) {
  // The reference's -1 for "not given".
  BeamSampling b;
  b.hdivsteps = bm.hdivsteps.value_or(-1);
  b.hdivrange = bm.hdivrange.value_or(-1);
  b.hdivstep = bm.hdivstep.value_or(-1);
  b.vdivsteps = bm.vdivsteps.value_or(-1);
  b.vdivrange = bm.vdivrange.value_or(-1);
  b.vdivstep = bm.vdivstep.value_or(-1);
  b.dispsteps = bm.dispsteps.value_or(-1);
  b.dispersion = bm.dispersion;
  b.dispstep = bm.dispstep.value_or(-1);
  resolve_steps(b.hdivsteps, b.hdivrange, b.hdivstep, 1.0, false);
  resolve_steps(b.vdivsteps, b.vdivrange, b.vdivstep, 1.0, false);
  resolve_steps(b.dispsteps, b.dispersion, b.dispstep, 1.0, false);
  collapse_if_empty(b.hdivsteps, b.hdivrange, b.hdivstep);
  collapse_if_empty(b.vdivsteps, b.vdivrange, b.vdivstep);
  collapse_if_empty(b.dispsteps, b.dispersion, b.dispstep);
  return b;
}

SensorSampling resolve_sensor(const DetectorConfig& d, const Quirks& q, Log& log) {
  // The reference's -1 for "not given".
  SensorSampling s;
  s.thicksteps = d.thicksteps.value_or(-1);
  s.thick = d.thick.value_or(-1);
  s.thickstep = d.thickstep.value_or(-1);
  s.mu = d.mu.value_or(-1);
  // nanoBragg starts the thickness at 0, not "not given", so -thicksteps or
  // -detector_thickstep alone never switch absorption on there, and a lone
  // thickness gets 2 layers of half its size; the spec resolves thickness
  // like the other ranges (C-PARITY-008).
  if (q.thickness_sampling && s.thick < 0.0) s.thick = 0.0;
  resolve_steps(s.thicksteps, s.thick, s.thickstep, 0.5e-6, q.thickness_sampling);
  if (s.thick > 0.0 && s.mu < 0.0) {
    s.mu = 1.0 / s.thick;
    log.push_back(fmt::format("WARNING: setting detector attenuation depth to {:g} m", s.mu));
  }
  collapse_if_empty(s.thicksteps, s.thick, s.thickstep);
  if (s.mu < 0) s.mu = 0;
  return s;
}

Oversampling resolve_oversample(const SamplingConfig& smp, double xtal_max, double lambda0, double distance,
                                double pixel_size, Log& log) {
  // Sub-pixels so that a spot (lambda*distance/size wide) spans >= 3 of them.
  const double reciprocal_pixel_size = lambda0 * distance / pixel_size;
  int recommended = static_cast<int>(std::ceil(3.0 * xtal_max / reciprocal_pixel_size));
  if (recommended <= 0) recommended = 1;
  Oversampling o;
  o.oversample = smp.oversample.value_or(0);
  if (o.oversample <= 0) {
    o.oversample = recommended;
    o.automatic = o.oversample;
    log.push_back(fmt::format("auto-selected {}-fold oversampling", o.oversample));
  }
  return o;
}

bool resolve_interpolation(const CrystalConfig& cr) {
  int interpolate = cr.interpolate;
  if (interpolate > 1) interpolate = (cr.Na <= 2 || cr.Nb <= 2 || cr.Nc <= 2) ? 1 : 0;
  return interpolate != 0;
}

}  // namespace nbsim::setup
