#pragma once
// The integer images nanoBragg writes besides the float image: SMV ("ADSC")
// files (a 512-byte text header of the geometry, then unsigned 16-bit
// pixels), noiseless or with photon noise, and an 8-bit PGM preview.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "nbsim/setup.hpp"

namespace nbsim {

/// An SMV file read back: its header text and its 16-bit pixels.
struct SmvFrame {
  std::string path;  ///< for messages
  std::string header;
  int width = 0, height = 0;
  std::vector<std::uint16_t> pixels;  ///< width*height, fast-major
};

/// Reads an SMV file (HEADER_BYTES, SIZE1, SIZE2; pixels in native order,
/// as nanoBragg reads them). Throws InputError when unreadable or not SMV.
SmvFrame read_smv(const std::string& path);
/// read_smv on the file's bytes already in memory; `path` names it in
/// messages and in the frame. SIZE1 and SIZE2 must be whole numbers from 1
/// to 2^20 (InputError otherwise).
SmvFrame parse_smv(std::string_view data, const std::string& path);

/// nanoBragg's header look-up: the number after the '=' that follows the
/// LAST occurrence of `keyword` anywhere in the header (so "DISTANCE" finds
/// CLOSE_DISTANCE when that comes later); NaN when the keyword is absent.
double smv_value(const std::string& header, const std::string& keyword);

/// What nanoBragg takes from an -img or -mask header before reading the
/// other flags (which then override it): detector size, pixel size,
/// distances, wavelength, beam centre (a mask's BEAM_CENTER_Y is counted
/// from the far edge), ORGX/ORGY, PHI, OSC_RANGE; a mask also its pixels.
void apply_smv_header(SimConfig& config, const SmvFrame& frame, bool is_mask);

/// Header text (exactly 512 bytes, "}\f" then blank padding) describing the
/// prepared geometry.
std::string smv_header(const PreparedSimulation& sim);

/// Header plus pixels, native byte order.
std::string encode_smv(const PreparedSimulation& sim, const std::vector<std::uint16_t>& pixels);

/// The integer image's scale: `scale` when > 0, else 55000/max_I (1 for a
/// blank image).
double integer_image_scale(double scale, double max_I);

/// The noiseless integer image: float*scale + adc_offset, rounded and
/// clamped to 0..65535 (ROI only; other pixels 0). scale <= 0 means
/// 55000/max_I (1 for a blank image); the scale used is returned.
std::vector<std::uint16_t> integer_pixels(const KernelParams& p, const std::vector<float>& image, double max_I,
                                          double& scale, double adc_offset);

struct NoiseImage {
  std::vector<std::uint16_t> pixels;
  double photons = 0;  ///< sum of the Poisson deviates
  long overloads = 0;  ///< pixels clamped at 65535
};

/// Photon-counting image: a Poisson deviate of each ROI pixel's float value
/// (the reference's generator, seeded with `seed` <= 0, in pixel order)
/// plus adc_offset, truncated to 16 bits.
NoiseImage noise_pixels(const KernelParams& p, const std::vector<float>& image, long seed, double adc_offset);

/// 8-bit binary PGM preview: float*scale clipped at 255 (ROI only). scale
/// <= 0 means 250/(5 rmsd), or the integer image's scale for a flat image;
/// the scale used is returned.
std::string encode_pgm(const KernelParams& p, const std::vector<float>& image, double& scale, double int_scale,
                       double rmsd);

}  // namespace nbsim
