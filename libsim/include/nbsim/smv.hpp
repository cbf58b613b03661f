#pragma once
// SMV ("ADSC") integer images as nanoBragg writes them: a 512-byte text
// header of the experiment's geometry, then unsigned 16-bit pixels.
#include <string>
#include <vector>

#include "nbsim/setup.hpp"

namespace nbsim {

/// Header text (exactly 512 bytes, "}\f" then blank padding) describing the
/// prepared geometry.
std::string smv_header(const PreparedSimulation& sim);

/// The whole -intfile: pixels = float*scale + adc_offset rounded and
/// clamped to 0..65535 (ROI only; other pixels 0). scale <= 0 means
/// 55000/max_I (1 for a blank image). Returns the file content and the
/// scale used.
std::string encode_smv_intimage(const PreparedSimulation& sim, const std::vector<float>& image, double max_I,
                                double scale, double adc_offset, double* scale_used = nullptr);

}  // namespace nbsim
