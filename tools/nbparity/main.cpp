// nbparity: parity runs of two nanoBragg implementations.
#include <CLI/CLI.hpp>
#include <iostream>

#include "commands.hpp"
#include "nbtrace/base/tool_main.hpp"
#include "nbtrace/base/cli_flags.hpp"

int main(int argc, char** argv) {
  // Everything after the first "--" goes to the simulators unchanged.
  const auto [front, forwarded] = nbtrace::split_at_double_dash(argc, argv);
  std::vector<std::string> recorded{"nbparity"};
  recorded.insert(recorded.end(), argv + 1, argv + argc);

  CLI::App app{"nbparity: parity runs of two nanoBragg implementations, kept as evidence bundles.\n"
               "Exit codes: 0 parity, 1 usage, 2 a program failed, 3 divergence, 4 no verdict possible (image shapes differ, a NaN or inf pixel, or too little compared), 5 input error.",
               "nbparity"};
  app.require_subcommand(1);
  nbtrace::add_version_flag(app, "nbparity");
  auto run = setup_run(app, forwarded, recorded);
  auto matrix = setup_matrix(app);
  auto demo = setup_demo(app);
  auto batch = setup_batch(app, recorded);
  auto report = setup_report(app);
  auto explain = setup_explain(app, forwarded, recorded);
  std::vector<std::string> reversed(front.rbegin(), front.rend());
  try {
    app.parse(reversed);
  } catch (const CLI::ParseError& e) {
    return nbtrace::cli_parse_exit(app, e);
  }
  return nbtrace::guarded_main("nbparity", [&] {
    if (app.got_subcommand("matrix")) return matrix();
    if (app.got_subcommand("demo")) return demo();
    if (app.got_subcommand("batch")) return batch();
    if (app.got_subcommand("report")) return report();
    if (app.got_subcommand("explain")) return explain();
    return run();
  });
}
