#pragma once
// Field-by-field comparison of two traces: alignment by resolved name,
// occurrence and loop coordinates; every component of vectors and matrices;
// statuses as the peer's compare_scaling_traces.py assigns them.
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "nbtrace/trace/policy.hpp"
#include "nbtrace/trace/trace.hpp"

namespace nbtrace {

enum class Status : std::uint8_t {
  pass,                ///< |rel Δ| ≤ tolerance (or |abs Δ| ≤ floor, or equal)
  zero_match,          ///< both |values| < 1e-30
  waived,              ///< matched a waiver (the underlying status is kept)
  minor,               ///< |rel Δ| < 1e-4
  divergent,           ///< |rel Δ| < 1e-2
  critical,            ///< anything larger
  non_finite,          ///< NaN or ±inf on either side (a policy may let identical ones pass)
  zero_ref_divergent,  ///< |ref| < 1e-30 but |test| is not: no relative Δ
  text_mismatch,       ///< text values (or component keys) differ
  shape_mismatch,      ///< a component present on one side only
  missing,             ///< present on one side only
};

/// Stable names used in JSON and tables: PASS, MATCH_ZERO, WAIVED, MINOR,
/// DIVERGENT, CRITICAL, NON_FINITE, DIVERGENT_ZERO_REF, TEXT_MISMATCH,
/// SHAPE_MISMATCH, MISSING.
std::string_view status_name(Status s);
/// True for the statuses that make a comparison fail (not WAIVED, not MISSING).
bool is_divergence(Status s);

/// Values below this magnitude count as zero (the peer's rule).
inline constexpr double kNearZero = 1e-30;

/// Status of one numeric comparison under relative tolerance `rel_tol` and
/// absolute floor `abs_floor`; also returns the deltas (NaN where undefined).
struct NumericVerdict {
  double abs_delta;
  double rel_delta;  ///< NaN when undefined (zero reference)
  Status status;
};
NumericVerdict compare_values(double ref, double test, double rel_tol, double abs_floor = 0,
                              bool non_finite_equal = false);

/// One compared component. Kept small (a 100 MB trace has millions); the
/// values, absolute delta and ULP distance come from DiffResult accessors.
struct ComponentResult {
  std::uint32_t field = 0;      ///< index into DiffResult::fields
  std::uint32_t component = 0;  ///< index within the record's values
  double rel_delta = std::numeric_limits<double>::quiet_NaN();  ///< NaN where undefined
  Status status = Status::pass;
  Status underlying = Status::pass;  ///< status before a waiver applied
  std::int16_t waiver = -1;          ///< index into the policy's waivers
};

/// One aligned field (a record pair, or a record on one side only).
struct FieldResult {
  std::uint32_t name_id = 0;  ///< resolved (reference) name, in DiffResult::names
  std::int32_t ref_record = -1;
  std::int32_t test_record = -1;
  std::uint32_t occurrence = 0;
  std::uint32_t first_component = 0;  ///< into DiffResult::components
  std::uint32_t num_components = 0;
  Status status = Status::pass;  ///< worst component status
  double max_abs_rel = 0;        ///< largest |rel Δ| over components (NaN ignored)
  std::uint64_t max_ulps = 0;
};

struct DiffOptions {
  TolerancePolicy policy;
  AliasTable aliases = AliasTable::builtin();
  std::vector<std::string> field_globs;  ///< compare only these (empty: all)
  std::size_t upstream_context = 3;      ///< fields listed before the first divergence
};

/// A policy file applied to diff options: its tolerance, floor, overrides
/// and waivers replace those of `options` (where it gives them), its aliases
/// are added to theirs.
void apply_policy_file(const PolicyFile& file, DiffOptions& options);

/// What a diff says as a whole. NOT_COMPARED: fewer fields present on both
/// sides than the policy's minimum (at least one): too little was compared
/// to call it agreement.
enum class DiffVerdict : std::uint8_t { pass, divergent, not_compared };
/// PASS, DIVERGENT, NOT_COMPARED.
std::string_view verdict_name(DiffVerdict v);
/// The verdict named by verdict_name; throws InputError for another name.
DiffVerdict diff_verdict_from_name(std::string_view name);

struct DiffResult {
  NameTable names;  ///< resolved field names (qualified with their channel)
  const Trace* ref = nullptr;
  const Trace* test = nullptr;
  double tolerance_rel = 0;
  big_vector<FieldResult> fields;  ///< reference line order, then test-only fields
  big_vector<ComponentResult> components;
  std::optional<std::size_t> first_divergence;  ///< index into fields
  std::vector<std::size_t> upstream;            ///< fields just before it, in order
  std::size_t num_divergent = 0;                ///< fields with a divergence
  std::size_t num_divergent_components = 0;
  std::size_t num_missing = 0;   ///< fields present on one side only
  std::size_t num_waived = 0;    ///< fields under a waiver
  std::size_t num_compared = 0;  ///< fields present on both sides
  std::size_t num_non_finite = 0;  ///< components with NaN or ±inf on either side (not passed by the policy)
  std::size_t min_compared = 1;  ///< the policy's minimum of compared fields (at least 1)
  std::vector<std::string> unused_waivers;  ///< waivers that matched nothing divergent

  DiffVerdict verdict() const {
    if (num_compared < min_compared) return DiffVerdict::not_compared;
    return num_divergent ? DiffVerdict::divergent : DiffVerdict::pass;
  }

  /// Resolved name of a field, e.g. "PHI.F_latt".
  std::string_view name(const FieldResult& f) const { return names[f.name_id]; }
  /// Label with loop coordinates and occurrence, e.g. "PHI.F_latt[phi_tic=0]".
  std::string field_label(const FieldResult& f) const;
  /// Loop coordinates of a field (from whichever side has it).
  std::vector<std::pair<std::string, double>> loop_coords(const FieldResult& f) const;
  /// Values of a component (NaN where that side lacks it or is text).
  double ref_value(const ComponentResult& c) const;
  double test_value(const ComponentResult& c) const;
  /// test − ref (NaN where undefined).
  double abs_delta(const ComponentResult& c) const;
  /// ULP distance (UINT64_MAX where undefined).
  std::uint64_t ulps(const ComponentResult& c) const;
  /// Source line of a field on each side (0 when absent).
  std::uint32_t ref_line(const FieldResult& f) const;
  std::uint32_t test_line(const FieldResult& f) const;
};

/// Compares `test` against `ref`. The result points at both traces: keep
/// them alive while it is used.
DiffResult diff_traces(const Trace& ref, const Trace& test, const DiffOptions& options);

}  // namespace nbtrace
