// trace_consumer REF TEST: parses two trace logs with the installed nbtrace
// API, diffs them and prints one line per fact, which the install.consumer
// test checks against the installed `nbtrace diff --json` and the files.
#include <iostream>
#include <string>

#include "nbtrace/base/files.hpp"
#include "nbtrace/base/version.hpp"
#include "nbtrace/bundle/sha256.hpp"
#include "nbtrace/parity/work_pool.hpp"
#include "nbtrace/trace/diff.hpp"
#include "nbtrace/trace/trace.hpp"

int main(int argc, char** argv) {
  if (argc != 3) {
    std::cerr << "usage: trace_consumer REF TEST\n";
    return 1;
  }
  try {
    const std::string ref_text = nbtrace::read_text_file(argv[1]);
    const nbtrace::Trace ref = nbtrace::parse_trace(ref_text, argv[1]);
    const nbtrace::Trace test = nbtrace::parse_trace(nbtrace::read_text_file(argv[2]), argv[2]);
    const nbtrace::DiffResult diff = nbtrace::diff_traces(ref, test, nbtrace::DiffOptions{});
    std::cout << "version " << nbtrace::version() << '\n'
              << "ref_tag " << ref.tag() << '\n'
              << "test_tag " << test.tag() << '\n'
              << "verdict " << nbtrace::verdict_name(diff.verdict()) << '\n'
              << "num_compared " << diff.num_compared << '\n'
              << "num_divergent " << diff.num_divergent << '\n'
              << "first_divergence "
              << (diff.first_divergence ? std::string(diff.name(diff.fields[*diff.first_divergence])) : "none") << '\n'
              << "ref_sha256 " << nbtrace::sha256_hex(ref_text) << '\n'
              << "mpi_built " << (nbtrace::mpi_built() ? 1 : 0) << '\n';
  } catch (const std::exception& e) {
    std::cerr << "trace_consumer: " << e.what() << '\n';
    return 5;
  }
  return 0;
}
