#include <algorithm>
#include <cctype>
#include <array>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <ostream>
#include <sstream>

#include "nbtrace/base/error.hpp"
#include "nbtrace/base/numbers.hpp"
#include "nbtrace/trace/trace.hpp"

namespace nbtrace {

std::uint32_t NameTable::intern(std::string_view name) {
  // Traces repeat the same few dozen names: a small direct-mapped cache on
  // (length, first and last bytes) skips hashing the whole name.
  std::size_t slot = 0;
  if (!name.empty()) {
    slot = (name.size() * 131u + static_cast<unsigned char>(name.front()) * 31u +
            static_cast<unsigned char>(name.back()) + static_cast<unsigned char>(name[name.size() / 2]) * 7u) %
           cache_.size();
    const std::uint32_t cached = cache_[slot];
    if (cached != kNoEntry && *names_[cached] == name) return cached;
  }
  if (auto it = ids_.find(name); it != ids_.end()) {
    if (!name.empty()) cache_[slot] = it->second;
    return it->second;
  }
  const std::string& stored = storage_.emplace_back(name);
  const auto id = static_cast<std::uint32_t>(names_.size());
  names_.push_back(&stored);
  ids_.emplace(std::string_view(stored), id);
  if (!name.empty()) cache_[slot] = id;
  return id;
}

std::optional<std::uint32_t> NameTable::find(std::string_view name) const {
  if (auto it = ids_.find(name); it != ids_.end()) return it->second;
  return std::nullopt;
}

std::string_view Trace::component_key(const Record& r, std::size_t i) const {
  if (r.form != ValueForm::keyed || i >= r.num_values) return {};
  return keys_[r.first_key + i];
}

std::optional<std::size_t> Trace::find_last(std::string_view name) const {
  const auto id = names_.find(name);
  if (!id) return std::nullopt;
  for (std::size_t i = records_.size(); i-- > 0;) {
    if (records_[i].name_id == *id) return i;
  }
  return std::nullopt;
}

std::string Trace::label(const Record& r) const {
  std::string out(name(r));
  if (r.num_loop) {
    out += '[';
    bool first = true;
    for (const LoopCoord& c : loop(r)) {
      if (!first) out += ',';
      first = false;
      out += names_[c.name_id];
      out += '=';
      out += format_double(c.value);
    }
    out += ']';
  }
  if (r.occurrence) out += "#" + std::to_string(r.occurrence);
  return out;
}

namespace {

constexpr std::string_view kPrefix = "TRACE_";

/// Byte classes: bit 1 white space, bit 2 separator inside brackets (',').
constexpr std::array<std::uint8_t, 256> kCharClass = [] {
  std::array<std::uint8_t, 256> t{};
  for (unsigned char c : {' ', '\t', '\r', '\v', '\f'}) t[c] = 1 | 2;
  t[static_cast<unsigned char>(',')] = 2;
  return t;
}();

inline bool is_space(char c) { return kCharClass[static_cast<unsigned char>(c)] & 1; }

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

bool is_ident_char(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
}

/// Splits on whitespace (and on commas too with `commas`); stops when `f`
/// returns false.
template <typename F>
void for_each_token(std::string_view s, F&& f, bool commas = false) {
  std::size_t i = 0;
  const std::size_t n = s.size();
  const std::uint8_t mask = commas ? 2 : 1;
  auto is_sep = [&](char c) { return (kCharClass[static_cast<unsigned char>(c)] & mask) != 0; };
  while (i < n) {
    while (i < n && is_sep(s[i])) ++i;
    if (i >= n) break;
    std::size_t j = i;
    while (j < n && !is_sep(s[j])) ++j;
    if (!f(s.substr(i, j - i))) return;
    i = j;
  }
}

/// True for tokens that a reader would take for a number ("1.x", "-3e").
bool looks_numeric(std::string_view tok) {
  if (tok.empty()) return false;
  std::size_t i = (tok[0] == '-' || tok[0] == '+') ? 1 : 0;
  if (i < tok.size() && tok[i] == '.') ++i;
  return i < tok.size() && tok[i] >= '0' && tok[i] <= '9';
}

/// The first '_'-separated part of the identifier after TRACE_.
std::string_view tag_of_ident(std::string_view ident) {
  const auto us = ident.find('_');
  return us == std::string_view::npos ? ident : ident.substr(0, us);
}

}  // namespace

namespace {

constexpr std::string_view kUtf8Bom = "\xEF\xBB\xBF";

/// Drops a UTF-8 byte-order mark at the start of a line (a file's first
/// line, or a log appended to another); true when there was one.
bool strip_bom(std::string_view& line) {
  if (!line.starts_with(kUtf8Bom)) return false;
  line.remove_prefix(kUtf8Bom.size());
  return true;
}

}  // namespace

std::string detect_tag(std::string_view text) {
  // The first 10,000 TRACE_ lines decide: enough for any real mix of tags,
  // and a 100 MB log is not scanned twice.
  constexpr std::uint64_t kSample = 10000;
  std::map<std::string, std::uint64_t> counts;
  std::vector<std::string> first_seen;
  std::uint64_t sampled = 0;
  std::size_t pos = 0;
  while (pos < text.size() && sampled < kSample) {
    const char* nl = static_cast<const char*>(std::memchr(text.data() + pos, '\n', text.size() - pos));
    const std::size_t eol = nl ? static_cast<std::size_t>(nl - text.data()) : text.size();
    std::string_view line = text.substr(pos, eol - pos);
    pos = eol + 1;
    strip_bom(line);
    if (!line.starts_with(kPrefix)) continue;
    std::size_t k = kPrefix.size();
    while (k < line.size() && is_ident_char(line[k])) ++k;
    const std::string_view tag = tag_of_ident(line.substr(kPrefix.size(), k - kPrefix.size()));
    if (tag.empty() || tag == "CONFIG") continue;
    ++sampled;
    auto [it, inserted] = counts.try_emplace(std::string(tag), 0);
    if (inserted) first_seen.emplace_back(tag);
    ++it->second;
  }
  std::string best;
  std::uint64_t best_count = 0;
  for (const std::string& t : first_seen) {
    if (counts[t] > best_count) {
      best = t;
      best_count = counts[t];
    }
  }
  return best;
}

class TraceParser {
 public:
  explicit TraceParser(Trace& trace) : t_(trace) {}

