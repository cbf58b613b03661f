#include "nbtrace/trace/attribute.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <nlohmann/json.hpp>
#include <fmt/format.h>

#include "attribution_text.hpp"
#include "nbsim/physics/lattice.hpp"
#include "nbtrace/base/error.hpp"
#include "nbtrace/base/numbers.hpp"

namespace nbtrace {

// The lattice factor is the simulator's own (one definition for both).
using nbsim::sincg;

using namespace attribution_text;

namespace {

constexpr double kPi = 3.14159265358979323846;

/// Main-line (channel-less) values by resolved name.
class Fields {
 public:
  Fields(const Trace& t, const AliasTable& aliases) : t_(t), aliases_(aliases) {}

  /// Components of the first (or last) record of `name`.
  std::optional<std::vector<double>> get(std::string_view name, bool last = false) const {
    const auto& recs = t_.records();
    std::optional<std::size_t> found;
    for (std::size_t i = 0; i < recs.size(); ++i) {
      const Record& r = recs[i];
      if (r.form == ValueForm::text || r.form == ValueForm::marker || r.num_values == 0) continue;
      if (aliases_.resolve(t_.name(r)) != name) continue;
      found = i;
      if (!last) break;
    }
    if (!found) return std::nullopt;
    const auto v = t_.values(recs[*found]);
    return std::vector<double>(v.begin(), v.end());
  }
  std::optional<double> scalar(std::string_view name, bool last = false) const {
    auto v = get(name, last);
    if (!v || v->empty()) return std::nullopt;
    return (*v)[0];
  }

  /// Per-step values: channel → ordered list of (coords, field → value).
  struct Step {
    Coords coords;
    std::map<std::string, double> values;
  };
  std::vector<Step> steps(std::string& channel_out) const {
    std::vector<Step> out;
    std::map<std::uint32_t, std::size_t> by_tuple;
    const auto& recs = t_.records();
    // The channel is the one that carries F_latt per step.
    for (const Record& r : recs) {
      if (r.loop_tuple == 0) continue;
      const std::string_view n = aliases_.resolve(t_.name(r));
      const auto dot = n.find('.');
      if (dot != std::string_view::npos && n.substr(dot + 1) == "F_latt") {
        channel_out = std::string(n.substr(0, dot));
        break;
      }
    }
    if (channel_out.empty()) return out;
    const std::string prefix = channel_out + ".";
    for (const Record& r : recs) {
      if (r.loop_tuple == 0 || r.num_values == 0) continue;
      const std::string_view n = aliases_.resolve(t_.name(r));
      if (!n.starts_with(prefix)) continue;
      auto [it, inserted] = by_tuple.try_emplace(r.loop_tuple, out.size());
      if (inserted) {
        Step s;
        for (const LoopCoord& c : t_.loop(r)) s.coords.emplace_back(std::string(t_.names()[c.name_id]), c.value);
        out.push_back(std::move(s));
      }
      out[it->second].values.emplace(std::string(n.substr(prefix.size())), t_.values(r)[0]);
    }
    return out;
  }

