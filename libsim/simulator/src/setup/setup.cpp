// prepare_simulation: the set-up units (units.hpp) called in the order that
// keeps nanoBragg.c's results to the bit, its messages in order and, of
// several problems, the same one reported first. What nbsim refuses
// (nbsim/validate.hpp) is checked first, before any file is read; all file
// I/O is in inputs.cpp; the Fdump.bin cache is written last, once everything
// is valid.
#include "nbsim/setup.hpp"

#include <fmt/format.h>

#include "nbtrace/base/error.hpp"
#include "nbsim/validate.hpp"
#include "units.hpp"

namespace nbsim {

void prepare_simulation(const SimConfig& cfg, PreparedSimulation& out, bool write_cache) {
  using namespace setup;
  const DetectorConfig& d = cfg.detector;
  const CrystalConfig& cr = cfg.crystal;
  const Quirks& q = cfg.quirks;
  Log& log = out.log;
  Resolved r;
  validate_config(cfg);

  // Detector size (the traced pixels on it, the image buffers within the
  // machine's memory), the beam's fluence, region of interest, the
  // convention's frame.
  r.grid = resolve_detector_size(d);
  validate_trace_pixels(cfg.output.trace_pixels, r.grid.fpixels, r.grid.spixels);
  const double pixels = static_cast<double>(r.grid.fpixels) * r.grid.spixels;
  const std::string detector = fmt::format("a {}x{}-pixel detector", r.grid.fpixels, r.grid.spixels);
  require_memory(detector, image_buffer_bytes(cfg, pixels, resolve_interpolation(cr)));
  r.fluence = resolve_fluence(cfg.beam, cr, log);
  resolve_roi(d, r.grid);
  r.frame = resolve_frame(d, cfg.beam, cr, r.grid, q, log);

  // Structure factors and a cell must be given.
  const StructureFactors sf = find_structure_factors(cfg);
  if (cr.mat_file.empty() && !(cr.cell && cr.cell->a != 0.0))
    throw nbtrace::UsageError("no unit cell: give -mat FILE or -cell a b c alpha beta gamma");

  // Sampling and mosaic domains, then the detector placed.
  r.phi = resolve_phi(cr);
  r.beam = resolve_beam_sampling(cfg.beam);
  r.sensor = resolve_sensor(d, q, log);
  r.mosaic = resolve_mosaic(cr, log);
  r.placement = place_detector(d, r.frame, q, log, out.geometry_trace);
  r.interpolate = resolve_interpolation(cr);

  // The crystal at phi = 0 and its size, which sets the oversampling.
  const std::optional<Vec3> misset = resolve_misset(cr, q, log);
  const std::optional<UserCell> user_cell = cell_from_parameters(cr, q);
  std::optional<AMatrix> a_matrix;
  if (!cr.mat_file.empty()) a_matrix = read_a_matrix(cr.mat_file, log);
  r.cell = build_cell(user_cell, a_matrix, cfg.beam.lambda0, misset);
  r.size = resolve_crystal_size(cr, r.fluence, r.cell);
  r.oversampling = resolve_oversample(cfg.sampling, r.size.xtal_max, cfg.beam.lambda0, r.placement.distance,
                                      d.pixel_size, log);

  // Structure factors, sources, mosaic domains.
  out.hkl = read_structure_factors(sf, cfg, log);
  if (out.hkl.reflections == 0) r.interpolate = false;
  // The grid is held once more, encoded, while the cache is written.
  const double hkl_bytes = static_cast<double>(out.hkl.values.size()) * sizeof(double) *
                           (sf == StructureFactors::hkl_file && write_cache ? 2 : 1);
  require_memory(detector + " and its structure factors",
                 image_buffer_bytes(cfg, pixels, r.interpolate) + hkl_bytes);
  if (!cfg.beam.source_file.empty()) {
    const std::vector<SourceLine> lines = read_source_file(cfg.beam.source_file);
    out.sources = make_sources(cfg.beam, &lines, r.beam, r.frame, q, log);
  } else {
    out.sources = make_sources(cfg.beam, nullptr, r.beam, r.frame, q, log);
  }
  out.mosaic_umats = mosaic_matrices(r.mosaic, cr.mosaic_seed);

  // The kernel's parameters.
  check_mask(d, r.grid);
  fill_kernel_params(cfg, r, out);

  // Resolved values reported to the user.
  out.quirks = q;
  out.convention = d.convention;
  out.pivot = r.frame.pivot;
  out.Xbeam = r.frame.Xbeam;
  out.Ybeam = r.frame.Ybeam;
  out.Fbeam = r.placement.Fbeam;
  out.Sbeam = r.placement.Sbeam;
  out.Fclose = r.placement.Fclose;
  out.Sclose = r.placement.Sclose;
  out.detsize_f = r.grid.detsize_f;
  out.detsize_s = r.grid.detsize_s;
  out.lambda0 = cfg.beam.lambda0;
  out.phi0 = cr.phi0;
  out.osc = r.phi.osc;
  out.twotheta = d.twotheta;
  out.auto_oversample = r.oversampling.automatic;
  out.fluence = r.fluence.fluence;
  out.flux = r.fluence.flux;

  // Last, once everything is validated: the structure-factor cache for the
  // next run without -hkl (as the reference writes it).
  if (sf == StructureFactors::hkl_file && write_cache) write_fdump_cache(cfg.fdump_file, out.hkl, log);
}

}  // namespace nbsim
