// compare_scaling_traces: the nine-factor comparison written beside --out.
#include "compare_scaling.hpp"

#include <chrono>
#include <ctime>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <ostream>

#include "nbtrace/base/error.hpp"
#include "nbtrace/base/files.hpp"
#include "nbtrace/base/paths.hpp"
#include "nbtrace/base/shell.hpp"
#include "nbtrace/base/version.hpp"
#include "nbtrace/trace/scaling.hpp"

using namespace nbtrace;
namespace fs = std::filesystem;

namespace {

/// Local time as ISO 8601 with the offset, e.g. 2025-10-08T21:24:59+02:00 (the peer's format).
std::string local_iso8601_now() {
  const auto now = std::chrono::system_clock::now();
  const std::time_t t = std::chrono::system_clock::to_time_t(now);
  std::tm tm{};
  localtime_r(&t, &tm);
  char buf[64];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S%z", &tm);
  std::string s(buf);
  // +0200 → +02:00 (ISO 8601 extended form)
  if (s.size() > 4) s.insert(s.size() - 2, ":");
  return s;
}

}  // namespace

int run_compare_scaling(const CompareScalingOptions& opt, std::ostream& out, std::ostream& err) {
  if (!(opt.tolerance_rel >= 0)) throw UsageError("--tolerance must be a non-negative number");
  const Trace c_trace = load_trace_checked(opt.c_trace, "", opt.allow_malformed, err);
  const Trace test_trace = load_trace_checked(opt.test_trace, "", opt.allow_malformed, err);
  AliasTable aliases = AliasTable::builtin();
  for (const std::string& a : opt.aliases) aliases.add_spec(a);

  ScalingComparison cmp = compare_scaling(c_trace, test_trace, opt.tolerance_rel, aliases, opt.test_label);
  std::string pixel_source = cmp.pixel ? "trace" : "";
  if (opt.pixel) {
    if (cmp.pixel && (cmp.pixel->slow != opt.pixel->slow || cmp.pixel->fast != opt.pixel->fast)) {
      err << "warning: --pixel " << opt.pixel->slow << " " << opt.pixel->fast << " differs from the traced pixel ("
          << cmp.pixel->slow << ", " << cmp.pixel->fast << "); reporting --pixel\n";
    }
    cmp.pixel = opt.pixel;
    pixel_source = "--pixel";
  }

  const fs::path summary_path(opt.out_summary);
  const fs::path out_dir = summary_path.parent_path();
  const fs::path metrics_path = out_dir / "metrics.json";
  const fs::path metadata_path = out_dir / "run_metadata.json";

  nlohmann::ordered_json meta;
  meta["timestamp"] = local_iso8601_now();
  meta["tool"] = "compare_scaling_traces";
  meta["tool_version"] = std::string(version());
  meta["git_sha"] = std::string(build_git_sha());
  meta["command"] = shell_join(opt.argv);
  meta["c_trace"] = relative_path(opt.c_trace, out_dir);
  meta["py_trace"] = relative_path(opt.test_trace, out_dir);
  meta["test_label"] = opt.test_label;
  meta["tolerance_rel"] = opt.tolerance_rel;
  meta["pixel"] = cmp.pixel ? nlohmann::ordered_json::array({cmp.pixel->slow, cmp.pixel->fast})
                            : nlohmann::ordered_json(nullptr);
  meta["pixel_source"] = pixel_source.empty() ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(pixel_source);
  meta["outputs"] = {summary_path.filename().string(), "metrics.json"};
  if (!opt.bundle_id.empty()) meta["bundle_id"] = opt.bundle_id;

  AtomicFileSet files;
  files.add(summary_path, scaling_summary_markdown(cmp, relative_path(opt.c_trace, out_dir),
                                                   relative_path(opt.test_trace, out_dir)));
  files.add(metrics_path, scaling_metrics_json(cmp));
  files.add(metadata_path, meta.dump(2) + "\n");
  files.commit();

  out << "Comparison written to " << summary_path.string() << "\n";
  out << "Metrics written to " << metrics_path.string() << "\n";
  out << "Metadata written to " << metadata_path.string() << "\n";
  out << "First divergence: " << (cmp.first_divergence ? cmp.factors[*cmp.first_divergence].name : "None") << "\n";
  out << "Divergent factors: " << cmp.num_divergent << "\n";

  if (opt.fail_on_divergence) {
    for (const ScalingFactor& f : cmp.factors) {
      if (!f.passes) return exit_code::divergence;
    }
  }
  return exit_code::ok;
}