 private:
  const Trace& t_;
  const AliasTable& aliases_;
};

double term_of(double f_cell, double f_latt) { return f_cell * f_cell * f_latt * f_latt; }

/// Smallest N in [1, 5000] for which sincg reproduces the traced factor.
std::optional<int> infer_cells(double h, double traced) {
  const double h0 = std::nearbyint(h);
  for (int n = 1; n <= 5000; ++n) {
    const double a = sincg(kPi * h, n);
    const double b = sincg(kPi * (h - h0), n);
    const double tol = 1e-7 * std::max(1.0, std::fabs(traced));
    if (std::fabs(a - traced) <= tol || std::fabs(b - traced) <= tol) return n;
  }
  return std::nullopt;
}

std::string which_matches(double traced, double a, double b) {
  const double tol = 1e-7 * std::max(1.0, std::fabs(traced));
  const bool ma = std::fabs(a - traced) <= tol;
  const bool mb = std::fabs(b - traced) <= tol;
  if (ma && mb) return "both";
  if (ma) return "sincg(pi*h)";
  if (mb) return "sincg(pi*(h-h0))";
  return "neither";
}

/// Checks whether one side's first step repeats its last step bit for bit
/// (nanoBragg.c's phi carry-over) while the first step is at phi = 0.
std::optional<std::string> carryover_signature(const std::vector<Fields::Step>& steps) {
  if (steps.size() < 3) return std::nullopt;
  const auto& first = steps.front().values;
  const auto& last = steps.back().values;
  std::size_t compared = 0;
  std::string example;
  for (const auto& [k, v] : first) {
    if (k.find("deg") != std::string::npos || k.find("rad") != std::string::npos) continue;  // the angle itself
    auto it = last.find(k);
    if (it == last.end()) continue;
    if (it->second != v) return std::nullopt;
    ++compared;
    if (example.empty()) example = k + " = " + format_double(v);
  }
  if (compared == 0) return std::nullopt;
  // Not a constant sequence: the middle steps differ.
  const auto& mid = steps[steps.size() / 2].values;
  bool varies = false;
  for (const auto& [k, v] : first) {
    auto it = mid.find(k);
    if (it != mid.end() && it->second != v) varies = true;
  }
  if (!varies) return std::nullopt;
  return example;
}

}  // namespace

Attribution attribute_gap(const Trace& ref, const Trace& test, const AttributionOptions& opt) {
  Attribution a;
  a.ref_label = opt.ref_label;
  a.test_label = opt.test_label;
  a.ref_path = ref.path();
  a.test_path = test.path();
  const Fields rf(ref, opt.aliases);
  const Fields tf(test, opt.aliases);
  const auto r_i = rf.scalar("I_before_scaling", true);
  const auto t_i = tf.scalar("I_before_scaling", true);
  if (!r_i) throw InputError(ref.path() + ": no I_before_scaling in the trace");
  if (!t_i) throw InputError(test.path() + ": no I_before_scaling in the trace");
  a.ref_value = *r_i;
  a.test_value = *t_i;
  a.gap = *t_i - *r_i;
  a.gap_rel = *r_i != 0 ? a.gap / *r_i : 0.0;

  // Per-step terms.
  std::string ref_channel, test_channel;
  const auto ref_steps = rf.steps(ref_channel);
  const auto test_steps = tf.steps(test_channel);
  a.step_channel = !ref_channel.empty() ? ref_channel : test_channel;
  const auto r_fcell = rf.scalar("F_cell");
  const auto t_fcell = tf.scalar("F_cell");
  const auto r_flatt = rf.scalar("F_latt");
  const auto t_flatt = tf.scalar("F_latt");

  std::vector<Coords> keys;
  for (const auto& s : (!ref_steps.empty() ? ref_steps : test_steps)) keys.push_back(s.coords);
  if (keys.empty()) keys.push_back({});
  auto find_step = [](const std::vector<Fields::Step>& steps, const Coords& c) -> const Fields::Step* {
    for (const auto& s : steps) {
      if (s.coords == c) return &s;
    }
    return nullptr;
  };
  bool all_ref_known = true;
  double ref_sum = 0;
  for (std::size_t i = 0; i < keys.size(); ++i) {
    AttributionStep st;
    st.loop = keys[i];
    const Fields::Step* rs = find_step(ref_steps, keys[i]);
    const Fields::Step* ts = find_step(test_steps, keys[i]);
    auto pick = [&](const Fields::Step* s, const std::string& field, const std::optional<double>& main,
                    bool allow_main) -> std::optional<double> {
      if (s) {
        auto it = s->values.find(field);
        if (it != s->values.end()) return it->second;
      }
      if (allow_main) return main;
      return std::nullopt;
    };
    const bool first = i == 0;
    st.ref_f_latt = pick(rs, "F_latt", r_flatt, first && ref_steps.empty());
    st.test_f_latt = pick(ts, "F_latt", t_flatt, first && test_steps.empty());
    // F_cell per step where traced, else the main line's (one reflection).
    st.ref_f_cell = pick(rs, "F_cell", r_fcell, true);
    st.test_f_cell = pick(ts, "F_cell", t_fcell, true);
    if (st.ref_f_latt && st.ref_f_cell) st.ref_term = term_of(*st.ref_f_cell, *st.ref_f_latt);
    if (st.test_f_latt && st.test_f_cell) st.test_term = term_of(*st.test_f_cell, *st.test_f_latt);
    st.test_source = ts ? "per-step line" : (st.test_f_latt ? "main lines (first step)" : "not traced");
    if (st.ref_term) ref_sum += *st.ref_term;
    else all_ref_known = false;
    if (st.ref_term && st.test_term && a.gap != 0) {
      st.share = (*st.test_term - *st.ref_term) / a.gap;
      a.attributed_share += *st.share;
    }
    a.steps.push_back(std::move(st));
  }
  a.ref_terms_over_total = (all_ref_known && a.ref_value != 0) ? ref_sum / a.ref_value : 0.0;
  {
    bool all_test_known = true;
    double test_sum = 0;
    for (const auto& s : a.steps) {
      if (s.test_term) test_sum += *s.test_term;
      else all_test_known = false;
    }
    a.test_terms_over_total = (all_test_known && a.test_value != 0) ? test_sum / a.test_value : 0.0;
    auto off = [](double r) { return r != 0 && std::fabs(r - 1.0) > 0.01; };
    a.terms_inconsistent = off(a.ref_terms_over_total) || off(a.test_terms_over_total);
  }

  // Log-ratio of the first step's factors (intensity goes as F²).
  for (const char* f : {"F_cell", "F_latt_a", "F_latt_b", "F_latt_c", "F_latt"}) {
    const auto r = rf.scalar(f);
    const auto t = tf.scalar(f);
    if (!r || !t || *r == 0 || *t == 0) continue;
    a.first_step_factors.push_back({f, *r, *t, 2.0 * std::log(std::fabs(*t / *r))});
  }
  // Scaling chain of I_pixel_final.
  const auto r_fin = rf.scalar("I_pixel_final", true);
  const auto t_fin = tf.scalar("I_pixel_final", true);
  if (r_fin && t_fin && *r_fin != 0) a.final_gap_rel = (*t_fin - *r_fin) / *r_fin;
  const std::pair<const char*, double> chain[] = {{"I_before_scaling", 1},       {"r_e_sqr", 1},
                                                  {"fluence_photons_per_m2", 1}, {"capture_fraction", 1},
                                                  {"polar", 1},                  {"omega_pixel", 1},
                                                  {"steps", -1}};
  for (const auto& [f, sign] : chain) {
    const auto r = rf.scalar(f, true);
    const auto t = tf.scalar(f, true);
    if (!r || !t || *r == 0 || *t == 0) continue;
    a.scaling_factors.push_back({f, *r, *t, sign * std::log(std::fabs(*t / *r)) + 0.0});  // + 0.0: no "-0"
  }

  // Lattice factors recomputed from the traced fractional hkl.
  const auto r_hkl = rf.get("hkl_frac");
  const auto r_fl = std::array{rf.scalar("F_latt_a"), rf.scalar("F_latt_b"), rf.scalar("F_latt_c")};
  std::array<int, 3> cells{0, 0, 0};
  if (opt.cells) {
    cells = *opt.cells;
  } else if (r_hkl && r_hkl->size() == 3) {
    for (int ax = 0; ax < 3; ++ax) {
      if (r_fl[ax]) cells[ax] = infer_cells((*r_hkl)[ax], *r_fl[ax]).value_or(0);
    }
  }
  auto check_side = [&](const Fields& f, const std::string& side) {
    const auto hkl = f.get("hkl_frac");
    if (!hkl || hkl->size() != 3) return;
    const char* names[] = {"F_latt_a", "F_latt_b", "F_latt_c"};
    for (int ax = 0; ax < 3; ++ax) {
      const auto traced = f.scalar(names[ax]);
      if (!traced || cells[ax] == 0) continue;
      LatticeCheck c;
      c.side = side;
      c.axis = static_cast<char>('a' + ax);
      c.cells = cells[ax];
      c.frac = (*hkl)[ax];
      c.traced = *traced;
      c.sincg_h = sincg(kPi * c.frac, cells[ax]);
      c.sincg_h_minus_h0 = sincg(kPi * (c.frac - std::nearbyint(c.frac)), cells[ax]);
      c.matches = which_matches(c.traced, c.sincg_h, c.sincg_h_minus_h0);
      a.lattice.push_back(c);
    }
  };
  check_side(rf, a.ref_label);
  check_side(tf, a.test_label);

  // Hypotheses.
  const AttributionStep* top = nullptr;
  for (const auto& s : a.steps) {
    if (s.share && (!top || std::fabs(*s.share) > std::fabs(*top->share))) top = &s;
  }
  const auto ref_sig = carryover_signature(ref_steps);
  const auto test_sig = carryover_signature(test_steps);
  if (!a.steps.empty() && a.steps.front().share) {
    const AttributionStep& s0 = a.steps.front();
    Hypothesis h;
    h.id = "phi-carryover";
    h.title = "The first step reuses the orientation of the previous pixel's last step (nanoBragg.c C-PARITY-001)";
    const double share0 = std::clamp(std::fabs(*s0.share), 0.0, 1.0);
    if (ref_sig || test_sig) {
      h.score = share0;
      const std::string& who = ref_sig ? a.ref_label : a.test_label;
      h.evidence.push_back(who + "'s first step " + coords_label(s0.loop) + " repeats its last step bit for bit (" +
                           (ref_sig ? *ref_sig : *test_sig) + ") while the steps between differ");
    } else {
      h.score = 0.1 * share0;
      h.evidence.push_back("no side repeats its last step at the first step bit for bit");
    }
    h.evidence.push_back("step " + coords_label(s0.loop) + " carries " + pct(*s0.share) + " of the gap");
    if (s0.ref_f_latt && s0.test_f_latt) {
      h.evidence.push_back("F_latt at that step: " + num(*s0.ref_f_latt) + " (" + a.ref_label + ") vs " +
                           num(*s0.test_f_latt) + " (" + a.test_label + ")");
    }
    a.hypotheses.push_back(std::move(h));
  }
  if (top) {
    Hypothesis h;
    h.id = "step-lattice-factor";
    h.title = "The gap sits in the lattice factor of step " + coords_label(top->loop);
    const bool same_cell = top->ref_f_cell && top->test_f_cell && *top->ref_f_cell == *top->test_f_cell;
    h.score = std::clamp(std::fabs(*top->share), 0.0, 1.0) * (same_cell ? 0.9 : 0.5);
    h.evidence.push_back("share of the gap " + pct(*top->share) + "; F_cell " +
                         (same_cell ? "identical on both sides" : "differs too"));
    a.hypotheses.push_back(std::move(h));
  }
  const double log_gap = (a.ref_value > 0 && a.test_value > 0) ? std::log(a.test_value / a.ref_value) : 0.0;
  for (const FactorTerm& f : a.first_step_factors) {
    if (f.factor != "F_cell" || std::fabs(f.log_ratio) < 1e-9 || log_gap == 0) continue;
    Hypothesis h;
    h.id = "structure-factor-lookup";
    h.title = "F_cell differs: a different structure-factor lookup (nearest vs interpolated, or the grid)";
    h.score = std::clamp(std::fabs(f.log_ratio / log_gap), 0.0, 1.0);
    h.evidence.push_back("F_cell " + num(f.ref) + " vs " + num(f.test));
    a.hypotheses.push_back(std::move(h));
  }
  std::map<char, std::pair<std::string, std::string>> conv;
  for (const LatticeCheck& c : a.lattice) {
    auto& slot = conv[c.axis];
    (c.side == a.ref_label ? slot.first : slot.second) = c.matches;
  }
  for (const auto& [axis, m] : conv) {
    if (m.first.empty() || m.second.empty() || m.first == m.second || m.first == "both" || m.second == "both") continue;
    Hypothesis h;
    h.id = "lattice-formula";
    h.title = "The sides evaluate the lattice factor differently along " + std::string(1, axis);
    h.score = 0.3;
    h.evidence.push_back(a.ref_label + " matches " + m.first + ", " + a.test_label + " matches " + m.second);
    a.hypotheses.push_back(std::move(h));
  }
  // Scaling-chain factors explain I_pixel_final beyond I_before_scaling:
  // each scores its share of the chain's total |log ratio|.
  double chain_total = 0;
  for (const FactorTerm& f : a.scaling_factors) chain_total += std::fabs(f.log_ratio);
  for (const FactorTerm& f : a.scaling_factors) {
    if (f.factor == "I_before_scaling" || std::fabs(f.log_ratio) < 1e-6 || chain_total == 0) continue;
    Hypothesis h;
    h.id = f.factor + "-mismatch";
    h.title = f.factor + " differs between the sides (it scales I_pixel_final, not I_before_scaling)";
    h.score = std::fabs(f.log_ratio) / chain_total;
    h.evidence.push_back(f.factor + " " + num(f.ref) + " vs " + num(f.test) + " (log ratio " + fmt::format("{:+.3e}", f.log_ratio) +
                         " of a total |log ratio| " + fmt::format("{:.3e}", chain_total) + " over the scaling chain)");
    a.hypotheses.push_back(std::move(h));
  }
  // Units: a vector printed in other units on one side (meters for Angstrom).
  for (const char* v : {"rot_a_angstroms", "rot_b_angstroms", "rot_c_angstroms", "scattering_vec_A_inv",
                        "pix0_vector_meters", "pixel_pos_meters"}) {
    const auto r = rf.get(v);
    const auto t = tf.get(v);
    if (!r || !t || r->size() != t->size()) continue;
    // The largest component carries the ratio; tiny ones are rounding noise.
    std::size_t k = 0;
    for (std::size_t i = 1; i < r->size(); ++i) {
      if (std::fabs((*r)[i]) > std::fabs((*r)[k])) k = i;
    }
    if ((*r)[k] == 0 || (*t)[k] == 0) continue;
    const double decades = std::log10(std::fabs((*t)[k] / (*r)[k]));
    const double whole = std::nearbyint(decades);
    if (std::fabs(whole) < 3 || std::fabs(decades - whole) > 1e-3) continue;
    Hypothesis h;
    h.id = "unit-mismatch";
    h.title = std::string(v) + " is in other units on one side (a factor 1e" + fmt::format("{:+.0f}", whole) + ")";
    h.score = 0.9;
    h.evidence.push_back(std::string(v) + ": " + num((*r)[k]) + " (" + a.ref_label + ") vs " + num((*t)[k]) + " (" +
                         a.test_label + "); everything computed from it (hkl, F_latt) inherits the error");
    a.hypotheses.push_back(std::move(h));
    break;
  }
  if (a.terms_inconsistent) {
    // Step shares assume I_before_scaling = Σ F_cell²·F_latt² on both sides.
    for (Hypothesis& h : a.hypotheses) {
      if (h.id == "phi-carryover" || h.id == "step-lattice-factor") {
        h.score *= 0.1;
        h.evidence.push_back("weakened: the per-step terms do not add up to I_before_scaling on one side");
      }
    }
    Hypothesis h;
    h.id = "trace-normalization";
    const bool test_off = a.test_terms_over_total != 0 && std::fabs(a.test_terms_over_total - 1.0) > 0.01;
    const std::string who = test_off ? a.test_label : a.ref_label;
    const double ratio = test_off ? a.test_terms_over_total : a.ref_terms_over_total;
    h.title = who + "'s I_before_scaling is not the sum of its own per-step terms: it is normalised or accumulated "
              "differently";
    h.score = 0.95;
    h.evidence.push_back(who + "'s per-step terms F_cell^2*F_latt^2 sum to " + pct(ratio) + " of its I_before_scaling");
    a.hypotheses.push_back(std::move(h));
  }
  std::stable_sort(a.hypotheses.begin(), a.hypotheses.end(),
                   [](const Hypothesis& x, const Hypothesis& y) { return x.score > y.score; });

  // Narrative.
  std::string n;
  n += a.quantity + " differs by " + fmt::format("{:+.2f}%", 100 * a.gap_rel) + " (" + a.ref_label + " " + num(a.ref_value) +
       ", " + a.test_label + " " + num(a.test_value) + ").";
  if (!ref_steps.empty()) {
    n += " The " + a.ref_label + " trace has " + std::to_string(ref_steps.size()) + " per-step lines (" +
         a.step_channel + "); their terms F_cell^2*F_latt^2 sum to " + pct(a.ref_terms_over_total) + " of its " +
         a.quantity + ".";
  }
  if (test_steps.empty() && !ref_steps.empty()) {
    n += " The " + a.test_label + " trace has no per-step lines: only its first step is known, from its main lines.";
  }
  if (top) {
    n += " Step " + coords_label(top->loop) + " accounts for " + pct(*top->share) + " of the gap";
    if (top->ref_f_latt && top->test_f_latt) {
      n += " (F_latt " + num(*top->ref_f_latt) + " -> " + num(*top->test_f_latt) + ")";
    }
    n += ".";
  }
  const double rest = 1.0 - a.attributed_share;
  std::size_t unknown = 0;
  double test_sum = 0;
  for (const auto& s : a.steps) {
    unknown += s.share ? 0 : 1;
    if (s.test_term) test_sum += *s.test_term;
  }
  if (std::fabs(rest) > 1e-4) {
    n += " The remaining " + pct(rest) + " cannot be attributed from the data given";
    if (unknown) {
      n += " (" + std::to_string(unknown) + " steps are not traced on both sides)";
    } else if (a.test_value != 0) {
      n += " (the " + a.test_label + " per-step terms sum to " + pct(test_sum / a.test_value) + " of its own " +
           a.quantity + ")";
    }
    n += ".";
    if (a.terms_inconsistent) n += " The step shares are therefore not a decomposition of the gap.";
  } else {
    n += " The per-step terms account for the whole gap.";
  }
  if (!a.hypotheses.empty()) {
    n += " Leading hypothesis: " + a.hypotheses.front().id + " (score " + fmt::format("{:.3f}", a.hypotheses.front().score) +
         ").";
  }
  a.narrative = n;
  return a;
}

}  // namespace nbtrace
