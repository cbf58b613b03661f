// The crystal: mosaic domains, the misset (given or random), the cell at
// phi = 0 from -cell and/or an A matrix, unit cells per axis, the domains'
// rotations and the cell at each phi step.
#include <algorithm>
#include <cmath>
#include <ctime>

#include <fmt/format.h>
#include <fmt/printf.h>

#include "nbtrace/base/error.hpp"
#include "nbsim/physics/rotation.hpp"
#include "nbsim/random.hpp"
#include "units.hpp"

namespace nbsim::setup {

MosaicDomains resolve_mosaic(const CrystalConfig& cr, Log& log) {
  // The reference's -1 for "not given".
  double mosaic_spread = cr.mosaic_spread.value_or(-1);
  int mosaic_domains = cr.mosaic_domains.value_or(-1);
  if (mosaic_domains <= 0) {
    if (mosaic_spread < 0.0) {
      mosaic_domains = 1;
      mosaic_spread = 0.0;
    } else if (mosaic_spread == 0.0) {
      mosaic_domains = 1;
    } else {
      log.push_back("WARNING: finite mosaicity with only one domain! upping to 10 mosaic domains");
      mosaic_domains = 10;
    }
  } else if (mosaic_spread < 0.0) {
    log.push_back("WARNING: no mosaic spread specified.  setting mosaic_domains = 1");
    mosaic_spread = 0.0;
    mosaic_domains = 1;
  } else if (mosaic_spread == 0.0) {
    log.push_back("WARNING: zero mosaic spread specified.  setting mosaic_domains = 1");
    mosaic_domains = 1;
  }
  return {mosaic_domains, mosaic_spread};
}

std::optional<Vec3> resolve_misset(const CrystalConfig& cr, const Quirks& q, Log& log) {
  if (!cr.random_misset) return cr.misset;
  // A random orientation: a rotation about a random axis by up to the cap
  // angle, turned into misset angles. nanoBragg passes the cap as 90
  // (radians, C-PARITY-006); the spec means 90 degrees.
  ReferenceRandom rng(cr.misset_seed ? *cr.misset_seed : -static_cast<long>(std::time(nullptr)));
  double umat[9];
  random_cap_rotation(q.misset_random_cap_radians ? 90.0f : static_cast<float>(90.0 / detail::kRadToDeg), rng, umat);
  const Vec3 misset = rotation_to_misset(umat);
  log.push_back(fmt::sprintf("random orientation misset angles: %f %f %f deg", misset.x * detail::kRadToDeg,
                             misset.y * detail::kRadToDeg, misset.z * detail::kRadToDeg));
  return misset;
}

std::optional<UserCell> cell_from_parameters(const CrystalConfig& cr, const Quirks& q) {
  if (!cr.cell) return std::nullopt;
  // validate_config has checked the cell: lengths > 0, angles in (0, pi), a
  // positive Gram determinant.
  const CellParams cp = *cr.cell;
  UserCell u;
  u.a = cp.a;
  u.b = cp.b;
  u.c = cp.c;
  const double aavg = (cp.alpha + cp.beta + cp.gamma) / 2;
  double skew = std::sin(aavg) * std::sin(aavg - cp.alpha) * std::sin(aavg - cp.beta) * std::sin(aavg - cp.gamma);
  if (skew < 0.0) skew = -skew;
  u.V_cell = 2.0 * cp.a * cp.b * cp.c * std::sqrt(skew);
  if (u.V_cell <= 0.0) throw nbtrace::UsageError(fmt::format("impossible unit cell: volume {:g}", u.V_cell));
  const double V_star = 1.0 / u.V_cell;
  const double as_len = cp.b * cp.c * std::sin(cp.alpha) * V_star;
  const double bs_len = cp.c * cp.a * std::sin(cp.beta) * V_star;
  const double cs_len = cp.a * cp.b * std::sin(cp.gamma) * V_star;
  if (as_len <= 0.0 || bs_len <= 0.0 || cs_len <= 0.0)
    throw nbtrace::UsageError("impossible unit cell: non-positive reciprocal cell lengths");
  double sin_gamma_star = cp.c * V_star / as_len / bs_len;
  double cos_alpha_star =
      (std::cos(cp.beta) * std::cos(cp.gamma) - std::cos(cp.alpha)) / (std::sin(cp.beta) * std::sin(cp.gamma));
  double cos_beta_star =
      (std::cos(cp.gamma) * std::cos(cp.alpha) - std::cos(cp.beta)) / (std::sin(cp.gamma) * std::sin(cp.alpha));
  double cos_gamma_star =
      (std::cos(cp.alpha) * std::cos(cp.beta) - std::cos(cp.gamma)) / (std::sin(cp.alpha) * std::sin(cp.beta));
  if (sin_gamma_star > 1.0) sin_gamma_star = 1.0;
  if (sin_gamma_star < -1.0) sin_gamma_star = -1.0;
  if (cos_alpha_star * cos_alpha_star > 1.0) cos_alpha_star = 1.0;
  if (cos_beta_star * cos_beta_star > 1.0) cos_beta_star = 1.0;
  if (cos_gamma_star * cos_gamma_star > 1.0) cos_gamma_star = 1.0;
  u.a_star = {as_len, 0.0, 0.0};
  u.b_star = {bs_len * cos_gamma_star, bs_len * sin_gamma_star, 0.0};
  // c* along z: c is parallel to a* x b* (the z axis) so c . c* = 1 gives
  // c*_z = 1/c. nanoBragg uses |c*| V/(a b c sin gamma*), which equals 1/c
  // only when sin gamma = sin gamma*; for other triclinic cells the cell
  // it builds has angles off by up to a few 0.01 deg (C-PARITY-003).
  const double c_star_z =
      q.triclinic_c_star ? cs_len * u.V_cell / (cp.a * cp.b * cp.c * sin_gamma_star) : 1.0 / cp.c;
  u.c_star = {cs_len * cos_beta_star, cs_len * (cos_alpha_star - cos_beta_star * cos_gamma_star) / sin_gamma_star,
              c_star_z};
  return u;
}

CellVectors build_cell(const std::optional<UserCell>& user, const std::optional<AMatrix>& a_matrix, double lambda0,
                       const std::optional<Vec3>& misset) {
  Vec3 a_star, b_star, c_star;
  if (user) {
    a_star = user->a_star;
    b_star = user->b_star;
    c_star = user->c_star;
  }
  if (a_matrix) {
    // A MOSFLM A matrix is in units of the wavelength: rescale to 1/Angstrom.
    const double scale = 1e-10 / lambda0;
    a_star = scale * a_matrix->a_star;
    b_star = scale * a_matrix->b_star;
    c_star = scale * a_matrix->c_star;
  }
  if (misset) {
    a_star = rotate_xyz(a_star, misset->x, misset->y, misset->z);
    b_star = rotate_xyz(b_star, misset->x, misset->y, misset->z);
    c_star = rotate_xyz(c_star, misset->x, misset->y, misset->z);
  }
  Vec3 as_x_bs = cross(a_star, b_star);
  Vec3 bs_x_cs = cross(b_star, c_star);
  Vec3 cs_x_as = cross(c_star, a_star);
  double V_star = dot(a_star, bs_x_cs);
  if (user) {
    // Keep the user's cell lengths exactly: |b* x c*| = a / V_cell, ...
    bs_x_cs = rescale(bs_x_cs, user->a / user->V_cell);
    cs_x_as = rescale(cs_x_as, user->b / user->V_cell);
    as_x_bs = rescale(as_x_bs, user->c / user->V_cell);
    V_star = 1.0 / user->V_cell;
  }
  if (V_star == 0.0 || std::isnan(V_star))
    throw nbtrace::UsageError("impossible unit cell: the reciprocal vectors are coplanar");
  const double V_cell = 1.0 / V_star;
  Vec3 a = V_cell * bs_x_cs, b = V_cell * cs_x_as, c = V_cell * as_x_bs;  // Angstrom
  a_star = V_star * cross(b, c);
  b_star = V_star * cross(c, a);
  c_star = V_star * cross(a, b);
  a = 1e-10 * a;  // metres
  b = 1e-10 * b;
  c = 1e-10 * c;
  return {a, b, c, a_star, b_star, c_star};
}

CrystalSize resolve_crystal_size(const CrystalConfig& cr, const BeamFluence& clipped, const CellVectors& cell) {
  CrystalSize n{cr.Na, cr.Nb, cr.Nc, 0};
  if (cr.sample_x > 0) n.Na = std::ceil(cr.sample_x / magnitude(cell.a));
  if (clipped.sample_y > 0) n.Nb = std::ceil(clipped.sample_y / magnitude(cell.b));
  if (clipped.sample_z > 0) n.Nc = std::ceil(clipped.sample_z / magnitude(cell.c));
  if (n.Na <= 1.0) n.Na = 1.0;
  if (n.Nb <= 1.0) n.Nb = 1.0;
  if (n.Nc <= 1.0) n.Nc = 1.0;
  const double xtal_a = magnitude(cell.a) * n.Na, xtal_b = magnitude(cell.b) * n.Nb, xtal_c = magnitude(cell.c) * n.Nc;
  n.xtal_max = xtal_a;
  if (n.xtal_max < xtal_b) n.xtal_max = xtal_b;
  if (n.xtal_max < xtal_c) n.xtal_max = xtal_c;
  return n;
}

std::vector<double> mosaic_matrices(const MosaicDomains& mosaic, long seed) {
  // The first domain is forced to the unrotated crystal after drawing its
  // numbers, as the reference does.
  std::vector<double> umats(9 * static_cast<std::size_t>(mosaic.count), 0.0);
  ReferenceRandom rng(seed);
  for (int m = 0; m < mosaic.count; ++m) random_cap_rotation(static_cast<float>(mosaic.spread), rng, umats.data() + 9 * m);
  const double identity[9] = {1, 0, 0, 0, 1, 0, 0, 0, 1};
  std::copy(identity, identity + 9, umats.begin());
  return umats;
}

PhiCells phi_cells(const CellVectors& cell, Vec3 spindle, double phi0, const PhiSampling& phi) {
  PhiCells out;
  out.carry_a = cell.a;
  out.carry_b = cell.b;
  out.carry_c = cell.c;
  out.cells.assign(3 * static_cast<std::size_t>(phi.steps), Vec3{});
  for (int tic = 0; tic < phi.steps; ++tic) {
    const double angle = phi0 + phi.step * tic;
    if (angle != 0.0) {
      out.cells[3 * tic] = out.carry_a = rotate_about_axis(cell.a, spindle, angle);
      out.cells[3 * tic + 1] = out.carry_b = rotate_about_axis(cell.b, spindle, angle);
      out.cells[3 * tic + 2] = out.carry_c = rotate_about_axis(cell.c, spindle, angle);
    }
  }
  return out;
}

}  // namespace nbsim::setup
