#include "nbsim/smv.hpp"

#include <bit>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <iterator>
#include <limits>

#include <fmt/format.h>

#include "nbtrace/base/error.hpp"
#include "nbsim/random.hpp"
#include "nbsim/statistics.hpp"

namespace nbsim {

std::string smv_header(const PreparedSimulation& sim) {
  const KernelParams& p = sim.params;
  const double px = p.pixel_size;
  const double rtd = detail::kRadToDeg;
  std::string h = "{\nHEADER_BYTES=512;\nDIM=2;\nBYTE_ORDER=";
  h += std::endian::native == std::endian::little ? "little_endian" : "big_endian";
  h += ";\nTYPE=unsigned_short;\n";
  h += fmt::format("SIZE1={};\nSIZE2={};\n", p.fpixels, p.spixels);
  h += fmt::format("PIXEL_SIZE={:g};\nDISTANCE={:g};\n", px * 1000.0, p.distance * 1000.0);
  h += fmt::format("WAVELENGTH={:g};\n", sim.lambda0 * 1e10);
  h += fmt::format("BEAM_CENTER_X={:g};\nBEAM_CENTER_Y={:g};\n", sim.Xbeam * 1000.0, sim.Ybeam * 1000);
  h += fmt::format("ADXV_CENTER_X={:g};\nADXV_CENTER_Y={:g};\n", sim.Fbeam * 1000.0, (sim.detsize_s - sim.Sbeam) * 1000);
  h += fmt::format("MOSFLM_CENTER_X={:g};\nMOSFLM_CENTER_Y={:g};\n", (sim.Sbeam - 0.5 * px) * 1000.0, (sim.Fbeam - 0.5 * px) * 1000);
  h += fmt::format("DENZO_X_BEAM={:g};\nDENZO_Y_BEAM={:g};\n", (sim.Sbeam - 0.0 * px) * 1000.0, (sim.Fbeam - 0.0 * px) * 1000);
  // DIALS origin: pix0 (mm) in DIALS' laboratory frame (z, y, -x).
  h += fmt::format("DIALS_ORIGIN={:g},{:g},{:g}\n", 1000.0 * dot(p.pix0, {0, 0, 1}), 1000.0 * dot(p.pix0, {0, 1, 0}),
                   1000.0 * dot(p.pix0, {-1, 0, 0}));
  h += fmt::format("XDS_ORGX={:g};\nXDS_ORGY={:g};\n", sim.Fclose / px + 0.5, sim.Sclose / px + 0.5);
  h += fmt::format("CLOSE_DISTANCE={:g};\n", p.close_distance * 1000.0);
  h += fmt::format("PHI={:g};\nOSC_START={:g};\n", sim.phi0 * rtd, sim.phi0 * rtd);
  h += fmt::format("OSC_RANGE={:g};\n", sim.osc * rtd);
  h += fmt::format("TWOTHETA={:g};\n", sim.twotheta * rtd);
  h += "DETECTOR_SN=000;\nBEAMLINE=fake;\n}\f";
  if (h.size() < 512) h.append(512 - h.size(), ' ');
  return h;
}

double smv_value(const std::string& header, const std::string& keyword) {
  const std::size_t at = header.rfind(keyword);
  if (at == std::string::npos) return std::numeric_limits<double>::quiet_NaN();
  const std::size_t eq = header.find('=', at + keyword.size());
  if (eq == std::string::npos) return 0.0;
  return std::strtod(header.c_str() + eq + 1, nullptr);  // atof semantics: 0 when no number
}

namespace {
/// Largest SIZE1 or SIZE2 read from a header (2^20 pixels): far above any
/// detector, and small enough that the pixel count cannot overflow.
constexpr double kMaxSmvSide = 1048576.0;
}  // namespace

SmvFrame read_smv(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw nbtrace::InputError("cannot read SMV image " + path);
  const std::string data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) throw nbtrace::InputError("cannot read SMV image " + path);
  return parse_smv(data, path);
}

SmvFrame parse_smv(std::string_view data, const std::string& path) {
  if (data.size() < 512 || data.compare(0, 12, "{\nHEADER_BYT") != 0)
    throw nbtrace::InputError(path + " does not look like an SMV (ADSC) image");
  SmvFrame f;
  const double header_bytes = smv_value(std::string(data.substr(0, 512)), "HEADER_BYTES");
  if (!(header_bytes >= 512) || header_bytes > static_cast<double>(data.size()))
    throw nbtrace::InputError(path + ": bad HEADER_BYTES");
  const std::size_t header_size = static_cast<std::size_t>(header_bytes);
  f.header = std::string(data.substr(0, header_size));
  // Checked as doubles before the int conversion (NaN when absent).
  const double size1 = smv_value(f.header, "SIZE1"), size2 = smv_value(f.header, "SIZE2");
  if (std::isnan(size1) || std::isnan(size2))
    throw nbtrace::InputError(path + ": no SIZE1/SIZE2 in the SMV header");
  if (!(size1 >= 1 && size1 <= kMaxSmvSide && size2 >= 1 && size2 <= kMaxSmvSide))
    throw nbtrace::InputError(fmt::format("{}: SMV header size SIZE1={:g} SIZE2={:g} is not 1 to {} pixels", path,
                                          size1, size2, kMaxSmvSide));
  f.width = static_cast<int>(size1);
  f.height = static_cast<int>(size2);
  const std::size_t n = static_cast<std::size_t>(f.width) * f.height;
  if (data.size() < header_size + 2 * n)
    throw nbtrace::InputError(path + ": SMV image is truncated: its header (HEADER_BYTES=" +
                              std::to_string(header_size) + ", SIZE1=" + std::to_string(f.width) + ", SIZE2=" +
                              std::to_string(f.height) + ") needs " + std::to_string(header_size + 2 * n) +
                              " bytes, the file has " + std::to_string(data.size()));
  f.path = path;
  f.pixels.resize(n);
  std::memcpy(f.pixels.data(), data.data() + header_size, 2 * n);
  return f;
}

