#include "nbtrace/trace/diff.hpp"

#include <algorithm>
#include <cmath>
#include <unordered_map>

#include "nbtrace/base/error.hpp"
#include "nbtrace/base/numbers.hpp"

namespace nbtrace {

std::string_view status_name(Status s) {
  switch (s) {
    case Status::pass: return "PASS";
    case Status::zero_match: return "MATCH_ZERO";
    case Status::waived: return "WAIVED";
    case Status::minor: return "MINOR";
    case Status::divergent: return "DIVERGENT";
    case Status::critical: return "CRITICAL";
    case Status::non_finite: return "NON_FINITE";
    case Status::zero_ref_divergent: return "DIVERGENT_ZERO_REF";
    case Status::text_mismatch: return "TEXT_MISMATCH";
    case Status::shape_mismatch: return "SHAPE_MISMATCH";
    case Status::missing: return "MISSING";
  }
  return "?";
}

std::string_view verdict_name(DiffVerdict v) {
  switch (v) {
    case DiffVerdict::pass: return "PASS";
    case DiffVerdict::divergent: return "DIVERGENT";
    case DiffVerdict::not_compared: return "NOT_COMPARED";
  }
  return "?";
}

DiffVerdict diff_verdict_from_name(std::string_view name) {
  for (const DiffVerdict v : {DiffVerdict::pass, DiffVerdict::divergent, DiffVerdict::not_compared})
    if (verdict_name(v) == name) return v;
  throw InputError("unknown trace verdict '" + printable(name) + "' (PASS, DIVERGENT or NOT_COMPARED)");
}

bool is_divergence(Status s) {
  switch (s) {
    case Status::minor:
    case Status::divergent:
    case Status::critical:
    case Status::non_finite:
    case Status::zero_ref_divergent:
    case Status::text_mismatch:
    case Status::shape_mismatch: return true;
    default: return false;
  }
}

namespace {

/// Severity used to pick a field's worst component status.
int severity(Status s) {
  switch (s) {
    case Status::pass:
    case Status::zero_match: return 0;
    case Status::waived: return 1;
    case Status::missing: return 2;
    case Status::minor: return 3;
    case Status::divergent: return 4;
    case Status::zero_ref_divergent: return 5;
    case Status::critical:
    case Status::non_finite: return 6;
    case Status::text_mismatch:
    case Status::shape_mismatch: return 7;
  }
  return 0;
}

}  // namespace

NumericVerdict compare_values(double ref, double test, double rel_tol, double abs_floor, bool non_finite_equal) {
  constexpr double nan = std::numeric_limits<double>::quiet_NaN();
  if (!std::isfinite(ref) || !std::isfinite(test)) {
    // A NaN or an infinity on either side is no number to agree on, unless
    // the policy lets identical non-finite values pass.
    const bool same = (std::isnan(ref) && std::isnan(test)) || ref == test;
    return {nan, nan, non_finite_equal && same ? Status::pass : Status::non_finite};
  }
  if (ref == test) return {0.0, 0.0, Status::pass};  // also ±0
  const double abs_delta = test - ref;
  if (std::fabs(ref) < kNearZero) {
    if (std::fabs(test) < kNearZero) return {abs_delta, 0.0, Status::zero_match};
    if (std::fabs(abs_delta) <= abs_floor) return {abs_delta, nan, Status::pass};
    return {abs_delta, nan, Status::zero_ref_divergent};
  }
  const double rel = abs_delta / ref;
  const double mag = std::fabs(rel);
  Status s;
  if (mag <= rel_tol || std::fabs(abs_delta) <= abs_floor) s = Status::pass;
  else if (mag < 1e-4) s = Status::minor;
  else if (mag < 1e-2) s = Status::divergent;
  else s = Status::critical;
  return {abs_delta, rel, s};
}

std::string DiffResult::field_label(const FieldResult& f) const {
  std::string out(name(f));
  const auto coords = loop_coords(f);
  if (!coords.empty()) {
    out += '[';
    for (std::size_t i = 0; i < coords.size(); ++i) {
      if (i) out += ',';
      out += coords[i].first + "=" + format_double(coords[i].second);
    }
    out += ']';
  }
  if (f.occurrence) out += "#" + std::to_string(f.occurrence);
  return out;
}

std::vector<std::pair<std::string, double>> DiffResult::loop_coords(const FieldResult& f) const {
  std::vector<std::pair<std::string, double>> out;
  const Trace* t = f.ref_record >= 0 ? ref : test;
  const std::int32_t idx = f.ref_record >= 0 ? f.ref_record : f.test_record;
  if (!t || idx < 0) return out;
  const Record& r = t->records()[static_cast<std::size_t>(idx)];
  for (const LoopCoord& c : t->loop(r)) out.emplace_back(std::string(t->names()[c.name_id]), c.value);
  return out;
}

namespace {
double value_of(const Trace* t, std::int32_t record, std::uint32_t component) {
  if (record < 0) return std::numeric_limits<double>::quiet_NaN();
  const Record& r = t->records()[static_cast<std::size_t>(record)];
  if (r.form == ValueForm::text || r.form == ValueForm::marker || component >= r.num_values) {
    return std::numeric_limits<double>::quiet_NaN();
  }
  return t->values(r)[component];
}
}  // namespace

double DiffResult::ref_value(const ComponentResult& c) const {
  return value_of(ref, fields[c.field].ref_record, c.component);
}
double DiffResult::test_value(const ComponentResult& c) const {
  return value_of(test, fields[c.field].test_record, c.component);
}
double DiffResult::abs_delta(const ComponentResult& c) const {
  const double r = ref_value(c);
  const double t = test_value(c);
  return r == t ? 0.0 : t - r;
}
std::uint64_t DiffResult::ulps(const ComponentResult& c) const { return ulp_distance(ref_value(c), test_value(c)); }

std::uint32_t DiffResult::ref_line(const FieldResult& f) const {
  return f.ref_record >= 0 ? ref->records()[static_cast<std::size_t>(f.ref_record)].line : 0;
}
std::uint32_t DiffResult::test_line(const FieldResult& f) const {
  return f.test_record >= 0 ? test->records()[static_cast<std::size_t>(f.test_record)].line : 0;
}

namespace {

/// Per-side view of a trace in the joint (alias-resolved) name space.
struct Side {
  const Trace* trace;
  std::vector<std::uint32_t> joint_of_local;  // local name id → joint name id
  std::vector<std::uint32_t> tuple_of_local;  // local loop-tuple id → joint tuple id
  std::vector<std::uint32_t> occurrence;      // per record, in the joint name space
  bool injective = true;                      // no two local names share a joint name
};

/// Alignment key: resolved name, loop-coordinate tuple, occurrence.
struct Key {
  std::uint32_t name;
  std::uint32_t tuple;
  std::uint32_t occurrence;
  bool operator==(const Key&) const = default;
};
struct KeyHash {
  std::size_t operator()(const Key& k) const noexcept {
    std::uint64_t h = k.name * 0x9E3779B97F4A7C15ULL;
    h ^= (static_cast<std::uint64_t>(k.tuple) << 32 | k.occurrence) + 0x632BE59BD9B4E019ULL + (h << 6) + (h >> 2);
    return static_cast<std::size_t>(h ^ (h >> 29));
  }
};

class Differ {
 public:
  Differ(const Trace& ref, const Trace& test, const DiffOptions& opt) : opt_(opt) {
    ref_.trace = &ref;
    test_.trace = &test;
    map_names(ref_);
    map_names(test_);
    map_tuples(ref_);
    map_tuples(test_);
    count_occurrences(ref_);
    count_occurrences(test_);
  }

