#pragma once
// The documented quirks of nanoBragg.c that c-parity mode reproduces, as a
// named set (docs/c-parity.md). Every step that behaves differently in the
// two modes (set-up, kernel parameters, statistics, command line) reads the
// one quirk it is about from the resolved set SimConfig::quirks; nothing
// else in the simulator knows about modes. -mode spec is Quirks::none(),
// -mode c-parity Quirks::all().
#include <array>
#include <string>
#include <string_view>
#include <vector>

namespace nbsim {

/// spec: the behaviour the specification defines. c_parity: reproduce the
/// documented quirks of nanoBragg.c (see docs/c-parity.md).
enum class Mode { spec, c_parity };

struct Quirks {
  bool phi_carry = false;                    ///< C-PARITY-001
  bool twotheta_axis_sets_twotheta = false;  ///< C-PARITY-002
  bool triclinic_c_star = false;             ///< C-PARITY-003
  bool source_file_wavelengths = false;      ///< C-PARITY-004
  bool convention_overrides_pivot = false;   ///< C-PARITY-005
  bool misset_random_cap_radians = false;    ///< C-PARITY-006
  bool interp_stop_nearest = false;          ///< C-PARITY-007
  bool thickness_sampling = false;           ///< C-PARITY-008
  bool rmsd_counts_masked = false;           ///< C-PARITY-009
  bool beam_pivot_trace_mosflm = false;      ///< C-TRACE-001

  /// The specification: no quirk.
  static constexpr Quirks none() { return {}; }
  /// nanoBragg.c: every quirk of the table.
  static constexpr Quirks all();

  friend constexpr bool operator==(const Quirks&, const Quirks&) = default;
};

/// One documented quirk: its id in docs/c-parity.md, what nanoBragg.c does
/// (one line) and the member of Quirks that turns it on.
struct QuirkInfo {
  std::string_view id;
  std::string_view description;
  bool Quirks::*member;
};

inline constexpr std::array<QuirkInfo, 10> kQuirkTable{{
    {"C-PARITY-001", "phi carry-over: a phi step at exactly 0 keeps the orientation of the previous sub-path",
     &Quirks::phi_carry},
    {"C-PARITY-002", "-twotheta_axis x y z is also read as -twotheta x (and pivots on the sample)",
     &Quirks::twotheta_axis_sets_twotheta},
    {"C-PARITY-003", "triclinic -cell: c*_z = |c*| V/(a b c sin gamma*), so the cell angles come out slightly off",
     &Quirks::triclinic_c_star},
    {"C-PARITY-004", "-sourcefile: each source at the wavelength of its line, not -lambda's",
     &Quirks::source_file_wavelengths},
    {"C-PARITY-005", "the convention's pivot wins over an explicit -pivot", &Quirks::convention_overrides_pivot},
    {"C-PARITY-006", "-misset random: the rotation cap is 90 radians, not 90 degrees",
     &Quirks::misset_random_cap_radians},
    {"C-PARITY-007", "the evaluation that stops interpolation takes the nearest grid value, not default_F",
     &Quirks::interp_stop_nearest},
    {"C-PARITY-008", "sensor thickness starts at 0: -thicksteps alone leaves absorption off, a lone thickness gives 2 layers of half",
     &Quirks::thickness_sampling},
    {"C-PARITY-009", "masked pixels count in rmsd (not in max_I, mean, rms)", &Quirks::rmsd_counts_masked},
    {"C-TRACE-001", "the BEAM-pivot geometry trace prints detector_convention=MOSFLM and MOSFLM's initial axes",
     &Quirks::beam_pivot_trace_mosflm},
}};

// One table entry per member: a new quirk needs both.
static_assert(sizeof(Quirks) == kQuirkTable.size(), "every member of Quirks has one entry in kQuirkTable");

constexpr Quirks Quirks::all() {
  Quirks q;
  for (const QuirkInfo& info : kQuirkTable) q.*info.member = true;
  return q;
}

/// The table entry of `id` ("C-PARITY-001", ...); nullptr when there is none.
constexpr const QuirkInfo* find_quirk(std::string_view id) {
  for (const QuirkInfo& info : kQuirkTable)
    if (info.id == id) return &info;
  return nullptr;
}

/// As find_quirk, ignoring the case of letters ("c-parity-001" too): the
/// spelling the command lines (-quirk, nbparity explain) accept.
constexpr const QuirkInfo* find_quirk_any_case(std::string_view id) {
  auto upper = [](char ch) { return ch >= 'a' && ch <= 'z' ? static_cast<char>(ch - 'a' + 'A') : ch; };
  for (const QuirkInfo& info : kQuirkTable) {
    if (info.id.size() != id.size()) continue;
    bool same = true;
    for (std::size_t i = 0; i < id.size() && same; ++i) same = upper(id[i]) == info.id[i];
    if (same) return &info;
  }
  return nullptr;
}

/// Every id of the table, comma-separated: what an error about an unknown
/// id lists.
inline std::string known_quirk_ids() {
  std::string out;
  for (const QuirkInfo& info : kQuirkTable) out += (out.empty() ? "" : ", ") + std::string(info.id);
  return out;
}

/// The ids of the quirks `q` turns on, in table order (what -stats_json
/// reports as the run's resolved set).
inline std::vector<std::string> quirk_ids(const Quirks& q) {
  std::vector<std::string> out;
  for (const QuirkInfo& info : kQuirkTable)
    if (q.*info.member) out.emplace_back(info.id);
  return out;
}

/// The quirk set a mode stands for: spec none, c-parity all.
constexpr Quirks quirks_for(Mode mode) { return mode == Mode::c_parity ? Quirks::all() : Quirks::none(); }

}  // namespace nbsim
