#pragma once
// Divergence attribution: explains a gap in I_before_scaling between two
// traces of the same pixel by its per-step terms F_cell²·F_latt² (phi steps,
// mosaic domains, sources, sub-pixels: whatever the per-step lines carry),
// a log-ratio decomposition over the factors, lattice-factor recomputation
// from the traced fractional hkl, and a ranked list of hypotheses.
#include <array>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "nbtrace/trace/policy.hpp"
#include "nbtrace/trace/trace.hpp"

namespace nbtrace {

struct AttributionOptions {
  AliasTable aliases = AliasTable::builtin();
  /// Crystal size in unit cells (Na, Nb, Nc) for the lattice recomputation;
  /// inferred from the reference trace when absent.
  std::optional<std::array<int, 3>> cells;
  std::string ref_label = "reference";
  std::string test_label = "test";
};

/// One step of the sum behind I_before_scaling.
struct AttributionStep {
  std::vector<std::pair<std::string, double>> loop;  ///< e.g. {"phi_tic", 0}
  std::optional<double> ref_f_latt, test_f_latt;
  std::optional<double> ref_f_cell, test_f_cell;
  std::optional<double> ref_term, test_term;  ///< F_cell²·F_latt²
  std::optional<double> share;                ///< (test − ref term) / gap; absent when unknown
  std::string test_source;  ///< "per-step line", "main lines (first step)" or "not traced"
};

/// One factor of the log-ratio decomposition: log(test/ref) of its value.
struct FactorTerm {
  std::string factor;
  double ref = 0;
  double test = 0;
  double log_ratio = 0;  ///< contribution to log(test/ref) of the decomposed quantity
};

/// Lattice factor along one axis recomputed from the traced fractional index.
struct LatticeCheck {
  std::string side;  ///< reference or test label
  char axis = 'a';
  int cells = 0;     ///< N along this axis
  double frac = 0;   ///< traced fractional index h
  double traced = 0; ///< traced F_latt_<axis>
  double sincg_h = 0;            ///< sincg(π·h, N)
  double sincg_h_minus_h0 = 0;   ///< sincg(π·(h − round(h)), N)
  std::string matches;           ///< "sincg(pi*h)", "sincg(pi*(h-h0))", "both", "neither"
};

struct Hypothesis {
  std::string id;     ///< e.g. "phi-carryover"
  std::string title;
  double score = 0;   ///< 0..1: fraction of the gap it accounts for, weighted by evidence
  std::vector<std::string> evidence;
};

struct Attribution {
  std::string quantity = "I_before_scaling";
  std::string ref_label, test_label;
  std::string ref_path, test_path;
  double ref_value = 0;
  double test_value = 0;
  double gap = 0;      ///< test − ref
  double gap_rel = 0;  ///< gap / ref
  std::string step_channel;             ///< e.g. "PHI" (empty: no per-step lines)
  std::vector<AttributionStep> steps;
  double ref_terms_over_total = 0;      ///< Σ ref terms / ref I_before_scaling (0: not all known)
  double test_terms_over_total = 0;     ///< Σ test terms / test I_before_scaling (0: not all known)
  /// A side whose per-step terms do not add up to its own I_before_scaling
  /// (beyond 1%): the step shares are then not a decomposition of the gap.
  bool terms_inconsistent = false;
  double attributed_share = 0;          ///< Σ known step shares
  std::optional<double> final_gap_rel;  ///< I_pixel_final, when both sides print it
  std::vector<FactorTerm> first_step_factors;  ///< F_cell, F_latt_a/b/c of the first step
  std::vector<FactorTerm> scaling_factors;     ///< I_before_scaling, polar, omega, steps, ... of I_pixel_final
  std::vector<LatticeCheck> lattice;
  std::vector<Hypothesis> hypotheses;  ///< ranked, best first
  std::string narrative;
};

/// Attributes the I_before_scaling gap of `test` against `ref`. Throws
/// InputError when either trace lacks I_before_scaling.
Attribution attribute_gap(const Trace& ref, const Trace& test, const AttributionOptions& options);

std::string attribution_markdown(const Attribution& a, const std::string& svg_name);
std::string attribution_json(const Attribution& a);
/// Bar chart of the per-step terms of both sides.
std::string attribution_svg(const Attribution& a);

}  // namespace nbtrace