void apply_smv_header(SimConfig& config, const SmvFrame& frame, bool is_mask) {
  DetectorConfig& d = config.detector;
  const double rtd = detail::kRadToDeg;
  // A header value is taken as its flag's value, so it follows the flag's
  // rule (validate_config), checked here to name the file: finite, and > 0
  // for sizes, distances and the wavelength. NaN: the keyword is absent.
  auto value = [&](const char* key, bool positive = false) {
    const double v = smv_value(frame.header, key);
    if (std::isinf(v) || (positive && !std::isnan(v) && !(v > 0)))
      throw nbtrace::InputError(fmt::format("{}: {}={:g} in the SMV header must be {}", frame.path, key, v,
                                            positive ? "> 0" : "finite"));
    return v;
  };
  d.fpixels = frame.width;
  d.spixels = frame.height;
  double v = value("PIXEL_SIZE", true);
  if (!std::isnan(v)) d.pixel_size = v / 1000.0;
  d.detsize_f = d.pixel_size * frame.width;
  d.detsize_s = d.pixel_size * frame.height;
  if (!std::isnan(v = value("DISTANCE", true))) d.distance = v / 1000.0;
  if (!std::isnan(v = value("CLOSE_DISTANCE", true))) d.close_distance = v / 1000.0;
  if (!std::isnan(v = value("WAVELENGTH", true))) config.beam.lambda0 = v / 1e10;
  if (!std::isnan(v = value("BEAM_CENTER_X"))) d.Xbeam = v / 1000.0;
  if (!std::isnan(v = value("BEAM_CENTER_Y"))) d.Ybeam = is_mask ? d.detsize_s - v / 1000.0 : v / 1000.0;
  if (!std::isnan(v = value("ORGX"))) d.ORGX = v;
  if (!std::isnan(v = value("ORGY"))) d.ORGY = v;
  if (!std::isnan(v = value("PHI"))) config.crystal.phi0 = v / rtd;
  if (!std::isnan(v = value("OSC_RANGE"))) config.crystal.osc = v / rtd;
  // nanoBragg reads TWOTHETA into a variable it never uses: no effect.
  if (is_mask) {
    d.mask = frame.pixels;
    d.mask_fpixels = frame.width;
    d.mask_spixels = frame.height;
    d.mask_file = frame.path;
  }
}

std::string encode_smv(const PreparedSimulation& sim, const std::vector<std::uint16_t>& pixels) {
  std::string out = smv_header(sim);
  const std::size_t header = out.size();
  out.resize(header + pixels.size() * sizeof(std::uint16_t));
  std::memcpy(out.data() + header, pixels.data(), pixels.size() * sizeof(std::uint16_t));
  return out;
}

double integer_image_scale(double scale, double max_I) {
  if (scale > 0.0) return scale;
  return max_I > 0.0 ? 55000.0 / max_I : 1.0;  // brightest pixel at 55000 counts
}

std::vector<std::uint16_t> integer_pixels(const KernelParams& p, const std::vector<float>& image, double max_I,
                                          double& scale, double adc_offset) {
  scale = integer_image_scale(scale, max_I);
  std::vector<std::uint16_t> pixels(image.size(), 0);
  for (BoxWalk w(render_box(p), 0, 1); !w.done(); w.next()) {
    const std::size_t i = static_cast<std::size_t>(w.index());
    double v = image[i] * scale + adc_offset;
    if (v > 65535.0) v = 65535.0;
    if (v < 0.0) v = 0.0;
    // Rounded in single precision, as the reference does.
    pixels[i] = static_cast<std::uint16_t>(std::floor(static_cast<float>(v + 0.5)));
  }
  return pixels;
}

NoiseImage noise_pixels(const KernelParams& p, const std::vector<float>& image, long seed, double adc_offset) {
  NoiseImage noise;
  noise.pixels.assign(image.size(), 0);
  ReferenceRandom rng(seed);
  for (BoxWalk w(render_box(p), 0, 1); !w.done(); w.next()) {
    const std::size_t i = static_cast<std::size_t>(w.index());
    double v = rng.poisson(image[i]);
    noise.photons += v;
    v += adc_offset;
    if (v > 65535.0) {
      v = 65535.0;
      ++noise.overloads;
    }
    noise.pixels[i] = static_cast<std::uint16_t>(v);
  }
  return noise;
}

std::string encode_pgm(const KernelParams& p, const std::vector<float>& image, double& scale, double int_scale,
                       double rmsd) {
  if (scale <= 0.0) {
    scale = int_scale;
    if (rmsd > 0.0) scale = 250.0 / (5.0 * rmsd);  // 5 rmsd at full white
  }
  std::string out = fmt::format("P5\n{} {}\n# pixels scaled by {:g}\n255\n", p.fpixels, p.spixels, scale);
  const std::size_t start = out.size();
  out.resize(start + image.size(), '\0');
  for (BoxWalk w(render_box(p), 0, 1); !w.done(); w.next()) {
    const std::size_t i = static_cast<std::size_t>(w.index());
    double v = image[i] * scale;
    if (v > 255.0) v = 255.0;
    out[start + i] = static_cast<char>(static_cast<unsigned char>(v));
  }
  return out;
}

}  // namespace nbsim