  void run() {
    const std::string_view text = t_.buffer_->view;
    std::size_t pos = 0;
    std::uint32_t lineno = 0;
    while (pos < text.size()) {
      const char* nl = static_cast<const char*>(std::memchr(text.data() + pos, '\n', text.size() - pos));
      const std::size_t eol = nl ? static_cast<std::size_t>(nl - text.data()) : text.size();
      std::string_view line = text.substr(pos, eol - pos);
      if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
      pos = eol + 1;
      ++lineno;
      if (strip_bom(line)) ++t_.stats_.byte_order_marks;
      parse_line(line, lineno);
    }
    t_.stats_.lines = lineno;
  }

 private:
  Trace& t_;
  std::string scratch_;
  std::vector<std::uint32_t> occurrences_by_name_;
  std::unordered_map<std::uint64_t, std::uint32_t> occurrences_by_tuple_;  // (name id, tuple id)
  std::unordered_map<std::string, std::uint32_t> tuple_ids_;  // coordinate bytes → tuple id
  std::string tuple_key_;
  std::vector<double> tmp_values_;  // values of a line before validation
  std::vector<std::string_view> step_keys_;

  void malformed(std::uint32_t lineno, std::string reason) {
    ++t_.stats_.malformed_lines;
    t_.diagnostics_.push_back({lineno, printable(reason)});  // echoed to terminals
  }

  void parse_line(std::string_view line, std::uint32_t lineno) {
    if (!line.starts_with(kPrefix)) {
      ++t_.stats_.skipped_lines;
      return;
    }
    std::size_t k = kPrefix.size();
    while (k < line.size() && is_ident_char(line[k])) ++k;
    const std::string_view ident = line.substr(kPrefix.size(), k - kPrefix.size());
    if (ident.empty()) {  // "TRACE_:" or "TRACE_ ..." : no tag at all
      malformed(lineno, "no tag after TRACE_");
      return;
    }
    if (ident == "CONFIG") {
      ++t_.stats_.config_lines;
      parse_config(line.substr(k));
      return;
    }
    const std::string& tag = t_.tag_;
    std::string_view channel;
    if (ident == tag) {
      channel = {};
    } else if (ident.size() > tag.size() + 1 && ident.starts_with(tag) && ident[tag.size()] == '_') {
      channel = ident.substr(tag.size() + 1);
    } else {
      ++t_.stats_.foreign_lines;
      return;
    }
    std::string_view rest = line.substr(k);
    if (!rest.empty()) {
      if (rest.front() == ':') {
        rest.remove_prefix(1);
      } else if (!is_space(rest.front())) {
        malformed(lineno, "expected ':' or a space after TRACE_" + std::string(ident));
        return;
      }
    }
    rest = trim(rest);
    const std::size_t before = t_.records_.size();
    if (parse_content(channel, rest, lineno)) {
      ++t_.stats_.trace_lines;
      t_.stats_.records += t_.records_.size() - before;
    }
  }

