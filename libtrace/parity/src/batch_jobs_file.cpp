// Reading and checking a batch jobs file (JSON lines) before any work starts.
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "nbtrace/base/error.hpp"
#include "nbtrace/base/files.hpp"
#include "nbtrace/parity/batch.hpp"

namespace nbtrace {

namespace {

using json = nlohmann::json;

/// Letters, digits, '.', '_', '-', and not "." or "..": the id names a folder.
bool safe_id(const std::string& id) {
  const bool chars = !id.empty() && id.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-") ==
                                        std::string::npos;
  return chars && id != "." && id != "..";
}

BatchParity parse_parity(const json& j, const std::string& where) {
  if (!j.is_object()) throw InputError(where + "\"parity\" must be an object");
  BatchParity p;
  json thresholds = json::object();
  for (const auto& [key, v] : j.items()) {
    if (key == "ref_bin") {
      if (!v.is_string() || v.get<std::string>().empty()) throw InputError(where + "parity: ref_bin must be a path");
      p.ref_bin = v.get<std::string>();
    } else if (key == "pixels") {
      const std::string bad = where + "parity: pixels must be a list of [slow, fast] pairs of whole numbers >= 0";
      if (!v.is_array()) throw InputError(bad);
      for (const auto& px : v) {
        if (!px.is_array() || px.size() != 2 || !px[0].is_number_integer() || !px[1].is_number_integer() ||
            px[0].get<long long>() < 0 || px[1].get<long long>() < 0 || px[0].get<long long>() > 1 << 30 ||
            px[1].get<long long>() > 1 << 30)
          throw InputError(bad);
        p.pixels.push_back({px[0].get<int>(), px[1].get<int>()});
      }
    } else if (key == "auto_pixels") {
      if (!v.is_number_integer() || v.get<long long>() < 0 || v.get<long long>() > 1000)
        throw InputError(where + "parity: auto_pixels must be a whole number 0..1000");
      p.auto_pixels = v.get<std::size_t>();
    } else {
      thresholds[key] = v;
    }
  }
  read_case_thresholds(thresholds, p.thresholds, where + "parity", {});
  return p;
}

}  // namespace

std::vector<BatchJob> load_batch_jobs(const std::string& path) {
  const std::string text = read_text_file(path);
  std::vector<BatchJob> jobs;
  std::set<std::string> ids;
  std::istringstream in(text);
  std::size_t lineno = 0;
  for (std::string line; std::getline(in, line);) {
    ++lineno;
    const auto first = line.find_first_not_of(" \t\r");
    if (first == std::string::npos || line[first] == '#') continue;
    const std::string where = path + ":" + std::to_string(lineno) + ": ";
    json j;
    try {
      j = json::parse(line);
    } catch (const json::parse_error& e) {
      throw InputError(where + "not a JSON object (" + std::string(e.what()) + ")");
    }
    if (!j.is_object()) throw InputError(where + "not a JSON object");
    if (!j.contains("id") || !j["id"].is_string()) throw InputError(where + "needs a string \"id\"");
    const std::string id = j["id"].get<std::string>();
    if (!safe_id(id)) {
      throw InputError(where + "id '" + id + "' must be letters, digits, '.', '_' or '-' (it names a folder)");
    }
    if (!ids.insert(id).second) throw InputError(where + "id '" + id + "' appears twice");
    if (!j.contains("args") || !j["args"].is_array()) throw InputError(where + "needs an \"args\" list of strings");
    BatchJob job;
    job.id = id;
    job.line = lineno;
    for (const auto& a : j["args"]) {
      if (!a.is_string()) throw InputError(where + "\"args\" must hold strings only");
      job.args.push_back(a.get<std::string>());
    }
    for (const auto& [k, v] : j.items()) {
      if (k == "parity") job.parity = parse_parity(v, where);
      else if (k != "id" && k != "args") throw InputError(where + "unknown key '" + k + "'");
    }
    jobs.push_back(std::move(job));
  }
  if (jobs.empty()) throw InputError(path + ": no jobs");
  return jobs;
}

}  // namespace nbtrace