  DiffResult run() {
    DiffResult out;
    out.ref = ref_.trace;
    out.test = test_.trace;
    out.tolerance_rel = opt_.policy.rel;
    out.min_compared = std::max<std::size_t>(1, opt_.policy.min_compared);
    waiver_used_.assign(opt_.policy.waivers.size(), false);

    const auto& ref_records = ref_.trace->records();
    const auto& test_records = test_.trace->records();
    std::vector<bool> test_matched(test_records.size(), false);
    out.fields.reserve(ref_records.size());
    std::size_t expected_components = 0;
    for (const Record& r : ref_records) expected_components += std::max<std::uint32_t>(r.num_values, 1);
    out.components.reserve(expected_components + expected_components / 8);

    // Traces of the same program list fields in the same order: try the next
    // unmatched test record first and build a hash index only on a miss.
    std::size_t cursor = 0;
    for (std::size_t i = 0; i < ref_records.size(); ++i) {
      const std::uint32_t joint = ref_.joint_of_local[ref_records[i].name_id];
      if (!included(joint)) continue;
      const Key key = key_of(ref_, i);
      std::int32_t match = -1;
      while (cursor < test_records.size() &&
             (test_matched[cursor] || !included(test_.joint_of_local[test_records[cursor].name_id]))) {
        ++cursor;
      }
      if (cursor < test_records.size() && key_of(test_, cursor) == key) {
        match = static_cast<std::int32_t>(cursor++);
      } else {
        build_index();
        if (auto it = index_.find(key); it != index_.end()) {
          match = static_cast<std::int32_t>(it->second);
          cursor = it->second + 1;
        }
      }
      if (match >= 0) test_matched[static_cast<std::size_t>(match)] = true;
      add_field(out, joint, static_cast<std::int32_t>(i), match, key.occurrence);
    }
    for (std::size_t i = 0; i < test_records.size(); ++i) {
      const std::uint32_t joint = test_.joint_of_local[test_records[i].name_id];
      if (test_matched[i] || !included(joint)) continue;
      add_field(out, joint, -1, static_cast<std::int32_t>(i), test_.occurrence[i]);
    }
    summarize(out);
    out.names = std::move(joint_);
    return out;
  }

