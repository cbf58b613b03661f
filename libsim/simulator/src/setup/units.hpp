#pragma once
// The units prepare_simulation() is made of, each a function (or a few)
// over plain structs: inputs.cpp (every file the set-up reads or writes),
// detector.cpp, beam.cpp, crystal.cpp, sampling.cpp and kernel_params.cpp.
// Internal to the library. setup.cpp calls them in the order that keeps
// nanoBragg.c's results to the bit, its messages (log lines) in order and,
// of several problems, the same one reported first.
#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

#include "nbsim/config.hpp"
#include "nbsim/hkl.hpp"
#include "nbsim/physics/kernel.hpp"
#include "nbsim/quirks.hpp"
#include "nbsim/setup.hpp"

namespace nbsim::setup {

using Log = std::vector<std::string>;

// ---- inputs.cpp: all file I/O of the set-up.

/// One line of a -sourcefile: up to 5 numbers "X Y Z weight lambda";
/// missing columns are NaN.
struct SourceLine {
  double v[5];
};
/// Lines of up to 5 numbers separated by blanks or , ; : ! (as the
/// reference splits them); blank lines skip. InputError when unreadable,
/// malformed or empty.
std::vector<SourceLine> read_source_file(const std::string& path);

/// A MOSFLM A matrix as its file holds it: reciprocal vectors in units of
/// the wavelength.
struct AMatrix {
  Vec3 a_star, b_star, c_star;
};
/// The 9 numbers of a -mat file (rows: the x, y, z components of a*, b*,
/// c*); logs "reading PATH".
AMatrix read_a_matrix(const std::string& path, Log& log);
/// The same from a stream; `name` names it in messages and the log line.
/// InputError unless it starts with 9 numbers.
AMatrix read_a_matrix(std::istream& in, const std::string& name, Log& log);

/// Where the structure factors come from.
enum class StructureFactors { hkl_file, fdump_cache, default_F_only };
/// -hkl, else an existing Fdump.bin cache, else -default_F alone (a
/// UsageError when that is 0 too).
StructureFactors find_structure_factors(const SimConfig& cfg);
/// Reads them (HKL warnings and "reading Fs" go to `log`); an empty grid
/// for default_F_only.
HklGrid read_structure_factors(StructureFactors from, const SimConfig& cfg, Log& log);
/// The Fdump.bin cache of a grid read from an HKL file, for the next run.
void write_fdump_cache(const std::string& path, const HklGrid& grid, Log& log);

// ---- detector.cpp: size, conventions, pivots, rotations, pix0.

/// Image size and region of interest (inclusive, -1 resolved to the edges).
struct DetectorGrid {
  int fpixels = 0, spixels = 0;
  double detsize_f = 0, detsize_s = 0;  ///< m
  int roi_fmin = 0, roi_fmax = 0, roi_smin = 0, roi_smax = 0;
};
/// Pixels from -detpixels or the sizes (validate_config has checked them);
/// UsageError for a detector smaller than a pixel or too many pixels for an int.
DetectorGrid resolve_detector_size(const DetectorConfig& d);
/// Throws UsageError when the ROI selects no pixel.
void resolve_roi(const DetectorConfig& d, DetectorGrid& grid);

/// The laboratory frame the convention sets up: unit axes, beam,
/// polarization and spindle axes, the pivot and the beam centre.
struct DetectorFrame {
  Vec3 beam, fdet, sdet, odet, twotheta_axis, polar_vector, vert_vector, spindle;
  Pivot pivot = Pivot::beam;
  double Xbeam = 0, Ybeam = 0, Xclose = 0, Yclose = 0;  ///< m, as the user's conventions count them
  double Fbeam = 0, Sbeam = 0, Fclose = 0, Sclose = 0;  ///< m, along fdet/sdet from the first pixel's corner
};
/// Beam centre defaults, the convention's axes and pivot (an explicit
/// -pivot beats it unless C-PARITY-005), unit vectors (a non-unit odet is
/// rebuilt, with a warning). UsageError for a zero axis.
DetectorFrame resolve_frame(const DetectorConfig& d, const BeamConfig& bm, const CrystalConfig& cr,
                            const DetectorGrid& grid, const Quirks& q, Log& log);

/// The detector placed: rotated axes, pix0, distances, where the beam lands.
struct DetectorPlacement {
  Vec3 fdet, sdet, odet, pix0;
  double distance = 0, close_distance = 0;  ///< m
  double Fbeam = 0, Sbeam = 0, Fclose = 0, Sclose = 0;  ///< m, after the rotations
};
/// Pivots and rotates the detector as the reference does, recording the
/// geometry trace lines (C-TRACE-001 for the BEAM pivot's header).
/// UsageError when the detector plane passes through the sample.
DetectorPlacement place_detector(const DetectorConfig& d, const DetectorFrame& frame, const Quirks& q, Log& log,
                                 std::vector<TraceLine>& trace);

/// UsageError unless the -mask image has the detector's size.
void check_mask(const DetectorConfig& d, const DetectorGrid& grid);

// ---- sampling.cpp: phi, divergence, dispersion, thickness, oversampling.

struct PhiSampling {
  int steps = 1;
  double osc = 0, step = 0;  ///< rad
};
/// Any of steps, range and step given; the others follow (the reference's rules).
PhiSampling resolve_phi(const CrystalConfig& cr);

/// The divergence grid and the wavelengths of the beam sources.
struct BeamSampling {
  int hdivsteps = 1, vdivsteps = 1, dispsteps = 1;
  double hdivrange = 0, vdivrange = 0, hdivstep = 0, vdivstep = 0;  ///< rad
  double dispersion = 0, dispstep = 0;                              ///< fractions
};
BeamSampling resolve_beam_sampling(const BeamConfig& bm);

/// Sensor layers and attenuation.
struct SensorSampling {
  int thicksteps = 1;
  double thick = 0, thickstep = 0;  ///< m
  double mu = 0;                    ///< 1/m
};
/// C-PARITY-008 selects the reference's thickness rules; a thickness
/// without -detector_abs sets mu = 1/thickness (with a warning).
SensorSampling resolve_sensor(const DetectorConfig& d, const Quirks& q, Log& log);

/// Sub-pixels per pixel edge: -oversample, else enough for a spot (lambda
/// distance / crystal size wide) to span 3 of them. `automatic` is 0 when
/// the user gave it.
struct Oversampling {
  int oversample = 1;
  int automatic = 0;
};
Oversampling resolve_oversample(const SamplingConfig& smp, double xtal_max, double lambda0, double distance,
                                double pixel_size, Log& log);

/// -interpolate as given, or automatic: on when any user N <= 2.
bool resolve_interpolation(const CrystalConfig& cr);

// ---- beam.cpp: fluence and sources.

struct BeamFluence {
  double fluence = 0;  ///< photons/m^2
  double flux = 0;     ///< photons/s consistent with it
  double sample_y = 0, sample_z = 0;  ///< m, the crystal clipped to the beam
};
/// Fluence from -flux/-exposure/-beamsize; the beam clips the sample (with
/// warnings).
BeamFluence resolve_fluence(const BeamConfig& bm, const CrystalConfig& cr, Log& log);

/// Sources from the -sourcefile lines (C-PARITY-004: at their own
/// wavelengths), or the divergence grid (cut to an ellipse) times the
/// wavelengths. UsageError when the cut leaves none.
std::vector<Source> make_sources(const BeamConfig& bm, const std::vector<SourceLine>* file_lines,
                                 const BeamSampling& bs, const DetectorFrame& frame, const Quirks& q, Log& log);

// ---- crystal.cpp: cell, misset, orientation, N, mosaic domains.

struct MosaicDomains {
  int count = 1;
  double spread = 0;  ///< rad
};
/// A spread without a count means 10 domains (warnings as the reference's).
MosaicDomains resolve_mosaic(const CrystalConfig& cr, Log& log);

/// The misset to apply: -misset, or -misset random drawn from the seed (a
/// cap of 90 degrees, or 90 radians with C-PARITY-006; the angles are logged).
std::optional<Vec3> resolve_misset(const CrystalConfig& cr, const Quirks& q, Log& log);

/// The reciprocal cell -cell describes, before any misset (C-PARITY-003
/// builds nanoBragg's c*). UsageError for an impossible cell.
struct UserCell {
  double a = 0, b = 0, c = 0;  ///< Angstrom
  double V_cell = 0;           ///< Angstrom^3
  Vec3 a_star, b_star, c_star;  ///< 1/Angstrom
};
std::optional<UserCell> cell_from_parameters(const CrystalConfig& cr, const Quirks& q);

/// The crystal at phi = 0: real (m) and reciprocal (1/Angstrom) vectors.
struct CellVectors {
  Vec3 a, b, c;
  Vec3 a_star, b_star, c_star;
};
/// From -cell and/or the A matrix (scaled by the wavelength; it replaces
/// -cell's vectors, -cell keeps its lengths), the misset applied, then real
/// and reciprocal vectors regenerated from each other as the reference
/// does. UsageError when the reciprocal vectors are coplanar.
CellVectors build_cell(const std::optional<UserCell>& user, const std::optional<AMatrix>& a_matrix, double lambda0,
                       const std::optional<Vec3>& misset);

/// Unit cells per axis: -N, or from the (clipped) sample size.
struct CrystalSize {
  double Na = 1, Nb = 1, Nc = 1;
  double xtal_max = 0;  ///< m, the longest edge
};
CrystalSize resolve_crystal_size(const CrystalConfig& cr, const BeamFluence& clipped, const CellVectors& cell);

/// The domains' rotation matrices (9 per domain) from the reference's
/// generator; the first domain is the unrotated crystal.
std::vector<double> mosaic_matrices(const MosaicDomains& mosaic, long seed);

/// a, b, c at each phi step (3 per step; steps at phi = 0 left zero) and
/// the orientation a complete sweep leaves (the last step with phi != 0).
struct PhiCells {
  std::vector<Vec3> cells;
  Vec3 carry_a, carry_b, carry_c;
};
PhiCells phi_cells(const CellVectors& cell, Vec3 spindle, double phi0, const PhiSampling& phi);

// ---- kernel_params.cpp: KernelParams from the resolved units.

/// Everything the units resolved, filled in by prepare_simulation in order.
struct Resolved {
  DetectorGrid grid;
  DetectorFrame frame;
  DetectorPlacement placement;
  PhiSampling phi;
  BeamSampling beam;
  SensorSampling sensor;
  MosaicDomains mosaic;
  BeamFluence fluence;
  CellVectors cell;
  CrystalSize size;
  Oversampling oversampling;
  bool interpolate = false;
};
/// Fills out.params from the units, pointing into out's storage (sources,
/// mosaic matrices, phi cells, mask, structure factors), with the per-quirk
/// switches (C-PARITY-001, C-PARITY-007) and the first pixel the reference
/// renders (where the phi carry-over starts).
void fill_kernel_params(const SimConfig& cfg, const Resolved& r, PreparedSimulation& out);

}  // namespace nbsim::setup
