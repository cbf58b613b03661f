#pragma once
// What nbsim refuses, in one place: values that have no physical meaning
// (a wavelength of 0, no unit cells, a cell whose angles cannot close, a
// negative distance), traced pixels off the detector, and runs that need
// more memory than the machine has. Each refusal is one
// nbtrace::UsageError (exit 1) naming the flag and the rule, thrown by
// prepare_simulation() before any file is read or written, in spec and
// c-parity mode alike; nanoBragg.c accepts most of these silently
// (docs/cli.md, "What nbsim refuses").
//
// Two kinds of rule live where their input is read instead: the command
// line refuses nan and inf in any number (NaN means "not given" in a
// SimConfig, so the config cannot tell), and the file readers refuse
// non-finite numbers in HKL, -mat, -sourcefile and SMV files, naming
// file:line (nbtrace::InputError, exit 5).
#include <cstdint>
#include <string_view>
#include <vector>

#include "nbsim/config.hpp"

namespace nbsim {

/// Every value a SimConfig holds: numbers finite, wavelength, pixel,
/// detector sizes and distances > 0, counts (unit cells, pixels, steps,
/// domains, sub-pixels) at least 1, ranges and sizes >= 0, a cell with
/// lengths > 0, angles in (0, 180) degrees and a positive Gram determinant,
/// non-zero axis vectors. The message names the flag and shows the value
/// in the flag's unit.
void validate_config(const SimConfig& config);

/// Each -trace_pixel (slow fast) inside the fpixels x spixels detector.
void validate_trace_pixels(const std::vector<TracePixel>& pixels, int fpixels, int spixels);

/// Bytes this process can count on: physical memory (sysconf), or a lower
/// cgroup limit (memory.max of its cgroup or an ancestor, cgroup v1's
/// memory.limit_in_bytes).
std::uint64_t usable_memory_bytes();

/// UsageError "WHAT needs X GiB, this machine has Y GiB" when `bytes` is
/// more than usable_memory_bytes(). Called before the allocation.
void require_memory(std::string_view what, double bytes);

/// An upper bound on the bytes a run of a `pixels`-pixel image holds at
/// once: the float image and its file's bytes, the interpolation pass's
/// marks, the integer, noise and PGM images and their encodings, the mask
/// and its copy, as the config asks for them.
double image_buffer_bytes(const SimConfig& config, double pixels, bool interpolate);

}  // namespace nbsim