 private:
  const DiffOptions& opt_;
  Side ref_{};
  Side test_{};
  NameTable joint_;
  std::unordered_map<std::string, std::uint32_t> joint_tuples_;
  std::vector<std::int8_t> included_;  // per joint id: -1 unknown, 0 no, 1 yes
  std::vector<std::pair<double, double>> tolerance_;  // per joint id
  std::vector<bool> tolerance_known_;
  std::vector<std::vector<std::uint32_t>> name_waivers_;  // per joint id
  std::vector<bool> name_waivers_known_;
  std::vector<bool> waiver_used_;
  std::unordered_map<Key, std::uint32_t, KeyHash> index_;
  bool index_built_ = false;

  void map_names(Side& s) {
    const NameTable& names = s.trace->names();
    s.joint_of_local.resize(names.size());
    std::vector<bool> taken;
    for (std::uint32_t id = 0; id < names.size(); ++id) {
      const std::uint32_t j = joint_.intern(opt_.aliases.resolve(names[id]));
      s.joint_of_local[id] = j;
      if (taken.size() <= j) taken.resize(j + 1, false);
      if (taken[j]) s.injective = false;
      taken[j] = true;
    }
  }

  void map_tuples(Side& s) {
    const std::size_t n = s.trace->num_loop_tuples();
    s.tuple_of_local.assign(n, 0);
    std::string key;
    for (std::uint32_t t = 1; t < n; ++t) {
      key.clear();
      for (const LoopCoord& c : s.trace->loop_tuple(t)) {
        const std::uint32_t cj = s.joint_of_local[c.name_id];
        const double v = c.value == 0 ? 0.0 : c.value;
        key.append(reinterpret_cast<const char*>(&cj), sizeof cj);
        key.append(reinterpret_cast<const char*>(&v), sizeof v);
      }
      const auto next = static_cast<std::uint32_t>(joint_tuples_.size() + 1);
      s.tuple_of_local[t] = joint_tuples_.try_emplace(key, next).first->second;
    }
  }

  void count_occurrences(Side& s) {
    const auto& records = s.trace->records();
    s.occurrence.resize(records.size());
    if (s.injective) {
      // One local name per joint name: the parser's counts already hold.
      for (std::size_t i = 0; i < records.size(); ++i) s.occurrence[i] = records[i].occurrence;
      return;
    }
    std::vector<std::uint32_t> plain(joint_.size(), 0);
    std::unordered_map<std::uint64_t, std::uint32_t> keyed;
    for (std::size_t i = 0; i < records.size(); ++i) {
      const Record& r = records[i];
      const std::uint32_t j = s.joint_of_local[r.name_id];
      if (r.loop_tuple == 0) {
        s.occurrence[i] = plain[j]++;
      } else {
        s.occurrence[i] = keyed[(static_cast<std::uint64_t>(j) << 32) | s.tuple_of_local[r.loop_tuple]]++;
      }
    }
  }

  Key key_of(const Side& s, std::size_t i) const {
    const Record& r = s.trace->records()[i];
    return {s.joint_of_local[r.name_id], s.tuple_of_local[r.loop_tuple], s.occurrence[i]};
  }

