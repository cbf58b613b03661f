#pragma once
// What counts as agreement: tolerances (global, absolute floor, per field),
// named waivers for expected divergences, and field-name aliases.
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace nbtrace {

/// Shell-style glob match (`*`, `?`, `[...]`) of a whole field name.
bool glob_match(std::string_view pattern, std::string_view name);

struct FieldTolerance {
  std::optional<double> rel;  ///< relative tolerance for matching fields
  std::optional<double> abs;  ///< absolute floor for matching fields
};

/// An expected divergence: matching fields report WAIVED, never PASS.
struct Waiver {
  std::string id;                   ///< e.g. "C-PARITY-001"
  std::vector<std::string> fields;  ///< globs over qualified field names
  /// Optional loop-coordinate constraints, e.g. {"phi_tic", 0}: the waiver
  /// applies only to records with these coordinates.
  std::vector<std::pair<std::string, double>> loop;
  std::string reason;
};

struct TolerancePolicy {
  double rel = 1e-6;      ///< |rel Δ| at or below this passes
  double abs_floor = 0;   ///< |abs Δ| at or below this passes too (0: off)
  /// Per-field overrides, glob → tolerance; the last matching entry wins.
  std::vector<std::pair<std::string, FieldTolerance>> overrides;
  std::vector<Waiver> waivers;
  /// Fewer fields present on both sides than this is no agreement: the diff
  /// has compared too little to say anything (verdict NOT_COMPARED).
  std::size_t min_compared = 1;
  /// NaN against NaN, or an infinity against the same infinity, passes when
  /// set; otherwise every non-finite value is a divergence (NON_FINITE).
  bool non_finite_equal = false;

  /// Tolerance that applies to `name`.
  std::pair<double, double> tolerance_for(std::string_view name) const;
};

/// Maps field names of one implementation onto the reference's names.
class AliasTable {
 public:
  /// The built-in table: the names the PyTorch port's traces need
  /// (I_before_scaling_pre_polar → I_before_scaling, F_cell_nearest → F_cell).
  static AliasTable builtin();

  /// Adds `from → to`. A user alias whose target a built-in entry also maps
  /// to replaces that entry (so F_cell_interpolated=F_cell wins over the
  /// built-in F_cell_nearest).
  void add(std::string from, std::string to, bool replace_same_target = true);
  /// Parses "from=to"; throws UsageError otherwise.
  void add_spec(std::string_view spec);

  std::string_view resolve(std::string_view name) const;
  const std::vector<std::pair<std::string, std::string>>& entries() const { return entries_; }

 private:
  std::vector<std::pair<std::string, std::string>> entries_;
};

/// Policy file contents (JSON): see docs/trace-diff.md.
struct PolicyFile {
  std::optional<double> tolerance_rel;
  std::optional<double> abs_floor;
  std::optional<std::size_t> min_compared_fields;
  std::optional<bool> non_finite_equal;  ///< "non_finite": "equal_passes" (true) or "divergent" (false)
  std::vector<std::pair<std::string, FieldTolerance>> overrides;
  std::vector<Waiver> waivers;
  std::vector<std::pair<std::string, std::string>> aliases;
};

/// Reads a policy file; throws InputError naming the file and the problem.
PolicyFile load_policy_file(const std::string& path);
/// Parses policy JSON text; `origin` names it in errors.
PolicyFile parse_policy(std::string_view json_text, const std::string& origin);

}  // namespace nbtrace
