// The beam: fluence from flux, exposure and beam size (the beam clips the
// sample), and the sources: from the -sourcefile lines or the grid over
// divergence (cut to an ellipse) times wavelengths.
#include <cmath>

#include <fmt/format.h>

#include "nbtrace/base/error.hpp"
#include "nbsim/physics/rotation.hpp"
#include "units.hpp"

namespace nbsim::setup {

BeamFluence resolve_fluence(const BeamConfig& bm, const CrystalConfig& cr, Log& log) {
  BeamFluence out;
  double fluence = bm.fluence, flux = bm.flux;
  out.sample_y = cr.sample_y;
  out.sample_z = cr.sample_z;
  if (flux != 0.0 && bm.exposure > 0.0 && bm.beamsize >= 0) fluence = flux * bm.exposure / bm.beamsize / bm.beamsize;
  if (bm.beamsize >= 0) {
    // The beam only lights this much of the crystal (reference wording).
    if (bm.beamsize < out.sample_y) {
      log.push_back(fmt::format("WARNING: clipping sample ({:g} m high) with beam ({:g} m)", out.sample_y, bm.beamsize));
      out.sample_y = bm.beamsize;
    }
    if (bm.beamsize < out.sample_z) {
      log.push_back(fmt::format("WARNING: clipping sample ({:g} m wide) with beam ({:g} m)", out.sample_z, bm.beamsize));
      out.sample_z = bm.beamsize;
    }
  }
  // The flux consistent with the fluence actually used (reported only).
  if (bm.exposure > 0.0) flux = fluence / bm.exposure * bm.beamsize * bm.beamsize;
  out.fluence = fluence;
  out.flux = flux;
  return out;
}

std::vector<Source> make_sources(const BeamConfig& bm, const std::vector<SourceLine>* file_lines,
                                 const BeamSampling& bs, const DetectorFrame& frame, const Quirks& q, Log& log) {
  const Vec3 beam = frame.beam;
  std::vector<Source> sources;
  if (file_lines) {
    for (const SourceLine& line : *file_lines) {
      // Missing columns: upstream along the beam, lambda0 (weights are ignored).
      Vec3 pos{std::isnan(line.v[0]) ? -bm.source_distance * beam.x : line.v[0],
               std::isnan(line.v[1]) ? -bm.source_distance * beam.y : line.v[1],
               std::isnan(line.v[2]) ? -bm.source_distance * beam.z : line.v[2]};
      Source src;
      // The reference renders each source at its own wavelength; the spec
      // makes -lambda authoritative (C-PARITY-004).
      src.lambda = (q.source_file_wavelengths && !std::isnan(line.v[4])) ? line.v[4] : bm.lambda0;
      unitize(pos, src.direction);
      sources.push_back(src);
    }
    log.push_back(fmt::format("read {} sources from {}", sources.size(), bm.source_file));
    return sources;
  }
  int divsteps = 0;
  auto keep = [&](double hdiv, double vdiv) {
    double test = (hdiv * hdiv - bs.hdivstep * bs.hdivstep / 4.0 * (1 - bs.hdivsteps % 2)) / bs.hdivrange / bs.hdivrange;
    test += (vdiv * vdiv - bs.vdivstep * bs.vdivstep / 4.0 * (1 - bs.vdivsteps % 2)) / bs.vdivrange / bs.vdivrange;
    return !(bm.round_div && test * 4.0 > 1.1);
  };
  for (int ht = 0; ht < bs.hdivsteps; ++ht)
    for (int vt = 0; vt < bs.vdivsteps; ++vt)
      if (keep(bs.hdivstep * ht - bs.hdivrange / 2.0, bs.vdivstep * vt - bs.vdivrange / 2.0)) ++divsteps;
  const int total = divsteps * bs.dispsteps;
  if (total <= 0) throw nbtrace::UsageError("no beam sources left after the divergence cut");
  for (int ht = 0; ht < bs.hdivsteps; ++ht) {
    for (int vt = 0; vt < bs.vdivsteps; ++vt) {
      const double hdiv = bs.hdivstep * ht - bs.hdivrange / 2.0;
      const double vdiv = bs.vdivstep * vt - bs.vdivrange / 2.0;
      if (!keep(hdiv, vdiv)) continue;
      Vec3 v{-bm.source_distance * beam.x, -bm.source_distance * beam.y, -bm.source_distance * beam.z};
      v = rotate_about_axis(rotate_about_axis(v, frame.polar_vector, vdiv), frame.vert_vector, hdiv);
      for (int dt = 0; dt < bs.dispsteps; ++dt) {
        Source s;
        s.lambda = bm.lambda0 * (1.0 + bs.dispstep * dt - bs.dispersion / 2.0);
        unitize(v, s.direction);
        sources.push_back(s);
      }
    }
  }
  return sources;
}

}  // namespace nbsim::setup
