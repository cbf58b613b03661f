#pragma once
// nbparity subcommands: each file binds an options struct to a CLI11
// subcommand and calls one library function.
#include <CLI/CLI.hpp>
#include <functional>
#include <string>
#include <vector>

/// `forwarded` holds the arguments after "--" (the simulator's).
std::function<int()> setup_run(CLI::App& app, const std::vector<std::string>& forwarded,
                               const std::vector<std::string>& argv);
std::function<int()> setup_matrix(CLI::App& app);
std::function<int()> setup_demo(CLI::App& app);
std::function<int()> setup_batch(CLI::App& app, const std::vector<std::string>& argv);
std::function<int()> setup_report(CLI::App& app);
std::function<int()> setup_explain(CLI::App& app, const std::vector<std::string>& forwarded,
                                   const std::vector<std::string>& argv);

namespace nbtrace::report {
struct ReportWritten;
}
/// "report: DIR/report.html (N bytes; ...)": what run and report print.
std::string report_line(const std::string& dir, const nbtrace::report::ReportWritten& r);