  void parse_config(std::string_view rest) {
    auto number_after = [&](std::string_view key) -> std::optional<int> {
      const auto at = rest.find(key);
      if (at == std::string_view::npos) return std::nullopt;
      std::size_t i = at + key.size();
      std::size_t j = i;
      if (j < rest.size() && rest[j] == '-') ++j;
      while (j < rest.size() && rest[j] >= '0' && rest[j] <= '9') ++j;
      const auto v = parse_double(rest.substr(i, j - i));
      if (!v) return std::nullopt;
      return static_cast<int>(*v);
    };
    const auto s = number_after("spixel=");
    const auto f = number_after("fpixel=");
    if (s && f) t_.pixels_.push_back({*s, *f});
  }

  /// Returns false (after reporting) when the content is malformed.
  bool parse_content(std::string_view channel, std::string_view rest, std::uint32_t lineno) {
    if (rest.empty()) {
      if (channel.empty()) {
        malformed(lineno, "trace line has no field");
        return false;
      }
      add_marker(channel, lineno);
      return true;
    }
    // "[0,0,0]=162.8" names a field with brackets; "[1, 2, 3]" is a bare list.
    if (rest.front() == '[') {
      const auto close = rest.find(']');
      const bool named = close != std::string_view::npos && close + 1 < rest.size() && rest[close + 1] == '=';
      if (!named) {
        if (channel.empty()) {
          malformed(lineno, "value without a field name");
          return false;
        }
        return add_single(channel, {}, rest, lineno);
      }
      return add_single(channel, rest.substr(0, close + 1), rest.substr(close + 2), lineno);
    }
    if (is_section_line(rest)) {
      ++t_.stats_.section_lines;
      return true;
    }
    std::size_t tok_end = 0;
    while (tok_end < rest.size() && !is_space(rest[tok_end])) ++tok_end;
    const std::string_view first = rest.substr(0, tok_end);
    const auto eq = first.find('=');
    if (eq != std::string_view::npos) {
      if (eq == 0) {
        malformed(lineno, "empty field name before '='");
        return false;
      }
      if (tok_end < rest.size() && parse_key_numbers(rest)) return add_per_step(channel, rest, lineno);
      return add_assigned(channel, first.substr(0, eq), trim(rest.substr(eq + 1)), lineno);
    }
    const std::string_view value = trim(rest.substr(tok_end));
    if (value.empty()) {
      malformed(lineno, "field '" + std::string(first) + "' has no value");
      return false;
    }
    // "name = value": the peer's spaced assignment.
    if (value.front() == '=') return add_assigned(channel, first, trim(value.substr(1)), lineno);
    return add_single(channel, first, value, lineno);
  }

  /// Banner and section lines ("===== begin pixel (12, 34) =====",
  /// "----"): three or more of one of = - * # first. They carry no value.
  static bool is_section_line(std::string_view rest) {
    if (rest.size() < 3) return false;
    const char c = rest[0];
    return (c == '=' || c == '-' || c == '*' || c == '#') && rest[1] == c && rest[2] == c;
  }

  /// A unit after a value ("meters", "Å", "m^-1", "(rad)"): a word that is
  /// not a number and holds no '=' or ':'. UTF-8 bytes count as letters.
  static bool is_unit(std::string_view tok) {
    if (tok.empty() || looks_numeric(tok) || parse_double(tok)) return false;
    const auto first = static_cast<unsigned char>(tok.front() == '(' ? (tok.size() > 1 ? tok[1] : ' ') : tok.front());
    if (!(std::isalpha(first) || first >= 0x80 || first == '%')) return false;
    return tok.find_first_of("=:[],") == std::string_view::npos;
  }

