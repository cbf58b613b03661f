#pragma once
// Renderings of a DiffResult: JSON for scripts, Markdown for bundles and a
// terminal table for people.
#include <string>

#include "nbtrace/trace/diff.hpp"

namespace nbtrace {

/// The `--json` document: first_divergence, num_divergent, tolerance_rel and
/// one `fields` entry per compared component (see docs/trace-diff.md).
std::string diff_to_json(const DiffResult& result);

/// A Markdown report (summary, first divergence with its upstream fields,
/// the table of fields, missing fields, waivers).
std::string diff_to_markdown(const DiffResult& result);

struct TableOptions {
  bool color = false;           ///< ANSI colours for statuses
  bool only_divergent = false;  ///< hide passing fields
  bool show_missing = false;    ///< list one-side-only fields in the table
};

/// A fixed-width table with a summary, for a terminal.
std::string diff_to_table(const DiffResult& result, const TableOptions& options);

/// One-paragraph verdict: counts and the first divergence.
std::string diff_summary_line(const DiffResult& result);

}  // namespace nbtrace
