#pragma once
// Resolves a SimConfig into the kernel's parameters: detector conventions,
// pivots and rotations, the crystal cell and orientation, phi and source
// sampling, structure factors. The order of every computation follows
// nanoBragg.c so that c-parity results agree to the last bit. The units it
// is made of are in src/setup/ (inputs, detector, beam, crystal, sampling,
// kernel parameters; docs/nbsim.md).
#include <string>
#include <utility>
#include <vector>

#include "nbsim/config.hpp"
#include "nbsim/hkl.hpp"
#include "nbsim/physics/kernel.hpp"
#include "nbsim/quirks.hpp"

namespace nbsim {

/// One geometry set-up trace line: name and the value text (numbers %.17g).
struct TraceLine {
  std::string name;
  std::string value;
};

/// A resolved simulation: the kernel parameters and the storage they point
/// into. Not copyable (params hold pointers into the members).
struct PreparedSimulation {
  PreparedSimulation() = default;
  PreparedSimulation(const PreparedSimulation&) = delete;
  PreparedSimulation& operator=(const PreparedSimulation&) = delete;

  KernelParams params;
  std::vector<Source> sources;
  std::vector<double> mosaic_umats;
  std::vector<Vec3> phi_cells;  ///< a, b, c at each phi step
  std::vector<std::uint16_t> mask;  ///< copy of the -mask pixels (empty: none)
  HklGrid hkl;

  // Resolved values reported to the user.
  Convention convention = Convention::mosflm;
  Pivot pivot = Pivot::beam;
  double Xbeam = 0, Ybeam = 0, Fbeam = 0, Sbeam = 0, Fclose = 0, Sclose = 0;
  double detsize_f = 0, detsize_s = 0, lambda0 = 0;
  double phi0 = 0, osc = 0, twotheta = 0;  ///< rad, for image headers
  int auto_oversample = 0;  ///< 0 when the user gave -oversample
  /// The run's quirk set (SimConfig::quirks); the launchers read
  /// rmsd_counts_masked (C-PARITY-009) from it.
  Quirks quirks;
  double fluence = 0;  ///< photons/m^2, after -flux/-exposure/-beamsize
  double flux = 0;     ///< photons/s consistent with that fluence (when exposure > 0)

  std::vector<std::string> log;             ///< informational lines for stdout
  std::vector<TraceLine> geometry_trace;    ///< set-up values printed with a trace
};

/// Throws nbtrace::UsageError for what nbsim/validate.hpp refuses (checked
/// first, before any file is read), impossible geometry or unsupported
/// options, and nbtrace::InputError for unreadable or malformed inputs. Writes the
/// Fdump.bin cache (relative to `workdir`) after reading an HKL file when
/// `write_cache` is set.
void prepare_simulation(const SimConfig& config, PreparedSimulation& out, bool write_cache = true);

std::string convention_name(Convention c);

}  // namespace nbsim