  /// The value of an assignment (`name = value`, `name=value`): a number
  /// list or a bracketed vector/matrix (Python's `[a, b]` and `[[a, b], [c, d]]`
  /// too), then an optional unit, then optional `label = number [unit]`
  /// annotations such as `|a| = 0.00108 meters`, each its own field.
  /// Anything else after the value is a malformation; a value that is not
  /// numeric at all is read as add_single reads it (key:value pairs or text).
  bool add_assigned(std::string_view channel, std::string_view name, std::string_view value, std::uint32_t lineno) {
    if (value.empty()) {
      malformed(lineno, "field '" + label_of(channel, name) + "' has no value");
      return false;
    }
    std::string_view main, tail;
    std::string nested;  // "[[a, b], [c, d]]" rewritten as "[a, b; c, d]"
    if (value.front() == '[') {
      const bool rows = value.starts_with("[[");
      const std::size_t close = rows ? value.find("]]") : value.find(']');
      if (close == std::string_view::npos) {
        malformed(lineno, "field '" + label_of(channel, name) + "': unclosed '['");
        return false;
      }
      const std::size_t end = close + (rows ? 2 : 1);
      main = value.substr(0, end);
      tail = trim(value.substr(end));
      if (rows) {
        nested = "[";
        for (std::size_t i = 2; i + 2 < end; ++i) {
          if (main[i] == ']') {
            std::size_t j = i + 1;
            while (j < end && (main[j] == ',' || is_space(main[j]))) ++j;
            if (j < end && main[j] == '[') {
              nested += ';';
              i = j;
              continue;
            }
          }
          nested += main[i];
        }
        nested += ']';
        main = nested;
      }
    } else {
      // The leading run of numbers.
      std::size_t end = 0;
      for (std::size_t i = 0; i < value.size();) {
        while (i < value.size() && is_space(value[i])) ++i;
        std::size_t j = i;
        while (j < value.size() && !is_space(value[j])) ++j;
        if (i == j || !parse_double(value.substr(i, j - i))) break;
        end = j;
        i = j;
      }
      if (end == 0) return add_single(channel, name, value, lineno);
      main = value.substr(0, end);
      tail = trim(value.substr(end));
    }
    std::vector<std::string_view> tokens;
    for_each_token(tail, [&](std::string_view tok) {
      // "|a|=0.00108" is "|a|", "=", "0.00108".
      const auto at = tok.find('=');
      if (at != std::string_view::npos && tok.size() > 1) {
        if (at > 0) tokens.push_back(tok.substr(0, at));
        tokens.push_back("=");
        if (at + 1 < tok.size()) tokens.push_back(tok.substr(at + 1));
      } else {
        tokens.push_back(tok);
      }
      return true;
    });
    std::size_t k = 0;
    const auto unit_here = [&] { return k < tokens.size() && is_unit(tokens[k]) && !(k + 1 < tokens.size() && tokens[k + 1] == "="); };
    if (unit_here()) ++k;
    std::vector<std::pair<std::string_view, double>> notes;
    while (k < tokens.size()) {
      const std::string_view label = tokens[k];
      const std::optional<double> v = k + 2 < tokens.size() && tokens[k + 1] == "=" ? parse_double(tokens[k + 2]) : std::nullopt;
      if (label == "=" || !v) {
        const std::string_view bad = k + 2 < tokens.size() && tokens[k + 1] == "=" ? tokens[k + 2] : label;
        malformed(lineno, "field '" + label_of(channel, name) + "': " +
                              (looks_numeric(bad) ? "'" + std::string(bad) + "' is not a number"
                                                  : "unexpected '" + std::string(bad) + "' after the value"));
        return false;
      }
      notes.emplace_back(label, *v);
      k += 3;
      if (unit_here()) ++k;
    }
    if (!add_single(channel, name, main, lineno)) return false;
    for (const auto& [label, v] : notes) {
      Record r;
      r.name_id = qualified_id(channel, label);
      r.form = ValueForm::numbers;
      r.first_value = static_cast<std::uint32_t>(t_.values_.size());
      r.first_loop = static_cast<std::uint32_t>(t_.loop_pool_.size());
      r.num_values = 1;
      t_.values_.push_back(v);
      push(r, lineno);
    }
    return true;
  }

