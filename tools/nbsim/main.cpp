// nbsim: the reference CPU simulator with nanoBragg's command line.
// Exit codes: 0 ok, 1 usage error or failed output, 5 unreadable input.
#include <unistd.h>

#include <iostream>

#include "cli.hpp"
#include "nbsim/run.hpp"
#include "nbtrace/base/tool_main.hpp"
#include "nbtrace/base/version.hpp"

int main(int argc, char** argv) {
  return nbtrace::guarded_main("nbsim", [&] {
    const auto cl = nbsim_cli::parse_command_line(std::vector<std::string>(argv + 1, argv + argc));
    if (cl.help) {
      std::cout << nbsim_cli::usage_text();
      return 0;
    }
    if (cl.version) {
      std::cout << nbtrace::version_line("nbsim") << "\n";
      return 0;
    }
    if (cl.list_devices) {
      nbsim::print_devices(std::cout);
      return 0;
    }
    if (!cl.config.output.quiet)
      for (const auto& note : cl.notes) std::cerr << "nbsim: " << note << "\n";
    return nbsim::run(cl.config, std::cout, std::cerr, isatty(STDERR_FILENO) != 0);
  });
}
