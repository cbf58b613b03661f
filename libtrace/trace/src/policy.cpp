#include "nbtrace/trace/policy.hpp"

#include <fnmatch.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "nbtrace/base/error.hpp"

namespace nbtrace {

bool glob_match(std::string_view pattern, std::string_view name) {
  if (pattern == "*") return true;
  const std::string p(pattern);
  const std::string n(name);
  return ::fnmatch(p.c_str(), n.c_str(), 0) == 0;
}

std::pair<double, double> TolerancePolicy::tolerance_for(std::string_view name) const {
  double r = rel;
  double a = abs_floor;
  for (const auto& [glob, tol] : overrides) {
    if (!glob_match(glob, name)) continue;
    if (tol.rel) r = *tol.rel;
    if (tol.abs) a = *tol.abs;
  }
  return {r, a};
}

AliasTable AliasTable::builtin() {
  AliasTable t;
  // The PyTorch port prints the intensity sum before polarization under this
  // name; nanoBragg.c's I_before_scaling is that same quantity.
  t.add("I_before_scaling_pre_polar", "I_before_scaling", false);
  // The port prints both lookups; nanoBragg.c's F_cell is the nearest-
  // neighbour value whenever interpolation is off (-nointerpolate, N > 2).
  t.add("F_cell_nearest", "F_cell", false);
  return t;
}

void AliasTable::add(std::string from, std::string to, bool replace_same_target) {
  if (replace_same_target) {
    std::erase_if(entries_, [&](const auto& e) { return e.second == to || e.first == from; });
  } else {
    std::erase_if(entries_, [&](const auto& e) { return e.first == from; });
  }
  entries_.emplace_back(std::move(from), std::move(to));
}

void AliasTable::add_spec(std::string_view spec) {
  const auto eq = spec.find('=');
  if (eq == std::string_view::npos || eq == 0 || eq + 1 == spec.size()) {
    throw UsageError("alias '" + std::string(spec) + "' is not of the form name=reference_name");
  }
  add(std::string(spec.substr(0, eq)), std::string(spec.substr(eq + 1)));
}

std::string_view AliasTable::resolve(std::string_view name) const {
  for (const auto& [from, to] : entries_) {
    if (from == name) return to;
  }
  return name;
}

namespace {

double number_at(const nlohmann::ordered_json& j, const std::string& where, const std::string& origin) {
  if (!j.is_number()) throw InputError(origin + ": " + where + " must be a number");
  const double v = j.get<double>();
  if (!(v >= 0)) throw InputError(origin + ": " + where + " must be a non-negative number");
  return v;
}

}  // namespace

PolicyFile parse_policy(std::string_view json_text, const std::string& origin) {
  nlohmann::ordered_json j;
  try {
    j = nlohmann::ordered_json::parse(json_text);
  } catch (const nlohmann::ordered_json::parse_error& e) {
    throw InputError(origin + ": not valid JSON: " + e.what());
  }
  if (!j.is_object()) throw InputError(origin + ": the policy must be a JSON object");
  PolicyFile p;
  for (const auto& [key, value] : j.items()) {
    if (key == "tolerance_rel") {
      p.tolerance_rel = number_at(value, key, origin);
    } else if (key == "abs_floor") {
      p.abs_floor = number_at(value, key, origin);
    } else if (key == "min_compared_fields") {
      // 0 would let a diff with nothing in common pass: never agreement.
      if (!value.is_number_unsigned() || value.get<std::size_t>() == 0)
        throw InputError(origin + ": min_compared_fields must be a whole number >= 1");
      p.min_compared_fields = value.get<std::size_t>();
    } else if (key == "non_finite") {
      if (value == "divergent") p.non_finite_equal = false;
      else if (value == "equal_passes") p.non_finite_equal = true;
      else throw InputError(origin + ": non_finite must be \"divergent\" (the default) or \"equal_passes\"");
    } else if (key == "fields") {
      if (!value.is_object()) throw InputError(origin + ": 'fields' must map globs to {\"rel\", \"abs\"}");
      for (const auto& [glob, tol] : value.items()) {
        FieldTolerance ft;
        if (tol.is_number()) {
          ft.rel = number_at(tol, "fields." + glob, origin);
        } else if (tol.is_object()) {
          for (const auto& [k, v] : tol.items()) {
            if (k == "rel") ft.rel = number_at(v, "fields." + glob + ".rel", origin);
            else if (k == "abs") ft.abs = number_at(v, "fields." + glob + ".abs", origin);
            else throw InputError(origin + ": fields." + glob + ": unknown key '" + k + "' (use rel, abs)");
          }
        } else {
          throw InputError(origin + ": fields." + glob + " must be a number or {\"rel\", \"abs\"}");
        }
        p.overrides.emplace_back(glob, ft);
      }
    } else if (key == "waivers") {
      if (!value.is_array()) throw InputError(origin + ": 'waivers' must be an array");
      for (const auto& w : value) {
        if (!w.is_object() || !w.contains("id") || !w["id"].is_string() || !w.contains("fields")) {
          throw InputError(origin + ": each waiver needs a string 'id' and 'fields'");
        }
        Waiver wv;
        wv.id = w["id"].get<std::string>();
        const auto& f = w["fields"];
        if (f.is_string()) {
          wv.fields.push_back(f.get<std::string>());
        } else if (f.is_array()) {
          for (const auto& g : f) {
            if (!g.is_string()) throw InputError(origin + ": waiver " + wv.id + ": fields must be strings");
            wv.fields.push_back(g.get<std::string>());
          }
        } else {
          throw InputError(origin + ": waiver " + wv.id + ": 'fields' must be a glob or a list of globs");
        }
        if (w.contains("loop")) {
          if (!w["loop"].is_object()) throw InputError(origin + ": waiver " + wv.id + ": 'loop' must be an object");
          for (const auto& [k, v] : w["loop"].items()) {
            if (!v.is_number()) throw InputError(origin + ": waiver " + wv.id + ": loop." + k + " must be a number");
            wv.loop.emplace_back(k, v.get<double>());
          }
        }
        if (w.contains("reason")) {
          if (!w["reason"].is_string()) throw InputError(origin + ": waiver " + wv.id + ": reason must be text");
          wv.reason = w["reason"].get<std::string>();
        }
        p.waivers.push_back(std::move(wv));
      }
    } else if (key == "aliases") {
      if (!value.is_object()) throw InputError(origin + ": 'aliases' must map names to reference names");
      for (const auto& [from, to] : value.items()) {
        if (!to.is_string()) throw InputError(origin + ": aliases." + from + " must be a name");
        p.aliases.emplace_back(from, to.get<std::string>());
      }
    } else {
      throw InputError(origin + ": unknown key '" + key +
                       "' (expected tolerance_rel, abs_floor, min_compared_fields, non_finite, fields, waivers, aliases)");
    }
  }
  return p;
}

PolicyFile load_policy_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(path + ": cannot open tolerance file");
  std::ostringstream ss;
  ss << in.rdbuf();
  return parse_policy(ss.str(), path);
}

}  // namespace nbtrace
