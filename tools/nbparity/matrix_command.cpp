// nbparity matrix: the checks through the parity engine (library), then the
// table on stdout and the --json/--md/--out files (here).
#include <fmt/format.h>

#include <filesystem>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <unistd.h>

#include "commands.hpp"
#include "nbtrace/base/cli_flags.hpp"
#include "nbtrace/base/files.hpp"
#include "nbtrace/base/shell.hpp"
#include "nbtrace/parity/matrix.hpp"
#include "nbtrace/report/report.hpp"

namespace {

struct MatrixCommandOptions {
  nbtrace::MatrixOptions matrix;
  std::string json_out;
  std::string md_out;
  nbtrace::ProgressFlags progress;
};

/// The failed checks and the first divergence, or the error.
std::string why(const nbtrace::CaseResult& r) {
  std::string out = r.error;
  if (out.empty()) {
    for (const std::string& f : r.failed_checks) out += (out.empty() ? "" : ", ") + f;
    if (!r.first_divergence.empty()) out += " (" + r.first_divergence + ")";
  }
  return out;
}

std::string nine(const std::optional<double>& v) { return v ? fmt::format("{:.9f}", *v) : std::string("—"); }

std::string table(const nbtrace::MatrixRun& run) {
  std::string t;
  if (run.schema == nbtrace::SuiteSchema::port) {
    t = "| case | run | verdict | correlation | sum ratio | max abs Δ | rmse | failed checks / failure |\n"
        "|---|---|---|---|---|---|---|---|\n";
    for (const nbtrace::CaseResult& r : run.cases) {
      const bool images = r.metrics.has_value();
      t += fmt::format("| {} | {} | {} | {} | {} | {} | {} | {} |\n", r.id, r.run, r.verdict, nine(r.correlation),
                       nine(r.sum_ratio), images ? fmt::format("{:.6g}", r.max_abs_diff) : "—",
                       images ? fmt::format("{:.6g}", r.metrics->rmse) : "—", why(r));
    }
    return t;
  }
  t = "| case | verdict | correlation | sum ratio | max rel Δ | peaks | traces | first divergence / failure |\n"
      "|---|---|---|---|---|---|---|---|\n";
  for (const nbtrace::CaseResult& r : run.cases) {
    t += fmt::format("| {} | {} | {} | {} | {:.2e} | {:.2f} | {}/{} | {} |\n", r.id, r.verdict, nine(r.correlation),
                     nine(r.sum_ratio), r.max_abs_diff_rel, r.peaks_matched, r.traces - r.traces_divergent, r.traces,
                     why(r));
  }
  return t;
}

int run_matrix_command(const MatrixCommandOptions& o) {
  nbtrace::ProgressOptions meter_options;
  meter_options.label = "nbparity matrix";
  meter_options.unit = "checks";
  nbtrace::ProgressMeter meter(nbtrace::progress_settings(o.progress.request(), isatty(STDERR_FILENO) != 0),
                               std::cerr, meter_options);
  const nbtrace::MatrixRun run = nbtrace::run_matrix(
      o.matrix,
      [&](const nbtrace::CaseResult& r, const nbtrace::WorkerSlot& where, int ranks) {
        meter.advance();
        // A failed check is named even with --quiet: it is why the exit code is not 0.
        if (!o.progress.quiet || !r.pass)
          meter.note(fmt::format("[{}] {} ({:.1f} s{}){}", r.verdict, r.label(), r.seconds,
                                 ranks > 1 ? fmt::format(", rank {}", where.rank) : "", r.pass ? "" : ": " + why(r)));
      },
      [&](std::size_t checks) { meter.start(checks); });
  meter.finish();
  if (!run.root) return run.exit_code;
  std::size_t failed = 0;
  for (const nbtrace::CaseResult& r : run.cases) failed += r.pass ? 0 : 1;
  const std::string t = table(run);
  std::cout << t << "\n" << (run.cases.size() - failed) << " passed, " << failed << " failed\n";

  nlohmann::json doc;
  doc["cases_file"] = o.matrix.cases_file;
  doc["schema"] = std::string(nbtrace::schema_name(run.schema));
  doc["mode"] = run.programs.ref.empty() ? "golden" : "reference program";
  doc["ref"] = run.programs.ref.empty() ? nlohmann::json(nullptr) : nlohmann::json(nbtrace::shell_join(run.programs.ref));
  doc["test"] = nbtrace::shell_join(run.programs.test);
  doc["distribution"] = run.distribution;
  doc["cases"] = run.cases;
  doc["passed"] = run.cases.size() - failed;
  doc["failed"] = failed;
  doc["exit_code"] = run.exit_code;
  const std::string md = "# Parity matrix\n\n" + t;
  nbtrace::AtomicFileSet files;
  if (!o.json_out.empty()) files.add(o.json_out, doc.dump(2) + "\n");
  if (!o.md_out.empty()) files.add(o.md_out, md);
  if (!o.matrix.out_dir.empty()) {
    files.add(std::filesystem::path(o.matrix.out_dir) / "matrix.json", doc.dump(2) + "\n");
    files.add(std::filesystem::path(o.matrix.out_dir) / "matrix.md", md);
    files.add(std::filesystem::path(o.matrix.out_dir) / nbtrace::report::kReportName,
              nbtrace::report::render_matrix_report(run, o.matrix.cases_file, o.matrix.out_dir));
  }
  files.commit();
  return run.exit_code;
}

}  // namespace

