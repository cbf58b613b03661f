#pragma once
// SMV ("ADSC") integer images as nanoBragg writes them: a 512-byte text
// header of the experiment's geometry, then unsigned 16-bit pixels.
#include <cstdint>
#include <string>
#include <vector>

#include "nbsim/setup.hpp"

namespace nbsim {

/// Header text (exactly 512 bytes, "}\f" then blank padding) describing the
/// prepared geometry.
std::string smv_header(const PreparedSimulation& sim);

/// Header plus pixels, native byte order.
std::string encode_smv(const PreparedSimulation& sim, const std::vector<std::uint16_t>& pixels);

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

}  // namespace nbsim
