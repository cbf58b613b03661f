// The rules of nbsim/validate.hpp. A SimConfig holds SI units (m, rad); each
// message names the flag a user types and shows the value in that flag's
// unit, so "-distance must be > 0, got -50 mm" reads like the command line.
#include "nbsim/validate.hpp"

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <optional>
#include <string>

#include <fmt/format.h>

#include "nbtrace/base/error.hpp"
#include "nbsim/physics/kernel.hpp"

namespace nbsim {

namespace {

constexpr double kRTD = detail::kRadToDeg;  // the reference's degrees per radian
constexpr double kGiB = 1024.0 * 1024.0 * 1024.0;

/// How a value the user gives is shown: config value * scale, then the unit.
struct Shown {
  double scale = 1;
  const char* unit = "";
};
constexpr Shown kMm{1000.0, " mm"};
constexpr Shown kUm{1e6, " um"};
constexpr Shown kDeg{kRTD, " degrees"};
constexpr Shown kMrad{1000.0, " mrad"};
constexpr Shown kAngstrom{1e10, " Angstrom"};
constexpr Shown kPercent{100.0, " percent"};
constexpr Shown kPlain{};

[[noreturn]] void refuse(std::string_view flag, std::string_view rule, double value, Shown shown) {
  throw nbtrace::UsageError(fmt::format("{} must be {}, got {:g}{}", flag, rule, value * shown.scale, shown.unit));
}

void finite(std::string_view flag, double v, Shown shown = kPlain) {
  if (!std::isfinite(v)) refuse(flag, "a finite number", v, shown);
}
/// NaN is the config's "not given" for beam centres and distances.
void finite_if_given(std::string_view flag, double v, Shown shown = kPlain) {
  if (std::isinf(v)) refuse(flag, "a finite number", v, shown);
}
void positive(std::string_view flag, double v, Shown shown = kPlain) {
  if (!(std::isfinite(v) && v > 0)) refuse(flag, "finite and > 0", v, shown);
}
void non_negative(std::string_view flag, double v, Shown shown = kPlain) {
  if (!(std::isfinite(v) && v >= 0)) refuse(flag, "finite and >= 0", v, shown);
}
void positive(std::string_view flag, const std::optional<double>& v, Shown shown = kPlain) {
  if (v) positive(flag, *v, shown);
}
void non_negative(std::string_view flag, const std::optional<double>& v, Shown shown = kPlain) {
  if (v) non_negative(flag, *v, shown);
}
/// Unit cells, pixels, steps, domains, sub-pixels: a count of none has no meaning.
void count(std::string_view flag, double v) {
  if (!(std::isfinite(v) && v >= 1)) refuse(flag, "at least 1", v, kPlain);
}
void count(std::string_view flag, const std::optional<int>& v) {
  if (v) count(flag, *v);
}
void finite(std::string_view flag, Vec3 v) {
  if (!(std::isfinite(v.x) && std::isfinite(v.y) && std::isfinite(v.z)))
    throw nbtrace::UsageError(fmt::format("{} must be 3 finite numbers, got {:g} {:g} {:g}", flag, v.x, v.y, v.z));
}
/// An axis gives a direction: the zero vector has none.
void direction(std::string_view flag, Vec3 v) {
  finite(flag, v);
  if (v.x == 0 && v.y == 0 && v.z == 0) throw nbtrace::UsageError(fmt::format("{} must not be 0 0 0", flag));
}

void validate_cell(const CellParams& c) {
  const auto shown = [&] {
    return fmt::format("-cell {:g} {:g} {:g} {:g} {:g} {:g}", c.a, c.b, c.c, c.alpha * kRTD, c.beta * kRTD,
                       c.gamma * kRTD);
  };
  for (double length : {c.a, c.b, c.c})
    if (!(std::isfinite(length) && length > 0))
      throw nbtrace::UsageError(shown() + ": the lengths a b c must be finite and > 0 Angstrom");
  for (double angle : {c.alpha, c.beta, c.gamma})
    if (!(std::isfinite(angle) && angle > 0 && angle * kRTD < 180))
      throw nbtrace::UsageError(shown() + ": the angles alpha beta gamma must be between 0 and 180 degrees");
  // The metric's determinant over (abc)^2, i.e. (V/abc)^2: three angles
  // close a cell only when it is positive (the tolerance absorbs rounding:
  // 60 60 120 is flat, 1e-17 from 0).
  const double ca = std::cos(c.alpha), cb = std::cos(c.beta), cg = std::cos(c.gamma);
  const double gram = 1 - ca * ca - cb * cb - cg * cg + 2 * ca * cb * cg;
  if (!(gram > 1e-12))
    throw nbtrace::UsageError(fmt::format(
        "{}: the angles cannot form a cell: 1 - cos^2 alpha - cos^2 beta - cos^2 gamma + "
        "2 cos alpha cos beta cos gamma = {:.3g}, must be > 0",
        shown(), gram));
}

}  // namespace

void validate_config(const SimConfig& cfg) {
  const DetectorConfig& d = cfg.detector;
  const BeamConfig& bm = cfg.beam;
  const CrystalConfig& cr = cfg.crystal;
  const OutputConfig& out = cfg.output;

  if (cfg.threads < 0) refuse("-nthreads", ">= 0", cfg.threads, kPlain);
  if (cfg.cuda_device < 0) refuse("-cuda_device", ">= 0", cfg.cuda_device, kPlain);
  if (cfg.reference_threads < 1 || cfg.reference_threads > KernelParams::kMaxReferenceThreads)
    refuse("-c_threads", "1..64", cfg.reference_threads, kPlain);
  // Only the phi carry-over is per thread in nanoBragg.c: without it the
  // thread count changes nothing, and asking for it means a mode slip.
  if (cfg.reference_threads > 1 && !cfg.quirks.phi_carry)
    throw nbtrace::UsageError("-c_threads needs the phi carry-over (C-PARITY-001): use -mode c-parity");

  // -scalar_sin picks the CPU's float64 sine routine; elsewhere it would
  // silently change nothing.
  if (cfg.scalar_sines && cfg.device != Device::cpu)
    throw nbtrace::UsageError("-scalar_sin is a CPU option (the C library's sin); drop it or use -device cpu");
  if (cfg.scalar_sines && cfg.dtype != DType::float64)
    throw nbtrace::UsageError("-scalar_sin needs -dtype float64 (float32 sines are a polynomial, not the C library's)");

  // ---- crystal.
  count("-Na (or -N)", cr.Na);
  count("-Nb (or -N)", cr.Nb);
  count("-Nc (or -N)", cr.Nc);
  if (cr.cell) validate_cell(*cr.cell);
  if (cr.misset) finite("-misset", *cr.misset);
  finite("-default_F", cr.default_F);
  positive("-fudge", cr.fudge);
  finite("-phi", cr.phi0, kDeg);
  non_negative("-osc", cr.osc, kDeg);
  positive("-phistep", cr.phistep, kDeg);
  count("-phisteps", cr.phisteps);
  direction("-spindle_axis", cr.spindle);
  non_negative("-dmin", cr.dmin, kAngstrom);
  non_negative("-water", cr.water_size, kUm);
  // 0 leaves the size to -N (the reference's meaning); a negative size has none.
  non_negative("-sample_thick (or -samplesize)", cr.sample_x, kMm);
  non_negative("-sample_width (or -samplesize)", cr.sample_y, kMm);
  non_negative("-sample_height (or -samplesize)", cr.sample_z, kMm);
  non_negative("-mosaic", cr.mosaic_spread, kDeg);  // 0: one domain, as in the reference
  count("-mosaic_domains", cr.mosaic_domains);

  // ---- beam.
  positive("-lambda (or -energy)", bm.lambda0, kAngstrom);
  non_negative("-fluence", bm.fluence);
  non_negative("-flux", bm.flux);
  // 0: -flux does not apply and -fluence stays (the spec's AT-FLU-001, as in the reference).
  non_negative("-exposure", bm.exposure, Shown{1.0, " s"});
  positive("-beamsize", bm.beamsize, kMm);
  // |K| <= 1 keeps the polarization factor (1 + cos^2 2theta - K cos 2psi sin^2 2theta)/2 >= 0.
  if (!(std::isfinite(bm.kahn) && std::fabs(bm.kahn) <= 1)) refuse("-polar", "between -1 and 1", bm.kahn, kPlain);
  direction("-beam_vector", bm.beam);
  direction("-polar_vector", bm.polar_vector);
  non_negative("-dispersion", bm.dispersion, kPercent);
  positive("-dispstep", bm.dispstep, kPercent);
  count("-dispsteps", bm.dispsteps);
  non_negative("-hdivrange (or -divergence)", bm.hdivrange, kMrad);
  non_negative("-vdivrange (or -divergence)", bm.vdivrange, kMrad);
  positive("-hdivstep", bm.hdivstep, kMrad);
  positive("-vdivstep", bm.vdivstep, kMrad);
  count("-hdivsteps (or -divsteps)", bm.hdivsteps);
  count("-vdivsteps (or -divsteps)", bm.vdivsteps);
  positive("-source_distance", bm.source_distance, kMm);

  // ---- detector.
  positive("-pixel", d.pixel_size, kMm);
  count("-detpixels_f (or -detpixels)", d.fpixels);
  count("-detpixels_s (or -detpixels)", d.spixels);
  positive("-detsize_f (or -detsize)", d.detsize_f, kMm);
  positive("-detsize_s (or -detsize)", d.detsize_s, kMm);
  // nanoBragg.c drops the sign of -distance and renders a negative image for
  // a negative -close_distance: neither has a meaning of its own.
  positive("-distance", d.distance, kMm);
  if (!std::isnan(d.close_distance)) positive("-close_distance", d.close_distance, kMm);
  finite_if_given("-Xbeam", d.Xbeam, kMm);
  finite_if_given("-Ybeam", d.Ybeam, kMm);
  finite_if_given("-Xclose", d.Xclose, kMm);
  finite_if_given("-Yclose", d.Yclose, kMm);
  finite_if_given("-ORGX", d.ORGX);
  finite_if_given("-ORGY", d.ORGY);
  direction("-fdet_vector", d.fdet);
  direction("-sdet_vector", d.sdet);
  finite("-odet_vector", d.odet);  // 0 0 0: rebuilt from fdet x sdet, as the reference does
  direction("-twotheta_axis", d.twotheta_axis);
  if (d.pix0) finite("-pix0_vector", *d.pix0);
  finite("-detector_rotx", d.rotx, kDeg);
  finite("-detector_roty", d.roty, kDeg);
  finite("-detector_rotz", d.rotz, kDeg);
  finite("-twotheta", d.twotheta, kDeg);
  // -detector_abs 0 or inf: no absorption (mu = 0); a negative depth has no meaning.
  if (d.mu && !(std::isfinite(*d.mu) && *d.mu >= 0))
    refuse("-detector_abs", "> 0 (or 0 or inf: no absorption)", 1.0 / *d.mu, kUm);
  non_negative("-detector_thick", d.thick, kUm);
  positive("-detector_thickstep", d.thickstep, kUm);
  count("-detector_thicksteps", d.thicksteps);

  // ---- sampling and output.
  count("-oversample", cfg.sampling.oversample);
  // 0: the automatic scales (the reference's meaning).
  non_negative("-scale", out.intfile_scale);
  finite("-adc", out.adc_offset);
  non_negative("-pgmscale", out.pgm_scale);
}

void validate_trace_pixels(const std::vector<TracePixel>& pixels, int fpixels, int spixels) {
  for (const TracePixel& px : pixels)
    if (px.spixel < 0 || px.spixel >= spixels || px.fpixel < 0 || px.fpixel >= fpixels)
      throw nbtrace::UsageError(fmt::format(
          "-trace_pixel {} {} (slow fast) is outside the {}x{}-pixel detector: slow 0..{}, fast 0..{}", px.spixel,
          px.fpixel, fpixels, spixels, spixels - 1, fpixels - 1));
}

namespace {

/// A cgroup limit file's value; none for "max", a missing or unreadable file.
std::optional<double> read_limit(const std::string& path) {
  std::ifstream in(path);
  double v = 0;
  if (in && in >> v && v > 0) return v;
  return std::nullopt;
}

}  // namespace

std::uint64_t usable_memory_bytes() {
  const long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGE_SIZE);
  double bytes = pages > 0 && page > 0 ? static_cast<double>(pages) * static_cast<double>(page) : 1.8e19;
  // cgroup v2: this process's group ("0::/path" in /proc/self/cgroup) and
  // each ancestor may set memory.max; the lowest one binds.
  std::ifstream groups("/proc/self/cgroup");
  for (std::string line; std::getline(groups, line);) {
    if (line.rfind("0::", 0) != 0) continue;
    std::string path = line.substr(3);
    for (;;) {
      if (auto v = read_limit("/sys/fs/cgroup" + path + "/memory.max")) bytes = std::min(bytes, *v);
      const auto slash = path.find_last_of('/');
      if (slash == std::string::npos || path.empty()) break;
      path.erase(slash);
    }
  }
  if (auto v = read_limit("/sys/fs/cgroup/memory.max")) bytes = std::min(bytes, *v);
  if (auto v = read_limit("/sys/fs/cgroup/memory/memory.limit_in_bytes")) bytes = std::min(bytes, *v);
  return static_cast<std::uint64_t>(bytes);
}

void require_memory(std::string_view what, double bytes) {
  const double usable = static_cast<double>(usable_memory_bytes());
  if (bytes > usable)
    throw nbtrace::UsageError(
        fmt::format("{} needs {:.1f} GiB, this machine has {:.1f} GiB", what, bytes / kGiB, usable / kGiB));
}

double image_buffer_bytes(const SimConfig& cfg, double pixels, bool interpolate) {
  // Bytes per pixel: float image 4 + its file's bytes 4; the interpolation
  // pass's int marks 4; a 16-bit SMV image 2 + its encoding 2; the PGM's 1;
  // the -mask pixels 2 + the prepared copy 2.
  double per_pixel = 8;
  if (interpolate) per_pixel += 4;
  if (!cfg.output.intfile.empty()) per_pixel += 4;
  if (cfg.output.noise && !cfg.output.noisefile.empty()) per_pixel += 4;
  if (cfg.output.pgm && !cfg.output.pgmfile.empty()) per_pixel += 1;
  if (!cfg.detector.mask.empty()) per_pixel += 4;
  return pixels * per_pixel;
}

}  // namespace nbsim
