#pragma once
// Flags every CLI11 tool declares the same way: --version (the one version
// line) and --progress / --no-progress / --quiet. Templated on the app so
// this header needs no CLI11 (nbsim, with nanoBragg's single-dash command
// line, maps its -progress / -noprogress / -version itself).
#include <string>
#include <string_view>

#include "nbtrace/base/progress.hpp"
#include "nbtrace/base/version.hpp"

namespace nbtrace {

/// The progress flags as given; request() is what they ask for.
struct ProgressFlags {
  bool progress = false;     ///< --progress
  bool no_progress = false;  ///< --no-progress
  bool quiet = false;        ///< --quiet: no progress and no per-item lines
  ProgressRequest request() const noexcept {
    if (no_progress || quiet) return ProgressRequest::off;
    return progress ? ProgressRequest::on : ProgressRequest::automatic;
  }
};

/// --version prints version_line(tool) on stdout and exits 0.
template <typename App>
void add_version_flag(App& app, std::string_view tool) {
  app.set_version_flag("--version", version_line(tool), "print the version line (tool, nbparity version, git sha) and exit");
}

/// --progress and --no-progress on `app` (a CLI::App or subcommand), and
/// --quiet when `quiet_help` says what else it silences; `units` names what
/// is counted ("rows", "jobs", "bytes hashed").
template <typename App>
void add_progress_flags(App& app, ProgressFlags& flags, std::string_view units, std::string_view quiet_help = {}) {
  auto* on = app.add_flag("--progress", flags.progress,
                          "progress on stderr in " + std::string(units) +
                              ": a live bar on a terminal, else a line every 2 s ($NB_PROGRESS_INTERVAL seconds) with done/total, rate and time left");
  auto* off = app.add_flag("--no-progress", flags.no_progress, "no progress meter (default when stderr is not a terminal)");
  on->excludes(off);
  if (!quiet_help.empty()) app.add_flag("--quiet", flags.quiet, std::string(quiet_help))->excludes(on);
}

}  // namespace nbtrace