  /// True when every whitespace token is key=number with a non-empty key;
  /// the keys and numbers are left in step_keys_ / tmp_values_.
  bool parse_key_numbers(std::string_view rest) {
    step_keys_.clear();
    tmp_values_.clear();
    bool ok = true;
    for_each_token(rest, [&](std::string_view tok) {
      const auto eq = tok.find('=');
      std::optional<double> v;
      if (eq != std::string_view::npos && eq > 0) v = parse_double(tok.substr(eq + 1));
      ok = v.has_value();
      if (ok) {
        step_keys_.push_back(tok.substr(0, eq));
        tmp_values_.push_back(*v);
      }
      return ok;
    });
    return ok;
  }

  std::uint32_t qualified_id(std::string_view channel, std::string_view name) {
    if (channel.empty()) return t_.names_.intern(name);
    if (name.empty()) return t_.names_.intern(channel);
    scratch_.assign(channel);
    scratch_ += '.';
    scratch_ += name;
    return t_.names_.intern(scratch_);
  }

  std::uint32_t next_occurrence(const Record& r) {
    if (r.loop_tuple == 0) {
      if (occurrences_by_name_.size() <= r.name_id) occurrences_by_name_.resize(r.name_id + 1, 0);
      return occurrences_by_name_[r.name_id]++;
    }
    return occurrences_by_tuple_[(static_cast<std::uint64_t>(r.name_id) << 32) | r.loop_tuple]++;
  }

  /// Id of the tuple of `num` coordinates just appended at `first`; a tuple
  /// seen before keeps its id and its coordinates are dropped from the pool.
  std::uint32_t intern_tuple(std::uint32_t first, std::uint16_t num) {
    if (num == 0) return 0;
    tuple_key_.clear();
    for (std::uint32_t i = first; i < first + num; ++i) {
      const LoopCoord& c = t_.loop_pool_[i];
      const double v = c.value == 0 ? 0.0 : c.value;  // -0 and +0 are one coordinate
      tuple_key_.append(reinterpret_cast<const char*>(&c.name_id), sizeof c.name_id);
      tuple_key_.append(reinterpret_cast<const char*>(&v), sizeof v);
    }
    const auto next = static_cast<std::uint32_t>(t_.loop_tuple_first_.size());
    auto [it, inserted] = tuple_ids_.try_emplace(tuple_key_, next);
    if (inserted) {
      t_.loop_tuple_first_.push_back(first);
      t_.loop_tuple_size_.push_back(num);
    } else {
      t_.loop_pool_.resize(first);
    }
    return it->second;
  }

  void push(Record r, std::uint32_t lineno) {
    r.line = lineno;
    r.occurrence = next_occurrence(r);
    t_.records_.push_back(r);
  }

  void add_marker(std::string_view channel, std::uint32_t lineno) {
    Record r;
    r.name_id = qualified_id(channel, {});
    r.form = ValueForm::marker;
    r.first_value = static_cast<std::uint32_t>(t_.values_.size());
    r.first_loop = static_cast<std::uint32_t>(t_.loop_pool_.size());
    push(r, lineno);
  }

  /// Records of a per-step line already split by parse_key_numbers.
  bool add_per_step(std::string_view channel, std::string_view /*rest*/, std::uint32_t lineno) {
    // Loop coordinates (keys ending in _tic) first, shared by the line's records.
    const auto first_loop = static_cast<std::uint32_t>(t_.loop_pool_.size());
    std::uint16_t num_loop = 0;
    for (std::size_t i = 0; i < step_keys_.size(); ++i) {
      if (!step_keys_[i].ends_with("_tic")) continue;
      t_.loop_pool_.push_back({t_.names_.intern(step_keys_[i]), tmp_values_[i]});
      ++num_loop;
    }
    const std::uint32_t tuple = intern_tuple(first_loop, num_loop);
    for (std::size_t i = 0; i < step_keys_.size(); ++i) {
      if (step_keys_[i].ends_with("_tic")) continue;
      Record r;
      r.name_id = qualified_id(channel, step_keys_[i]);
      r.first_value = static_cast<std::uint32_t>(t_.values_.size());
      r.num_values = 1;
      t_.values_.push_back(tmp_values_[i]);
      r.loop_tuple = tuple;
      r.first_loop = t_.loop_tuple_first_[tuple];
      r.num_loop = num_loop;
      push(r, lineno);
    }
    return true;
  }