std::function<int()> setup_matrix(CLI::App& app) {
  auto o = std::make_shared<MatrixCommandOptions>();
  nbtrace::MatrixOptions& opt = o->matrix;
  CLI::App* cmd = app.add_subcommand(
      "matrix",
      "Run a suite of parity checks with thresholds of their own and print a table; exit 0 when all pass, else 1 "
      "(an error of ours), 5 (input), 2 (a program failed), 4 (a check could not be made), 3 (divergence), the first "
      "that applies. Two schemas (docs/parity.md): the project's (golden_root/defaults/cases: without --ref-bin each "
      "case compares nbsim against its stored golden outputs) and the PyTorch port's parity_cases.yaml "
      "(cases[].base_args/thresholds/runs[].extra_args: each run is one check of --ref-bin or $NB_C_BIN against "
      "--test-bin or $NB_PY_BIN, default nbsim).");
  cmd->add_option("SUITE", opt.cases_file, "suite file, JSON or YAML, either schema (see docs/parity.md)")->required();
  cmd->add_option("--jobs", opt.jobs, "checks run at once by local workers (without MPI)")->default_val(1);
  cmd->add_flag("--mpi", opt.mpi,
                "spread the checks over MPI ranks, rank 0 handing them out (run under mpirun/srun; the default there)");
  cmd->add_option("--test-bin,--test", opt.test_bin,
                  "program under test as a command line, e.g. \"python -m nanobrag_torch\" (split as sh would; "
                  "\"nbsim\" is the one beside this tool; default: $NB_PY_BIN for the port's schema, else nbsim)");
  cmd->add_option("--ref-bin", opt.ref_bin,
                  "reference program as a command line, run instead of the golden outputs (the port's schema: "
                  "required, or $NB_C_BIN)");
  cmd->add_option("--case", opt.only, "run only these checks: a case id or ID/RUN (repeatable)");
  cmd->add_option("--json", o->json_out, "write every check's verdict, exit code, failed checks and metrics as JSON");
  cmd->add_option("--md", o->md_out, "write the table as Markdown");
  cmd->add_option("--out", opt.out_dir,
                  "write matrix.json, matrix.md and, for the port's schema, <case>/<run>_metrics.json and "
                  "<case>/<run>_diff.png per check here");
  nbtrace::add_progress_flags(*cmd, o->progress, "checks",
                              "no progress meter and no line per passing check on stderr (failures, the table "
                              "and errors as usual)");
  return [o] { return run_matrix_command(*o); };
}