  void build_index() {
    if (index_built_) return;
    index_built_ = true;
    const auto& test_records = test_.trace->records();
    index_.reserve(test_records.size());
    for (std::size_t i = 0; i < test_records.size(); ++i) {
      if (!included(test_.joint_of_local[test_records[i].name_id])) continue;
      index_.emplace(key_of(test_, i), static_cast<std::uint32_t>(i));
    }
  }

  void grow(std::uint32_t joint) {
    if (included_.size() > joint) return;
    const std::size_t n = joint_.size();
    included_.resize(n, -1);
    tolerance_.resize(n);
    tolerance_known_.resize(n, false);
    name_waivers_.resize(n);
    name_waivers_known_.resize(n, false);
  }

  bool included(std::uint32_t joint) {
    grow(joint);
    if (included_[joint] < 0) {
      bool yes = opt_.field_globs.empty();
      for (const std::string& g : opt_.field_globs) {
        if (glob_match(g, joint_[joint])) {
          yes = true;
          break;
        }
      }
      included_[joint] = yes ? 1 : 0;
    }
    return included_[joint] == 1;
  }

  std::pair<double, double> tolerance(std::uint32_t joint) {
    grow(joint);
    if (!tolerance_known_[joint]) {
      tolerance_[joint] = opt_.policy.tolerance_for(joint_[joint]);
      tolerance_known_[joint] = true;
    }
    return tolerance_[joint];
  }

  const std::vector<std::uint32_t>& waivers_for_name(std::uint32_t joint) {
    grow(joint);
    if (!name_waivers_known_[joint]) {
      const auto& ws = opt_.policy.waivers;
      for (std::uint32_t w = 0; w < ws.size(); ++w) {
        for (const std::string& g : ws[w].fields) {
          if (glob_match(g, joint_[joint])) {
            name_waivers_[joint].push_back(w);
            break;
          }
        }
      }
      name_waivers_known_[joint] = true;
    }
    return name_waivers_[joint];
  }

  /// First waiver whose name globs and loop constraints match the record.
  std::int32_t waiver_for(std::uint32_t joint, const Side& side, std::int32_t record) {
    const auto& candidates = waivers_for_name(joint);
    if (candidates.empty() || record < 0) return -1;
    const Record& r = side.trace->records()[static_cast<std::size_t>(record)];
    for (std::uint32_t w : candidates) {
      bool ok = true;
      for (const auto& [name, value] : opt_.policy.waivers[w].loop) {
        bool found = false;
        for (const LoopCoord& c : side.trace->loop(r)) {
          if (side.trace->names()[c.name_id] == name && c.value == value) found = true;
        }
        if (!found) ok = false;
      }
      if (ok) return static_cast<std::int32_t>(w);
    }
    return -1;
  }

