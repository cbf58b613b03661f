// float32 instantiation of the lane renderer (lanes.hpp). Built with
// -Wdouble-promotion -Werror: a double literal or parameter left in the
// float physics is a build error, not a silent slow double operation.
// Clones as in cpu_lanes.cpp.
#include "lanes.hpp"

namespace nbsim::lanes {

__attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default"), flatten)) void render_row_f32(
    const KernelParams& p, const StepCells<float>& cells, int s, int fmin, int fmax, float* row, double& row_omega) {
  render_row<float, SinKind::vector>(p, cells, s, fmin, fmax, row, row_omega);
}

}  // namespace nbsim::lanes
