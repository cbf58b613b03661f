#pragma once
// What a user asks for, in SI units (m, rad, photons/m^2), before any
// defaults are resolved. Fields that can be left out are std::optional (or
// NaN for beam centres and distances: kNotGiven) and are resolved by
// prepare_simulation() the way nanoBragg resolves them; a value the user
// gives is never mistaken for "not given", so validate_config()
// (nbsim/validate.hpp) can refuse it.
#include <array>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include "nbtrace/base/progress.hpp"
#include "nbsim/physics/lattice.hpp"
#include "nbsim/physics/vec3.hpp"
#include "nbsim/quirks.hpp"

namespace nbsim {

inline constexpr double kNotGiven = std::numeric_limits<double>::quiet_NaN();

enum class Convention { custom, adxv, mosflm, xds, dials, denzo };
enum class Pivot { sample, beam };

/// Where the pixels are computed: the CPU launcher or the CUDA kernel
/// (same NB_HD physics). float32 is the GPU's fast mode.
enum class Device { cpu, cuda };
enum class DType { float64, float32 };

struct DetectorConfig {
  Convention convention = Convention::mosflm;
  Pivot pivot = Pivot::beam;            ///< as the flags leave it (last one wins)
  std::optional<Pivot> explicit_pivot;  ///< from -pivot; beats the convention unless C-PARITY-005
  double pixel_size = 0.1e-3;  ///< m
  std::optional<int> fpixels;  ///< not given: from detsize
  std::optional<int> spixels;
  double detsize_f = 102.4e-3;  ///< m
  double detsize_s = 102.4e-3;
  double distance = 100.0e-3;            ///< m, sample to beam spot
  double close_distance = kNotGiven;     ///< m, sample to detector plane
  double Xbeam = kNotGiven, Ybeam = kNotGiven;    ///< m
  double Xclose = kNotGiven, Yclose = kNotGiven;  ///< m
  double ORGX = kNotGiven, ORGY = kNotGiven;      ///< pixels
  // Defaults before a convention overrides them (the reference's initial values).
  Vec3 fdet{0, 0, 1};
  Vec3 sdet{0, -1, 0};
  Vec3 odet{1, 0, 0};
  Vec3 twotheta_axis{0, 1, 0};
  std::optional<Vec3> pix0;  ///< accepted; the pivot computation replaces it (see c-parity.md)
  double rotx = 0, roty = 0, rotz = 0, twotheta = 0;  ///< rad
  bool curved = false;
  bool point_pixel = false;
  std::array<int, 4> roi{-1, -1, -1, -1};  ///< fmin fmax smin smax, inclusive; -1 = edge
  /// Pixels to render: non-zero entries of an SMV mask (-mask); empty: all.
  std::vector<std::uint16_t> mask;
  int mask_fpixels = 0, mask_spixels = 0;
  std::string mask_file;  ///< where the mask came from, for messages
  std::optional<double> mu;         ///< sensor attenuation 1/m
  std::optional<double> thick;      ///< sensor thickness m
  std::optional<double> thickstep;  ///< m
  std::optional<int> thicksteps;
};

struct BeamConfig {
  Vec3 beam{1, 0, 0};
  Vec3 polar_vector{0, 0, 1};
  double lambda0 = 1.0e-10;  ///< m
  double fluence = 125932015286227086360700780544.0;  ///< photons/m^2
  double flux = 0.0;       ///< photons/s
  double exposure = 1.0;   ///< s
  double beamsize = 1e-4;  ///< m
  double kahn = 0.0;       ///< Kahn polarization factor (-polar)
  bool nopolar = false;
  double dispersion = 0.0;  ///< fraction
  std::optional<double> dispstep;  ///< fraction
  std::optional<int> dispsteps;
  std::optional<double> hdivrange, vdivrange, hdivstep, vdivstep;  ///< rad
  std::optional<int> hdivsteps, vdivsteps;
  bool round_div = true;
  double source_distance = 10.0;  ///< m
  /// Sources from a file: lines "X Y Z weight lambda" (m, -, m); replaces
  /// the divergence/dispersion grid.
  std::string source_file;
};

struct CellParams {
  double a = 0, b = 0, c = 0;              ///< Angstrom
  double alpha = 0, beta = 0, gamma = 0;   ///< rad
};

struct CrystalConfig {
  std::optional<CellParams> cell;
  std::string mat_file;
  std::optional<Vec3> misset;  ///< rad about x, y, z
  bool random_misset = false;  ///< -misset random
  std::optional<long> misset_seed;  ///< stored as the reference does (-seed); default: -time
  double Na = 1, Nb = 1, Nc = 1;
  double sample_x = 0, sample_y = 0, sample_z = 0;  ///< m; >0 sets N from size
  CrystalShape shape = CrystalShape::square;
  double fudge = 1;
  double phi0 = 0;                      ///< rad
  std::optional<double> phistep, osc;  ///< rad
  std::optional<int> phisteps;
  Vec3 spindle{0, 0, 1};
  std::optional<double> mosaic_spread;  ///< rad
  std::optional<int> mosaic_domains;
  long mosaic_seed = -12345678;  ///< the reference's default (it stores -seed)
  std::string hkl_file;
  double default_F = 0;
  int interpolate = 2;  ///< 2: auto (on when any N <= 2), 1: on, 0: off
  double water_size = 0;  ///< m
  double dmin = 0;        ///< m
};

struct SamplingConfig {
  std::optional<int> oversample;  ///< not given: automatic
  bool oversample_thick = false, oversample_polar = false, oversample_omega = false;
};

struct TracePixel {
  int spixel = 0;
  int fpixel = 0;
};

struct OutputConfig {
  std::string floatfile = "floatimage.bin";
  std::string intfile;       ///< SMV integer image; empty: not written
  double intfile_scale = 0;  ///< <= 0: 55000 / max_I
  double adc_offset = 40.0;  ///< added to every integer pixel
  std::string pgmfile;       ///< 8-bit PGM preview; empty: not written
  double pgm_scale = 0;      ///< <= 0: 250/(5 rmsd)
  bool pgm = true;           ///< -nopgm turns the preview off
  std::string noisefile;     ///< SMV photon-counting image; empty: not written
  bool noise = true;         ///< -nonoise turns the noise image off
  std::optional<long> noise_seed;  ///< stored as the reference does (-seed); default: -time
  std::vector<TracePixel> trace_pixels;
  std::string trace_file;  ///< empty: traces go to stdout
  std::string stats_json;  ///< -stats_json: the run summary as JSON (nbsim/summary.hpp); empty: none
  bool quiet = false;
  /// -progress (on), -noprogress (off), neither (automatic: a bar when
  /// stderr is a terminal); -quiet turns automatic off. Counted in rows.
  nbtrace::ProgressRequest progress = nbtrace::ProgressRequest::automatic;
};

struct SimConfig {
  /// The mode the user chose (reported by -stats_json) and the quirk set the
  /// run follows, resolved from it (nbsim/quirks.hpp): every mode-dependent
  /// step reads `quirks` alone. set_mode() sets both.
  Mode mode = Mode::spec;
  Quirks quirks = Quirks::none();
  DetectorConfig detector;
  BeamConfig beam;
  CrystalConfig crystal;
  SamplingConfig sampling;
  OutputConfig output;
  int threads = 0;  ///< 0: all hardware threads
  /// -c_threads T: reproduce nanoBragg.c run with OMP_NUM_THREADS=T (its
  /// rows split among T threads, each carrying its own orientation under
  /// C-PARITY-001), whatever nbsim's own thread count. 1: one thread.
  int reference_threads = 1;
  Device device = Device::cpu;
  DType dtype = DType::float64;
  /// -scalar_sin: every float64 lattice sine on the CPU from the C
  /// library's scalar sin: in spec mode instead of libmvec (then the image
  /// is compute_pixel<double>'s bits), with quirks instead of the checked
  /// vector routine (the same bits; slower). Refused with CUDA or float32.
  bool scalar_sines = false;
  int cuda_device = 0;  ///< which GPU -device cuda uses (0 = the first visible one)
  std::string fdump_file = "Fdump.bin";  ///< structure-factor cache, relative to the working folder

  void set_mode(Mode m) {
    mode = m;
    quirks = quirks_for(m);
  }
  /// One quirk on or off over the mode's set (-quirk ID / -no_quirk ID);
  /// `mode` keeps the name the user chose.
  void switch_quirk(const QuirkInfo& quirk, bool on) { quirks.*quirk.member = on; }
};

}  // namespace nbsim
