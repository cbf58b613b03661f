#include "cli.hpp"

#include <boost/program_options.hpp>
#include <cmath>
#include <functional>
#include <map>
#include <sstream>

#include "nbtrace/base/error.hpp"
#include "nbtrace/base/numbers.hpp"
#include "nbsim/physics/kernel.hpp"
#include "nbsim/smv.hpp"

namespace po = boost::program_options;

namespace nbsim_cli {

namespace {

using nbsim::SimConfig;
using nbsim::Vec3;
using Tokens = std::vector<std::string>;
using Apply = std::function<void(SimConfig&, const Tokens&, ParsedCommandLine&)>;

// nanoBragg converts degrees with /RTD, RTD = 180/pi; kept so angles agree to the bit.
constexpr double kRTD = nbsim::detail::kRadToDeg;

struct Flag {
  std::vector<std::string> names;  ///< first is the canonical name
  int min_values = 0;
  int max_values = 0;
  std::string help;
  Apply apply;
};

/// A number on the command line is finite: nan and inf have no meaning in
/// any flag but -detector_abs (inf: no absorption, as in nanoBragg.c), and
/// NaN is the config's "not given" (nbsim/validate.hpp has the other rules).
double number(const std::string& flag, const std::string& token, bool inf_allowed = false) {
  auto v = nbtrace::parse_double(token);
  if (!v) throw nbtrace::UsageError("-" + flag + ": '" + token + "' is not a number");
  if (std::isnan(*v) || (std::isinf(*v) && !inf_allowed))
    throw nbtrace::UsageError("-" + flag + ": '" + token + "' is not a finite number");
  return *v;
}

int integer(const std::string& flag, const std::string& token) {
  const double v = number(flag, token);
  if (std::fabs(v) > 2e9) throw nbtrace::UsageError("-" + flag + ": '" + token + "' is out of range");
  return static_cast<int>(v);  // truncation, like atoi of the integer part
}

Vec3 vec3(const std::string& flag, const Tokens& t) {
  return Vec3{number(flag, t[0]), number(flag, t[1]), number(flag, t[2])};
}

std::vector<Flag> flag_table() {
  using nbsim::Convention;
  using nbsim::CrystalShape;
  using nbsim::Pivot;
  std::vector<Flag> f;
  auto num1 = [&f](std::vector<std::string> names, std::string help, std::function<void(SimConfig&, double)> set) {
    const std::string canonical = names[0];
    f.push_back({std::move(names), 1, 1, std::move(help),
                 [canonical, set](SimConfig& c, const Tokens& t, ParsedCommandLine&) { set(c, number(canonical, t[0])); }});
  };
  auto int1 = [&f](std::vector<std::string> names, std::string help, std::function<void(SimConfig&, int)> set) {
    const std::string canonical = names[0];
    f.push_back({std::move(names), 1, 1, std::move(help),
                 [canonical, set](SimConfig& c, const Tokens& t, ParsedCommandLine&) { set(c, integer(canonical, t[0])); }});
  };
  auto str1 = [&f](std::vector<std::string> names, std::string help, std::function<void(SimConfig&, const std::string&)> set) {
    f.push_back({std::move(names), 1, 1, std::move(help),
                 [set](SimConfig& c, const Tokens& t, ParsedCommandLine&) { set(c, t[0]); }});
  };
  auto vec = [&f](std::vector<std::string> names, std::string help, std::function<void(SimConfig&, Vec3)> set) {
    const std::string canonical = names[0];
    f.push_back({std::move(names), 3, 3, std::move(help),
                 [canonical, set](SimConfig& c, const Tokens& t, ParsedCommandLine&) { set(c, vec3(canonical, t)); }});
  };
  auto flag = [&f](std::vector<std::string> names, std::string help, std::function<void(SimConfig&)> set) {
    f.push_back({std::move(names), 0, 0, std::move(help),
                 [set](SimConfig& c, const Tokens&, ParsedCommandLine&) { set(c); }});
  };
  auto ignored = [&f](std::vector<std::string> names, int values, std::string what) {
    const std::string canonical = names[0];
    f.push_back({std::move(names), values, values, "accepted, " + what,
                 [canonical, what](SimConfig&, const Tokens&, ParsedCommandLine& p) {
                   p.notes.push_back("note: -" + canonical + " " + what);
                 }});
  };

  // ---- nbsim's own.
  str1({"mode"}, "spec (default) or c-parity: reproduce nanoBragg.c's documented quirks", [](SimConfig& c, const std::string& v) {
    if (v == "spec") c.set_mode(nbsim::Mode::spec);
    else if (v == "c-parity" || v == "c_parity" || v == "parity") c.set_mode(nbsim::Mode::c_parity);
    else throw nbtrace::UsageError("-mode: expected 'spec' or 'c-parity', got '" + v + "'");
  });
  // -quirk / -no_quirk: one documented quirk on or off over -mode's set,
  // applied in the first pass after -mode (see parse_command_line).
  const std::string quirk_ids = nbsim::known_quirk_ids();
  auto quirk_switch = [&f, quirk_ids](std::string name, bool on, std::string help) {
    f.push_back({{name}, 1, 1, std::move(help), [name, on, quirk_ids](SimConfig& c, const Tokens& t, ParsedCommandLine&) {
                   const nbsim::QuirkInfo* quirk = nbsim::find_quirk_any_case(t[0]);
                   if (!quirk)
                     throw nbtrace::UsageError("-" + name + ": unknown quirk id '" + t[0] + "' (known: " + quirk_ids + ")");
                   c.switch_quirk(*quirk, on);
                 }});
  };
  quirk_switch("quirk", true,
               "turn one documented quirk on over -mode's set (repeatable; " + quirk_ids + ", any case; docs/c-parity.md)");
  quirk_switch("no_quirk", false, "turn one documented quirk off over -mode's set (repeatable; as -quirk)");
  int1({"nthreads", "threads"}, "worker threads (default: all cores)", [](SimConfig& c, int v) { c.threads = v; });
  int1({"c_threads"},
       "reproduce nanoBragg.c run with OMP_NUM_THREADS=T, 1..64 (with C-PARITY-001: its rows split among T threads, "
       "each carrying its own orientation), whatever -nthreads is",
       [](SimConfig& c, int v) { c.reference_threads = v; });
  str1({"device"}, "cpu (default) or cuda: compute the pixels on the GPU", [](SimConfig& c, const std::string& v) {
    if (v == "cpu") c.device = nbsim::Device::cpu;
    else if (v == "cuda" || v == "gpu") c.device = nbsim::Device::cuda;
    else throw nbtrace::UsageError("-device: expected 'cpu' or 'cuda', got '" + v + "'");
  });
  int1({"cuda_device"}, "which GPU -device cuda uses: 0 (default) .. GPUs-1, as -list_devices shows",
       [](SimConfig& c, int v) { c.cuda_device = v; });
  flag({"list_devices"}, "print the devices nbsim can use (\"cpu: N threads\", \"cuda I: NAME\" per GPU) and exit", [](SimConfig&) {});
  str1({"dtype"}, "float64 (default; also 'double') or float32 (also 'float'), CPU and CUDA",
       [](SimConfig& c, const std::string& v) {
    if (v == "float64" || v == "double") c.dtype = nbsim::DType::float64;
    else if (v == "float32" || v == "float") c.dtype = nbsim::DType::float32;
    else throw nbtrace::UsageError("-dtype: expected 'float64' ('double') or 'float32' ('float'), got '" + v + "'");
  });
  flag({"scalar_sin"},
       "every float64 lattice sine on the CPU from the C library's scalar sin (slower): spec mode then gives the "
       "scalar reference's bits, not libmvec's; c-parity gives the same bits as its default checked vector sines",
       [](SimConfig& c) { c.scalar_sines = true; });
  str1({"trace_file"}, "write traces to this file instead of stdout", [](SimConfig& c, const std::string& v) { c.output.trace_file = v; });
  str1({"stats_json"}, "also write the statistics (full precision), image shape, mode and device as JSON to this file",
       [](SimConfig& c, const std::string& v) { c.output.stats_json = v; });
  flag({"quiet"}, "print only the statistics lines", [](SimConfig& c) { c.output.quiet = true; });
  flag({"help", "h"}, "this help", [](SimConfig&) {});
  flag({"version"}, "print the version line (also --version)", [](SimConfig&) {});

  // ---- crystal.
  int1({"Na"}, "unit cells along a", [](SimConfig& c, int v) { c.crystal.Na = v; });
  int1({"Nb"}, "unit cells along b", [](SimConfig& c, int v) { c.crystal.Nb = v; });
  int1({"Nc"}, "unit cells along c", [](SimConfig& c, int v) { c.crystal.Nc = v; });
  int1({"N"}, "unit cells along a, b and c", [](SimConfig& c, int v) { c.crystal.Na = c.crystal.Nb = c.crystal.Nc = v; });
  // All six: nanoBragg.c reads fewer as a cubic cell (b = c = a, 90 degrees),
  // which hides a mistyped line; nbsim asks for the cell in full.
  f.push_back({{"cell"}, 6, 6, "a b c alpha beta gamma (Angstrom, degrees)",
               [](SimConfig& c, const Tokens& t, ParsedCommandLine&) {
                 nbsim::CellParams cell;
                 double* fields[6] = {&cell.a, &cell.b, &cell.c, &cell.alpha, &cell.beta, &cell.gamma};
                 for (std::size_t i = 0; i < t.size(); ++i) *fields[i] = number("cell", t[i]) / (i >= 3 ? kRTD : 1.0);
                 c.crystal.cell = cell;
               }});
  f.push_back({{"misset"}, 1, 3, "rotations about x, y, z (degrees) applied to the reciprocal cell, or random",
               [](SimConfig& c, const Tokens& t, ParsedCommandLine&) {
                 if (t.size() == 1 && t[0].find("rand") != std::string::npos) {
                   c.crystal.random_misset = true;
                   c.crystal.misset.reset();
                   return;
                 }
                 if (t.size() != 3) throw nbtrace::UsageError("-misset needs 3 angles (degrees) or 'random'");
                 c.crystal.misset = Vec3{number("misset", t[0]) / kRTD, number("misset", t[1]) / kRTD,
                                         number("misset", t[2]) / kRTD};
                 c.crystal.random_misset = false;
               }});
  str1({"mat"}, "MOSFLM A matrix file", [](SimConfig& c, const std::string& v) { c.crystal.mat_file = v; });
  str1({"hkl"}, "structure factors: text lines h k l F", [](SimConfig& c, const std::string& v) { c.crystal.hkl_file = v; });
  num1({"default_F"}, "structure factor of reflections not in -hkl", [](SimConfig& c, double v) { c.crystal.default_F = v; });
  flag({"round_xtal"}, "ellipsoidal crystal (sinc3)", [](SimConfig& c) { c.crystal.shape = CrystalShape::round; });
  flag({"square_xtal"}, "parallelepiped crystal (sincg, default)", [](SimConfig& c) { c.crystal.shape = CrystalShape::square; });
  flag({"gauss_xtal"}, "Gaussian spots", [](SimConfig& c) { c.crystal.shape = CrystalShape::gauss; });
  flag({"tophat_spots", "binary_spots"}, "flat-top spots", [](SimConfig& c) { c.crystal.shape = CrystalShape::tophat; });
  num1({"fudge"}, "spot-shape radius factor", [](SimConfig& c, double v) { c.crystal.fudge = v; });
  flag({"interpolate"}, "tricubic structure-factor interpolation", [](SimConfig& c) { c.crystal.interpolate = 1; });
  flag({"nointerpolate"}, "nearest-neighbour structure factors", [](SimConfig& c) { c.crystal.interpolate = 0; });
  num1({"phi"}, "start of the rotation (degrees)", [](SimConfig& c, double v) { c.crystal.phi0 = v / kRTD; });
  num1({"osc"}, "rotation range (degrees)", [](SimConfig& c, double v) { c.crystal.osc = v / kRTD; });
  num1({"phistep"}, "rotation step (degrees)", [](SimConfig& c, double v) { c.crystal.phistep = v / kRTD; });
  int1({"phisteps"}, "rotation steps", [](SimConfig& c, int v) { c.crystal.phisteps = v; });
  num1({"dmin"}, "resolution cut (Angstrom)", [](SimConfig& c, double v) { c.crystal.dmin = v * 1e-10; });
  num1({"water"}, "water around the crystal (micrometres)", [](SimConfig& c, double v) { c.crystal.water_size = v / 1e6; });
  num1({"samplesize", "sample_size", "xtalsize", "xtal_size"}, "crystal size (mm), sets N", [](SimConfig& c, double v) {
    c.crystal.sample_x = c.crystal.sample_y = c.crystal.sample_z = v / 1000;
  });
  num1({"sample_thick", "sample_x", "xtal_thick", "xtal_x"}, "crystal size along a (mm)", [](SimConfig& c, double v) { c.crystal.sample_x = v / 1000; });
  num1({"sample_width", "sample_y", "xtal_width", "xtal_y", "width"}, "crystal size along b (mm)", [](SimConfig& c, double v) { c.crystal.sample_y = v / 1000; });
  num1({"sample_height", "sample_z", "xtal_height", "xtal_z", "height"}, "crystal size along c (mm)", [](SimConfig& c, double v) { c.crystal.sample_z = v / 1000; });
  num1({"mosaic", "mosaici", "mosaic_spr", "mosaic_spread", "mosaicity"}, "isotropic mosaic spread (degrees)", [](SimConfig& c, double v) { c.crystal.mosaic_spread = v / kRTD; });
  int1({"mosaic_domains", "mosaic_dom"}, "mosaic domains", [](SimConfig& c, int v) { c.crystal.mosaic_domains = v; });

  // ---- beam.
  num1({"lambda", "wave", "wavelength"}, "wavelength (Angstrom)", [](SimConfig& c, double v) { c.beam.lambda0 = v / 1.0e10; });
  num1({"energy"}, "photon energy (eV)", [](SimConfig& c, double v) { c.beam.lambda0 = (12398.42 / v) / 1.0e10; });
  num1({"fluence"}, "photons/m^2", [](SimConfig& c, double v) { c.beam.fluence = v; });
  num1({"flux"}, "photons/s (with -exposure, -beamsize)", [](SimConfig& c, double v) { c.beam.flux = v; });
  num1({"exposure"}, "seconds", [](SimConfig& c, double v) { c.beam.exposure = v; });
  num1({"beamsize"}, "beam size (mm)", [](SimConfig& c, double v) { c.beam.beamsize = v / 1000; });
  num1({"polar"}, "Kahn polarization factor", [](SimConfig& c, double v) {
    c.beam.kahn = v;
    c.beam.nopolar = false;
  });
  flag({"nopolar"}, "no polarization correction", [](SimConfig& c) { c.beam.nopolar = true; });
  num1({"dispersion"}, "spectral width (percent)", [](SimConfig& c, double v) { c.beam.dispersion = v / 100.0; });
  int1({"dispsteps"}, "wavelengths", [](SimConfig& c, int v) { c.beam.dispsteps = v; });
  num1({"divergence"}, "divergence in both directions (mrad)", [](SimConfig& c, double v) { c.beam.hdivrange = c.beam.vdivrange = v / 1000.0; });
  num1({"hdivrange"}, "horizontal divergence (mrad)", [](SimConfig& c, double v) { c.beam.hdivrange = v / 1000.0; });
  num1({"vdivrange"}, "vertical divergence (mrad)", [](SimConfig& c, double v) { c.beam.vdivrange = v / 1000.0; });
  num1({"hdivstep"}, "horizontal divergence step (mrad)", [](SimConfig& c, double v) { c.beam.hdivstep = v / 1000.0; });
  num1({"vdivstep"}, "vertical divergence step (mrad)", [](SimConfig& c, double v) { c.beam.vdivstep = v / 1000.0; });
  int1({"hdivsteps"}, "horizontal divergence steps", [](SimConfig& c, int v) { c.beam.hdivsteps = v; });
  int1({"vdivsteps"}, "vertical divergence steps", [](SimConfig& c, int v) { c.beam.vdivsteps = v; });
  int1({"divsteps"}, "divergence steps in both directions", [](SimConfig& c, int v) { c.beam.hdivsteps = c.beam.vdivsteps = v; });
  flag({"round_div"}, "cut the divergence grid to an ellipse (default)", [](SimConfig& c) { c.beam.round_div = true; });
  flag({"square_div"}, "full divergence grid", [](SimConfig& c) { c.beam.round_div = false; });
  // Commented out in nanoBragg.c; kept for the spec. Source directions are
  // normalised, so the distance never changes the image.
  num1({"source_distance"}, "distance of the source (mm, default 10 m; no effect on the image)",
       [](SimConfig& c, double v) { c.beam.source_distance = v / 1000.0; });

  // ---- detector.
  auto custom = [](SimConfig& c) { c.detector.convention = Convention::custom; };
  num1({"Xbeam"}, "beam centre (mm), pivots on the beam", [](SimConfig& c, double v) { c.detector.Xbeam = v / 1000.0; c.detector.pivot = Pivot::beam; });
  num1({"Ybeam"}, "beam centre (mm), pivots on the beam", [](SimConfig& c, double v) { c.detector.Ybeam = v / 1000.0; c.detector.pivot = Pivot::beam; });
  num1({"Xclose"}, "closest point (mm), pivots on the sample", [](SimConfig& c, double v) { c.detector.Xclose = v / 1000.0; c.detector.pivot = Pivot::sample; });
  num1({"Yclose"}, "closest point (mm), pivots on the sample", [](SimConfig& c, double v) { c.detector.Yclose = v / 1000.0; c.detector.pivot = Pivot::sample; });
  num1({"ORGX"}, "XDS origin (pixels), pivots on the sample", [](SimConfig& c, double v) { c.detector.ORGX = v; c.detector.pivot = Pivot::sample; });
  num1({"ORGY"}, "XDS origin (pixels), pivots on the sample", [](SimConfig& c, double v) { c.detector.ORGY = v; c.detector.pivot = Pivot::sample; });
  str1({"pivot"}, "sample or beam", [](SimConfig& c, const std::string& v) {
    if (v.find("sample") != std::string::npos) c.detector.pivot = Pivot::sample;
    else if (v.find("beam") != std::string::npos) c.detector.pivot = Pivot::beam;
    else throw nbtrace::UsageError("-pivot: expected 'sample' or 'beam', got '" + v + "'");
    c.detector.explicit_pivot = c.detector.pivot;
  });
  flag({"mosflm"}, "MOSFLM convention", [](SimConfig& c) { c.detector.convention = Convention::mosflm; c.detector.pivot = Pivot::beam; });
  flag({"xds"}, "XDS convention", [](SimConfig& c) { c.detector.convention = Convention::xds; c.detector.pivot = Pivot::sample; });
  flag({"adxv"}, "ADXV convention", [](SimConfig& c) { c.detector.convention = Convention::adxv; c.detector.pivot = Pivot::beam; });
  flag({"denzo"}, "DENZO convention", [](SimConfig& c) { c.detector.convention = Convention::denzo; c.detector.pivot = Pivot::beam; });
  flag({"dials"}, "DIALS convention", [](SimConfig& c) { c.detector.convention = Convention::dials; c.detector.pivot = Pivot::beam; });
  vec({"fdet_vector"}, "fast axis (CUSTOM)", [custom](SimConfig& c, Vec3 v) { custom(c); c.detector.fdet = v; });
  vec({"sdet_vector"}, "slow axis (CUSTOM)", [custom](SimConfig& c, Vec3 v) { custom(c); c.detector.sdet = v; });
  vec({"odet_vector"}, "detector normal (CUSTOM)", [custom](SimConfig& c, Vec3 v) { custom(c); c.detector.odet = v; });
  vec({"beam_vector"}, "beam direction (CUSTOM)", [custom](SimConfig& c, Vec3 v) { custom(c); c.beam.beam = v; });
  vec({"polar_vector"}, "E-vector direction (CUSTOM)", [custom](SimConfig& c, Vec3 v) { custom(c); c.beam.polar_vector = v; });
  vec({"spindle_axis"}, "phi axis (CUSTOM)", [custom](SimConfig& c, Vec3 v) { custom(c); c.crystal.spindle = v; });
  vec({"twotheta_axis"}, "two-theta axis (CUSTOM)", [custom](SimConfig& c, Vec3 v) {
    custom(c);
    c.detector.twotheta_axis = v;
    if (c.quirks.twotheta_axis_sets_twotheta) {
      // nanoBragg also reads this flag as -twotheta <x> (C-PARITY-002).
      c.detector.twotheta = v.x / kRTD;
      c.detector.pivot = Pivot::sample;
    }
  });
  vec({"pix0_vector", "pix0_vector_mm"}, "first-pixel position (CUSTOM; replaced by the pivot computation)",
      [custom](SimConfig& c, Vec3 v) { custom(c); c.detector.pix0 = v; });
  num1({"distance"}, "sample to beam spot (mm), pivots on the beam", [](SimConfig& c, double v) { c.detector.distance = v / 1000.0; c.detector.pivot = Pivot::beam; });
  num1({"close_distance"}, "sample to detector plane (mm), pivots on the sample", [](SimConfig& c, double v) { c.detector.close_distance = v / 1000.0; c.detector.pivot = Pivot::sample; });
  num1({"twotheta"}, "detector two-theta (degrees), pivots on the sample", [](SimConfig& c, double v) { c.detector.twotheta = v / kRTD; c.detector.pivot = Pivot::sample; });
  num1({"detector_rotx"}, "detector rotation about x (degrees)", [](SimConfig& c, double v) { c.detector.rotx = v / kRTD; });
  num1({"detector_roty"}, "detector rotation about y (degrees)", [](SimConfig& c, double v) { c.detector.roty = v / kRTD; });
  num1({"detector_rotz"}, "detector rotation about z (degrees)", [](SimConfig& c, double v) { c.detector.rotz = v / kRTD; });
  num1({"detsize"}, "detector size (mm)", [](SimConfig& c, double v) { c.detector.detsize_f = c.detector.detsize_s = v / 1000.0; });
  num1({"detsize_f"}, "detector fast size (mm)", [](SimConfig& c, double v) { c.detector.detsize_f = v / 1000.0; });
  num1({"detsize_s"}, "detector slow size (mm)", [](SimConfig& c, double v) { c.detector.detsize_s = v / 1000.0; });
  int1({"detpixels"}, "pixels per edge", [](SimConfig& c, int v) { c.detector.fpixels = c.detector.spixels = v; });
  int1({"detpixels_f", "detpixels_x"}, "fast pixels", [](SimConfig& c, int v) { c.detector.fpixels = v; });
  int1({"detpixels_s", "detpixels_y"}, "slow pixels", [](SimConfig& c, int v) { c.detector.spixels = v; });
  // nanoBragg expects a (ignored) word after -curved_det; both forms work here.
  f.push_back({{"curved_det"}, 0, 1, "all pixels at the same distance",
               [](SimConfig& c, const Tokens&, ParsedCommandLine&) { c.detector.curved = true; }});
  num1({"pixel"}, "pixel size (mm)", [](SimConfig& c, double v) { c.detector.pixel_size = v / 1000.0; });
  flag({"point_pixel"}, "inverse-square law only (no obliquity)", [](SimConfig& c) { c.detector.point_pixel = true; });
  f.push_back({{"roi"}, 4, 4, "xmin xmax ymin ymax (pixels, inclusive)",
               [](SimConfig& c, const Tokens& t, ParsedCommandLine&) {
                 for (int i = 0; i < 4; ++i) c.detector.roi[i] = integer("roi", t[i]);
               }});
  f.push_back({{"detector_abs", "detector_absorb", "detector_absorption"}, 1, 1,
               "sensor attenuation depth (um; inf or 0: none)", [](SimConfig& c, const Tokens& t, ParsedCommandLine&) {
                 const double v = number("detector_abs", t[0], true);
                 if (std::isinf(v) || v == 0.0) {
                   c.detector.thick = 0.0;
                   c.detector.mu = 0.0;
                 } else {
                   c.detector.mu = 1.0 / (v * 1e-6);
                 }
               }});
  num1({"detector_thick"}, "sensor thickness (um)", [](SimConfig& c, double v) { c.detector.thick = v * 1e-6; });
  int1({"detector_thicksteps", "thicksteps"}, "sensor layers", [](SimConfig& c, int v) { c.detector.thicksteps = v; });

  // ---- sampling.
  int1({"oversample"}, "sub-pixels per pixel edge", [](SimConfig& c, int v) { c.sampling.oversample = v; });
  flag({"oversample_thick"}, "absorption per sub-pixel", [](SimConfig& c) { c.sampling.oversample_thick = true; });
  flag({"oversample_polar"}, "polarization per sub-pixel", [](SimConfig& c) { c.sampling.oversample_polar = true; });
  flag({"oversample_omega"}, "solid angle per sub-pixel", [](SimConfig& c) { c.sampling.oversample_omega = true; });

  // ---- output and tracing.
  str1({"floatfile", "floatimage"}, "float image (raw float32, fast-major)", [](SimConfig& c, const std::string& v) { c.output.floatfile = v; });
  f.push_back({{"trace_pixel", "dump_pixel"}, 2, 2, "slow fast: trace this pixel (repeatable)",
               [](SimConfig& c, const Tokens& t, ParsedCommandLine&) {
                 c.output.trace_pixels.push_back({integer("trace_pixel", t[0]), integer("trace_pixel", t[1])});
               }});
  flag({"noprogress"}, "no progress meter", [](SimConfig& c) { c.output.progress = nbtrace::ProgressRequest::off; });
  flag({"progress"},
       "progress in rows on stderr: a live bar on a terminal, else a line every 2 s ($NB_PROGRESS_INTERVAL seconds) with done/total, rate and time "
       "left (default: the bar on a terminal, nothing otherwise or with -quiet)",
       [](SimConfig& c) { c.output.progress = nbtrace::ProgressRequest::on; });
  flag({"nonoise"}, "no noise image", [](SimConfig& c) { c.output.noise = false; });
  flag({"nopgm"}, "no PGM preview", [](SimConfig& c) { c.output.pgm = false; });
  str1({"intfile", "intimage"}, "SMV integer image (float * scale + adc, 16 bit)", [](SimConfig& c, const std::string& v) { c.output.intfile = v; });
  num1({"scale"}, "integer-image scale (default 55000/max_I)", [](SimConfig& c, double v) { c.output.intfile_scale = v; });
  num1({"adc"}, "integer-image offset (default 40)", [](SimConfig& c, double v) { c.output.adc_offset = v; });
  str1({"noisefile", "noiseimage"}, "SMV image with Poisson photon noise", [](SimConfig& c, const std::string& v) {
    c.output.noisefile = v;
    c.output.noise = true;
  });
  int1({"seed"}, "random seed of the noise image (default: the time)", [](SimConfig& c, int v) { c.output.noise_seed = -static_cast<long>(v); });
  str1({"pgmfile", "pgmimage"}, "8-bit PGM preview", [](SimConfig& c, const std::string& v) {
    c.output.pgmfile = v;
    c.output.pgm = true;
  });
  num1({"pgmscale"}, "PGM scale (default 250/(5 rmsd))", [](SimConfig& c, double v) {
    c.output.pgm_scale = v;
    c.output.pgm = true;
  });
  int1({"mosaic_seed"}, "random seed of the mosaic domains (default 12345678)", [](SimConfig& c, int v) { c.crystal.mosaic_seed = -v; });
  int1({"misset_seed"}, "random seed of -misset random (default: the time)", [](SimConfig& c, int v) { c.crystal.misset_seed = -static_cast<long>(v); });
  ignored({"printout"}, 0, "is ignored");
  ignored({"printout_pixel"}, 2, "is ignored");
  ignored({"coherent"}, 0, "has no effect in nanoBragg either");
  num1({"density", "sample_density", "sample_den"}, "has no effect on the image", [](SimConfig&, double) {});
  num1({"MW", "molecular_weight"}, "has no effect on the image", [](SimConfig&, double) {});
  str1({"sourcefile"}, "beam sources: lines X Y Z weight lambda (m, -, m)", [](SimConfig& c, const std::string& v) { c.beam.source_file = v; });
  // Read before every other flag (see parse_command_line), as nanoBragg does.
  str1({"img"}, "SMV image whose header sets detector size, pixel, distances, wavelength, beam centre, phi",
       [](SimConfig&, const std::string&) {});
  str1({"mask"}, "SMV mask: render only its non-zero pixels (its header is read like -img's)",
       [](SimConfig&, const std::string&) {});
  // nanoBragg reads these amorphous-scattering tables but never uses them
  // in the image.
  ignored({"stol"}, 1, "is read by nanoBragg but does not change the image; ignored");
  ignored({"4stol"}, 1, "is read by nanoBragg but does not change the image; ignored");
  ignored({"Q"}, 1, "is read by nanoBragg but does not change the image; ignored");
  ignored({"stolout"}, 1, "is never written by nanoBragg; ignored");
  return f;
}

}  // namespace

std::string usage_text() {
  std::ostringstream s;
  s << "usage: nbsim [-mode spec|c-parity] [-quirk ID|-no_quirk ID ...] (-mat A.mat | -cell a b c al be ga) (-hkl F.hkl | -default_F F) [options]\n"
       "A nanoBragg-compatible diffraction simulator. Flags take one dash; values follow them.\n";
  for (const Flag& f : flag_table()) {
    std::string names;
    for (const auto& n : f.names) names += (names.empty() ? "-" : " -") + n;
    s << "  " << names;
    if (f.max_values > 0) s << " <" << f.max_values << (f.max_values == 1 ? " value>" : " values>");
    s << "\n      " << f.help << "\n";
  }
  return s.str();
}

ParsedCommandLine parse_command_line(const std::vector<std::string>& args) {
  const std::vector<Flag> table = flag_table();
  po::options_description desc;
  std::map<std::string, std::size_t> by_name;
  for (std::size_t i = 0; i < table.size(); ++i) {
    for (const auto& name : table[i].names) {
      by_name[name] = i;
      if (table[i].max_values == 0) {
        desc.add_options()(name.c_str(), "");
      } else if (table[i].min_values == 0) {
        desc.add_options()(name.c_str(), po::value<std::vector<std::string>>()->zero_tokens()->multitoken(), "");
      } else if (table[i].max_values == 1) {
        desc.add_options()(name.c_str(), po::value<std::string>(), "");
      } else {
        desc.add_options()(name.c_str(), po::value<std::vector<std::string>>()->multitoken(), "");
      }
    }
  }
  po::parsed_options parsed(&desc);
  try {
    // Single-dash long names only: no short-option bundling, no guessing.
    const int style = po::command_line_style::allow_long | po::command_line_style::allow_long_disguise |
                      po::command_line_style::long_allow_next | po::command_line_style::long_allow_adjacent;
    parsed = po::command_line_parser(args).options(desc).style(style).run();
  } catch (const po::unknown_option& e) {
    throw nbtrace::UsageError("unknown option " + e.get_option_name());
  } catch (const po::error& e) {
    // Boost names options "--name"; nbsim's spelling is "-name".
    std::string msg = e.what();
    for (auto pos = msg.find("'--"); pos != std::string::npos; pos = msg.find("'--", pos)) msg.erase(pos + 1, 1);
    throw nbtrace::UsageError(msg);
  }
  ParsedCommandLine result;
  // Pass 1: the quirk set first (-mode, the last one wins), since a flag
  // may mean something else with a quirk (C-PARITY-002: -twotheta_axis),
  // whatever the order of the flags; then the -mask and -img headers (mask
  // first, so -img wins), which the other flags override whatever their
  // order. Pass 2 applies every other flag in command-line order.
  std::string img, mask;
  for (const auto& opt : parsed.options) {
    if (opt.value.empty()) continue;
    if (opt.string_key == "mode") table[by_name.at("mode")].apply(result.config, opt.value, result);
    if (opt.string_key == "img") img = opt.value[0];
    if (opt.string_key == "mask") mask = opt.value[0];
  }
  // -quirk/-no_quirk edit the mode's set, in command-line order, wherever
  // -mode stands.
  for (const auto& opt : parsed.options)
    if (!opt.value.empty() && (opt.string_key == "quirk" || opt.string_key == "no_quirk"))
      table[by_name.at(opt.string_key)].apply(result.config, opt.value, result);
  if (!mask.empty()) nbsim::apply_smv_header(result.config, nbsim::read_smv(mask), true);
  if (!img.empty()) nbsim::apply_smv_header(result.config, nbsim::read_smv(img), false);
  for (const auto& opt : parsed.options) {
    if (opt.position_key >= 0 || opt.string_key.empty()) {
      const std::string token = opt.original_tokens.empty() ? std::string() : opt.original_tokens[0];
      if (token.size() > 1 && token[0] == '-' && !nbtrace::parse_double(token))
        throw nbtrace::UsageError("unknown option " + token);
      throw nbtrace::UsageError("unexpected argument '" + token + "'");
    }
    const Flag& f = table[by_name.at(opt.string_key)];
    const int n = static_cast<int>(opt.value.size());
    if (n < f.min_values || n > f.max_values) {
      std::string want = f.min_values == f.max_values ? std::to_string(f.min_values)
                                                      : std::to_string(f.min_values) + " to " + std::to_string(f.max_values);
      throw nbtrace::UsageError("-" + opt.string_key + " needs " + want + " value" + (f.max_values == 1 ? "" : "s") +
                                ", got " + std::to_string(n));
    }
    if (opt.string_key == "help" || opt.string_key == "h") result.help = true;
    if (opt.string_key == "version") result.version = true;
    if (opt.string_key == "list_devices") result.list_devices = true;
    if (opt.string_key == "mode" || opt.string_key == "quirk" || opt.string_key == "no_quirk") continue;
    f.apply(result.config, opt.value, result);
  }
  return result;
}

}  // namespace nbsim_cli