  void add_field(DiffResult& out, std::uint32_t joint, std::int32_t ref_idx, std::int32_t test_idx,
                 std::uint32_t occurrence) {
    FieldResult f;
    f.name_id = joint;
    f.ref_record = ref_idx;
    f.test_record = test_idx;
    f.occurrence = occurrence;
    f.first_component = static_cast<std::uint32_t>(out.components.size());
    const std::uint32_t field_index = static_cast<std::uint32_t>(out.fields.size());
    const std::int32_t waiver = ref_idx >= 0 ? waiver_for(joint, ref_, ref_idx) : waiver_for(joint, test_, test_idx);
    const auto [rel_tol, abs_floor] = tolerance(joint);

    auto push = [&](ComponentResult c) {
      c.field = field_index;
      c.underlying = c.status;
      if (waiver >= 0 && c.status != Status::missing) {
        if (is_divergence(c.status)) waiver_used_[static_cast<std::size_t>(waiver)] = true;
        c.status = Status::waived;
        c.waiver = static_cast<std::int16_t>(waiver);
      }
      out.components.push_back(c);
    };

    const Record* rr = ref_idx >= 0 ? &ref_.trace->records()[static_cast<std::size_t>(ref_idx)] : nullptr;
    const Record* tr = test_idx >= 0 ? &test_.trace->records()[static_cast<std::size_t>(test_idx)] : nullptr;
    if (!rr || !tr) {
      const Record* one = rr ? rr : tr;
      const std::size_t n = std::max<std::size_t>(one->num_values, 1);
      for (std::size_t i = 0; i < n; ++i) {
        ComponentResult c;
        c.component = static_cast<std::uint32_t>(i);
        c.status = Status::missing;
        push(c);
      }
    } else if (rr->form == ValueForm::text || tr->form == ValueForm::text || rr->form == ValueForm::marker ||
               tr->form == ValueForm::marker) {
      ComponentResult c;
      const bool equal = rr->form == tr->form && rr->text == tr->text;
      c.status = equal ? Status::pass : Status::text_mismatch;
      push(c);
    } else {
      const auto rv = ref_.trace->values(*rr);
      const auto tv = test_.trace->values(*tr);
      const std::size_t n = std::max(rv.size(), tv.size());
      const bool keyed = rr->form == ValueForm::keyed && tr->form == ValueForm::keyed;
      for (std::size_t i = 0; i < n; ++i) {
        ComponentResult c;
        c.component = static_cast<std::uint32_t>(i);
        if (i >= rv.size() || i >= tv.size()) {
          c.status = Status::shape_mismatch;
        } else {
          const NumericVerdict v = compare_values(rv[i], tv[i], rel_tol, abs_floor, opt_.policy.non_finite_equal);
          c.rel_delta = v.rel_delta;
          c.status = v.status;
          const std::uint64_t u = ulp_distance(rv[i], tv[i]);
          if (u != std::numeric_limits<std::uint64_t>::max()) f.max_ulps = std::max(f.max_ulps, u);
          if (keyed && ref_.trace->component_key(*rr, i) != test_.trace->component_key(*tr, i)) {
            c.status = Status::text_mismatch;
          }
        }
        push(c);
      }
    }
    f.num_components = static_cast<std::uint32_t>(out.components.size()) - f.first_component;
    for (std::uint32_t i = 0; i < f.num_components; ++i) {
      const ComponentResult& c = out.components[f.first_component + i];
      if (i == 0 || severity(c.status) > severity(f.status)) f.status = c.status;
      if (!std::isnan(c.rel_delta)) f.max_abs_rel = std::max(f.max_abs_rel, std::fabs(c.rel_delta));
    }
    out.fields.push_back(std::move(f));
  }

  void summarize(DiffResult& out) {
    for (std::size_t i = 0; i < out.fields.size(); ++i) {
      const FieldResult& f = out.fields[i];
      const bool both = f.ref_record >= 0 && f.test_record >= 0;
      if (both) ++out.num_compared;
      else ++out.num_missing;
      bool waived = false;
      for (std::uint32_t k = 0; k < f.num_components; ++k) {
        const ComponentResult& c = out.components[f.first_component + k];
        if (is_divergence(c.status)) ++out.num_divergent_components;
        if (c.underlying == Status::non_finite) ++out.num_non_finite;
        if (c.status == Status::waived) waived = true;
      }
      if (waived) ++out.num_waived;
      if (is_divergence(f.status)) {
        ++out.num_divergent;
        if (!out.first_divergence) out.first_divergence = i;
      }
    }
    if (out.first_divergence) {
      // The compared fields just before it in the reference's order.
      std::vector<std::size_t> before;
      for (std::size_t i = *out.first_divergence; i-- > 0 && before.size() < opt_.upstream_context;) {
        if (out.fields[i].ref_record >= 0 && out.fields[i].test_record >= 0) before.push_back(i);
      }
      out.upstream.assign(before.rbegin(), before.rend());
    }
    for (std::size_t w = 0; w < waiver_used_.size(); ++w) {
      if (!waiver_used_[w]) out.unused_waivers.push_back(opt_.policy.waivers[w].id);
    }
  }
};

}  // namespace

DiffResult diff_traces(const Trace& ref, const Trace& test, const DiffOptions& options) {
  return Differ(ref, test, options).run();
}

void apply_policy_file(const PolicyFile& file, DiffOptions& options) {
  if (file.tolerance_rel) options.policy.rel = *file.tolerance_rel;
  if (file.abs_floor) options.policy.abs_floor = *file.abs_floor;
  if (file.min_compared_fields) options.policy.min_compared = *file.min_compared_fields;
  if (file.non_finite_equal) options.policy.non_finite_equal = *file.non_finite_equal;
  options.policy.overrides = file.overrides;
  options.policy.waivers = file.waivers;
  for (const auto& [from, to] : file.aliases) options.aliases.add(from, to);
}

}  // namespace nbtrace
