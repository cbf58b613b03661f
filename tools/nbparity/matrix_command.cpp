// nbparity matrix: the cases through the parity engine (library), then the
// table on stdout and the --json/--md files (here).
#include <fmt/format.h>

#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>

#include "commands.hpp"
#include "nbtrace/base/files.hpp"
#include "nbtrace/parity/matrix.hpp"

namespace {

struct MatrixCommandOptions {
  nbtrace::MatrixOptions matrix;
  std::string json_out;
  std::string md_out;
};

std::string table_row(const nbtrace::CaseResult& r) {
  std::string why = r.error;
  if (why.empty()) {
    for (const std::string& f : r.failed_checks) why += (why.empty() ? "" : ", ") + f;
    if (!r.first_divergence.empty()) why += " (" + r.first_divergence + ")";
  }
  const auto nine = [](const std::optional<double>& v) { return v ? fmt::format("{:.9f}", *v) : std::string("—"); };
  return fmt::format("| {} | {} | {} | {} | {:.2e} | {:.2f} | {}/{} | {} |\n", r.id, r.pass ? "PASS" : "FAIL",
                     nine(r.correlation), nine(r.sum_ratio), r.max_abs_diff_rel, r.peaks_matched,
                     r.traces - r.traces_divergent, r.traces, why);
}

int run_matrix_command(const MatrixCommandOptions& o) {
  const nbtrace::MatrixRun run = nbtrace::run_matrix(
      o.matrix, [](const nbtrace::CaseResult& r, const nbtrace::WorkerSlot& where, int ranks) {
        std::cerr << fmt::format("[{}] {} ({:.1f} s{})\n", r.pass ? "pass" : "FAIL", r.id, r.seconds,
                                 ranks > 1 ? fmt::format(", rank {}", where.rank) : "");
      });
  if (!run.root) return run.exit_code;
  std::size_t failed = 0;
  std::string table = "| case | verdict | correlation | sum ratio | max rel Δ | peaks | traces | first divergence / failure |\n";
  table += "|---|---|---|---|---|---|---|---|\n";
  for (const nbtrace::CaseResult& r : run.cases) {
    if (!r.pass) ++failed;
    table += table_row(r);
  }
  std::cout << table << "\n" << (run.cases.size() - failed) << " passed, " << failed << " failed\n";
  nbtrace::AtomicFileSet files;
  if (!o.json_out.empty()) {
    nlohmann::json doc;
    doc["cases_file"] = o.matrix.cases_file;
    doc["mode"] = o.matrix.ref_bin.empty() ? "golden" : "reference program";
    doc["distribution"] = run.distribution;
    doc["cases"] = run.cases;
    doc["passed"] = run.cases.size() - failed;
    doc["failed"] = failed;
    files.add(o.json_out, doc.dump(2) + "\n");
  }
  if (!o.md_out.empty()) files.add(o.md_out, "# Parity matrix\n\n" + table);
  files.commit();
  return run.exit_code;
}

}  // namespace

std::function<int()> setup_matrix(CLI::App& app) {
  auto o = std::make_shared<MatrixCommandOptions>();
  nbtrace::MatrixOptions& opt = o->matrix;
  CLI::App* cmd = app.add_subcommand(
      "matrix",
      "Run many parity cases with per-case thresholds (correlation, sum ratio, max |diff|, peaks, trace tolerance, "
      "waivers) and print a table; exit 3 if any case fails. Without --ref-bin each case compares nbsim against its "
      "stored golden outputs (case.json, image.bin, c_trace_*.log).");
  cmd->add_option("CASES", opt.cases_file, "cases file, JSON or YAML (see docs/parity.md)")->required();
  cmd->add_option("--jobs", opt.jobs, "cases run at once by local workers (without MPI)")->default_val(1);
  cmd->add_flag("--mpi", opt.mpi,
                "spread the cases over MPI ranks, rank 0 handing them out (run under mpirun/srun; the default there)");
  cmd->add_option("--test", opt.test_bin, "program under test (default: nbsim beside this tool)");
  cmd->add_option("--ref-bin", opt.ref_bin, "run this reference program instead of using the golden outputs");
  cmd->add_option("--case", opt.only, "run only these case ids (repeatable)");
  cmd->add_option("--json", o->json_out, "write the results as JSON");
  cmd->add_option("--md", o->md_out, "write the table as Markdown");
  return [o] { return run_matrix_command(*o); };
}
