// nbtrace: trace diff and inspection. Subcommands: diff, show, attribute.
#include <CLI/CLI.hpp>
#include <iostream>

#include "commands.hpp"
#include "nbtrace/base/tool_main.hpp"
#include "nbtrace/base/cli_flags.hpp"

int main(int argc, char** argv) {
  CLI::App app{"nbtrace: parse and compare nanoBragg trace logs (TRACE_C, TRACE_PY, TRACE_CPP, ...).\n"
               "Exit codes: 0 agreement, 1 usage, 3 divergence, 4 too little compared (NOT COMPARED), 5 input error.",
               "nbtrace"};
  app.require_subcommand(1);
  nbtrace::add_version_flag(app, "nbtrace");
  auto run_diff = setup_diff(app);
  auto run_show = setup_show(app);
  auto run_attribute = setup_attribute(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return nbtrace::cli_parse_exit(app, e);
  }
  return nbtrace::guarded_main("nbtrace", [&] {
    if (app.got_subcommand("diff")) return run_diff();
    if (app.got_subcommand("attribute")) return run_attribute();
    return run_show();
  });
}