  static std::string label_of(std::string_view channel, std::string_view name) {
    if (channel.empty()) return std::string(name);
    if (name.empty()) return std::string(channel);
    return std::string(channel) + "." + std::string(name);
  }

  bool add_single(std::string_view channel, std::string_view name, std::string_view value,
                  std::uint32_t lineno) {
    Record r;
    r.name_id = qualified_id(channel, name);
    r.first_value = static_cast<std::uint32_t>(t_.values_.size());
    r.first_loop = static_cast<std::uint32_t>(t_.loop_pool_.size());
    if (value.empty()) {
      malformed(lineno, "field '" + label_of(channel, name) + "' has no value");
      return false;
    }
    if (value.front() == '[') {
      if (value.back() != ']') {
        malformed(lineno, "field '" + label_of(channel, name) + "': unclosed '['");
        return false;
      }
      return add_bracketed(r, channel, name, value.substr(1, value.size() - 2), lineno);
    }
    // Numbers (the common case, one pass), else k:v pairs, else text.
    const std::size_t mark = t_.values_.size();
    std::string_view first_token;
    std::string_view bad;
    for_each_token(value, [&](std::string_view tok) {
      if (first_token.empty()) first_token = tok;
      if (auto v = parse_double(tok)) {
        t_.values_.push_back(*v);
        return true;
      }
      bad = tok;
      return false;
    });
    if (bad.empty()) {
      r.form = ValueForm::numbers;
      r.num_values = static_cast<std::uint32_t>(t_.values_.size() - mark);
      push(r, lineno);
      return true;
    }
    t_.values_.resize(mark);
    bool all_keyed = true;
    for_each_token(value, [&](std::string_view tok) {
      const auto colon = tok.find(':');
      all_keyed = colon != std::string_view::npos && colon > 0 && parse_double(tok.substr(colon + 1));
      return all_keyed;
    });
    if (all_keyed) {
      r.form = ValueForm::keyed;
      r.first_key = static_cast<std::uint32_t>(t_.keys_.size());
      for_each_token(value, [&](std::string_view tok) {
        const auto colon = tok.find(':');
        t_.keys_.push_back(tok.substr(0, colon));
        t_.values_.push_back(*parse_double(tok.substr(colon + 1)));
        return true;
      });
      r.num_values = static_cast<std::uint32_t>(t_.values_.size() - mark);
      push(r, lineno);
      return true;
    }
    if (looks_numeric(first_token) || looks_numeric(bad)) {
      // Written as numbers, but one token is not: a corrupt line, not text.
      malformed(lineno, "field '" + label_of(channel, name) + "': '" + std::string(bad) + "' is not a number");
      return false;
    }
    r.form = ValueForm::text;
    r.text = value;
    push(r, lineno);
    return true;
  }

