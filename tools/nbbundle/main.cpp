// nbbundle: make evidence bundles correct by construction and check any
// bundle. Subcommands: init, record, seal, verify, audit.
#include <CLI/CLI.hpp>
#include <iostream>
#include <map>

#include "commands.hpp"
#include "nbtrace/base/tool_main.hpp"
#include "nbtrace/base/cli_flags.hpp"

int main(int argc, char** argv) {
  CLI::App app{"nbbundle: evidence bundles (traces, metrics, summaries, logs + commands.txt, env.json, git_sha.txt, "
               "sha256.txt).\nTypical use: init DIR; record DIR -- CMD...; seal DIR; verify DIR; audit DIR.\n"
               "Exit codes: 0 ok, 1 usage, 4 verification failed or audit findings, 5 input error; "
               "record returns the command's own exit code.",
               "nbbundle"};
  app.require_subcommand(1);
  nbtrace::add_version_flag(app, "nbbundle");
  const std::map<std::string, std::function<int()>> run{{"init", setup_init(app)},
                                                        {"record", setup_record(app)},
                                                        {"seal", setup_seal(app)},
                                                        {"verify", setup_verify(app)},
                                                        {"audit", setup_audit(app)}};
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return nbtrace::cli_parse_exit(app, e);
  }
  return nbtrace::guarded_main("nbbundle", [&] { return run.at(app.get_subcommands().front()->get_name())(); });
}