  bool add_bracketed(Record& r, std::string_view channel, std::string_view name, std::string_view inner,
                     std::uint32_t lineno) {
    const auto label = [&] { return label_of(channel, name); };
    tmp_values_.clear();
    std::size_t rows = 0;
    std::size_t cols = 0;
    const bool is_matrix = inner.find(';') != std::string_view::npos;
    std::size_t start = 0;
    while (true) {
      const std::size_t semi = std::min(inner.find(';', start), inner.size());
      const std::string_view row = inner.substr(start, semi - start);
      std::size_t n = 0;
      std::string_view bad;
      for_each_token(
          row,
          [&](std::string_view tok) {
            auto v = parse_double(tok);
            if (!v) {
              bad = tok;
              return false;
            }
            tmp_values_.push_back(*v);
            ++n;
            return true;
          },
          true);
      if (!bad.empty()) {
        malformed(lineno, "field '" + label() + "': '" + std::string(bad) + "' is not a number");
        return false;
      }
      if (rows == 0) {
        cols = n;
      } else if (n != cols) {
        malformed(lineno, "field '" + label() + "': matrix row " + std::to_string(rows + 1) + " has " +
                              std::to_string(n) + " values, row 1 has " + std::to_string(cols));
        return false;
      }
      ++rows;
      if (semi >= inner.size()) break;
      start = semi + 1;
    }
    if (tmp_values_.empty()) {
      malformed(lineno, "field '" + label() + "': empty brackets");
      return false;
    }
    r.form = is_matrix ? ValueForm::matrix : ValueForm::numbers;
    r.rows = is_matrix ? static_cast<std::uint16_t>(rows) : 0;
    r.num_values = static_cast<std::uint32_t>(tmp_values_.size());
    t_.values_.insert(t_.values_.end(), tmp_values_.begin(), tmp_values_.end());
    push(r, lineno);
    return true;
  }
};

void Trace::parse_into(Trace& t, const ParseOptions& options) {
  const std::string_view text = t.buffer_->view;
  // A log saved as UTF-16 or UTF-32 reads as noise byte by byte: refuse it
  // rather than report "no trace lines".
  if (text.starts_with("\xFF\xFE") || text.starts_with("\xFE\xFF") || text.starts_with(std::string_view("\0\0\xFE\xFF", 4)))
    throw InputError(t.path_ + ": the file is UTF-16 or UTF-32 text (it starts with that byte-order mark); "
                     "convert it to UTF-8, e.g. iconv -f UTF-16 -t UTF-8");
  t.tag_ = options.tag.empty() ? detect_tag(text) : options.tag;
  // No TRACE_ line and NUL bytes: binary data, or UTF-16/32 without a mark.
  if (t.tag_.empty() && text.find('\0') != std::string_view::npos)
    throw InputError(t.path_ + ": the file holds NUL bytes: not a text trace log (binary data, or UTF-16/32 text "
                     "without a byte-order mark; convert it with iconv -t UTF-8)");
  if (!t.tag_.empty()) {
    t.records_.reserve(text.size() / 64);
    t.values_.reserve(text.size() / 20);
    TraceParser(t).run();
  } else {
    // No TRACE_<tag> line at all: count the lines for the report.
    t.stats_.lines = static_cast<std::uint64_t>(std::count(text.begin(), text.end(), '\n')) +
                     ((!text.empty() && text.back() != '\n') ? 1 : 0);
    t.stats_.skipped_lines = t.stats_.lines;
  }
}

Trace parse_trace(std::string text, std::string display_path, const ParseOptions& options) {
  Trace t;
  t.path_ = std::move(display_path);
  auto buf = std::make_unique<Trace::Text>();
  buf->owned = std::move(text);
  buf->view = buf->owned;
  t.buffer_ = std::move(buf);
  Trace::parse_into(t, options);
  return t;
}

Trace load_trace(const std::string& path, const ParseOptions& options) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) throw InputError(path + ": is a folder, not a trace log");
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(path + ": cannot open trace log: " + std::strerror(errno));
  in.seekg(0, std::ios::end);
  const auto size = in.tellg();
  if (size < 0) throw InputError(path + ": cannot read trace log");
  auto buf = std::make_unique<Trace::Text>();
  buf->mapped.resize(static_cast<std::size_t>(size));
  in.seekg(0, std::ios::beg);
  if (!in.read(buf->mapped.data(), size)) throw InputError(path + ": cannot read trace log: " + std::strerror(errno));
  buf->view = std::string_view(buf->mapped.data(), buf->mapped.size());
  Trace t;
  t.path_ = path;
  t.buffer_ = std::move(buf);
  Trace::parse_into(t, options);
  return t;
}

void require_well_formed(const Trace& trace) {
  if (trace.tag().empty()) throw InputError(trace.path() + ": no TRACE_<tag> lines found");
  if (trace.diagnostics().empty()) return;
  const Diagnostic& d = trace.diagnostics().front();
  std::string msg = trace.path() + ":" + std::to_string(d.line) + ": " + d.reason;
  if (trace.diagnostics().size() > 1) {
    msg += " (and " + std::to_string(trace.diagnostics().size() - 1) + " more malformed lines)";
  }
  throw InputError(msg);
}

Trace load_trace_checked(const std::string& path, const std::string& tag, bool allow_malformed, std::ostream& warnings) {
  Trace t = load_trace(path, ParseOptions{tag});
  if (t.tag().empty()) throw InputError(path + ": no TRACE_<tag> lines found");
  if (!t.diagnostics().empty()) {
    if (!allow_malformed) require_well_formed(t);
    for (const Diagnostic& d : t.diagnostics()) {
      warnings << "warning: " << path << ":" << d.line << ": " << d.reason << " (line skipped)\n";
    }
  }
  return t;
}

}  // namespace nbtrace
