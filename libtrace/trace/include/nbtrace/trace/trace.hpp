#pragma once
// A parsed trace log: every TRACE_<TAG> line of a captured stdout, as
// records with values, line numbers, occurrence indices and loop
// coordinates. Storage is flat (pools indexed by the records) so a 100 MB
// log parses without a heap allocation per line.
#include <array>
#include <cstdint>
#include <deque>
#include <iosfwd>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>

#include "nbtrace/trace/big_vector.hpp"
#include <vector>

namespace nbtrace {

/// Interned strings with stable ids; views returned stay valid for the
/// table's lifetime.
class NameTable {
 public:
  std::uint32_t intern(std::string_view name);
  std::optional<std::uint32_t> find(std::string_view name) const;
  std::string_view operator[](std::uint32_t id) const { return *names_[id]; }
  std::size_t size() const { return names_.size(); }

 private:
  std::deque<std::string> storage_;
  std::vector<const std::string*> names_;
  std::unordered_map<std::string_view, std::uint32_t> ids_;
  static constexpr std::uint32_t kNoEntry = 0xffffffffu;
  std::array<std::uint32_t, 509> cache_ = [] {
    std::array<std::uint32_t, 509> a{};
    a.fill(kNoEntry);
    return a;
  }();
};

/// One loop coordinate of a per-step record, e.g. phi_tic=3.
struct LoopCoord {
  std::uint32_t name_id;  ///< id in Trace::names()
  double value;
};

/// How a record's value was written.
enum class ValueForm : std::uint8_t {
  numbers,  ///< one or more numbers (scalar or vector)
  matrix,   ///< [a b c; d e f; ...]
  keyed,    ///< k1:v1 k2:v2 ... (component keys kept)
  text,     ///< anything else, compared exactly
  marker,   ///< a line with no value (e.g. TRACE_PY_TRICUBIC_GRID_START)
};

/// One field of one trace line.
struct Record {
  std::uint32_t name_id = 0;      ///< qualified name: "field" or "CHANNEL.field"
  std::uint32_t first_value = 0;  ///< index into Trace::values pool
  std::uint32_t num_values = 0;
  std::uint32_t first_key = 0;    ///< index into the component-key pool (keyed form)
  std::uint32_t first_loop = 0;   ///< index into the loop-coordinate pool
  std::uint16_t num_loop = 0;
  std::uint16_t rows = 0;         ///< matrix rows (matrix form)
  std::uint32_t loop_tuple = 0;   ///< id of the distinct loop-coordinate tuple (0: none)
  std::uint32_t occurrence = 0;   ///< k-th record with the same name and loop coordinates
  std::uint32_t line = 0;         ///< 1-based line number in the file
  ValueForm form = ValueForm::numbers;
  std::string_view text;          ///< the value text for text form (view into the trace buffer)
};

/// A malformed TRACE line, reported as `file:line: reason`.
struct Diagnostic {
  std::uint32_t line = 0;
  std::string reason;
};

/// Counts of what the parser saw.
struct ParseStats {
  std::uint64_t lines = 0;          ///< all lines of the file
  std::uint64_t trace_lines = 0;    ///< TRACE_<tag> lines parsed into records
  std::uint64_t records = 0;
  std::uint64_t skipped_lines = 0;  ///< banners, progress, untagged "TRACE:" prose
  std::uint64_t foreign_lines = 0;  ///< TRACE_<other tag> lines (not this trace's tag)
  std::uint64_t config_lines = 0;   ///< TRACE_CONFIG lines
  std::uint64_t malformed_lines = 0;
  std::uint64_t section_lines = 0;     ///< banner lines such as "TRACE_PY: ===== begin pixel (12, 34) ====="
  std::uint64_t byte_order_marks = 0;  ///< UTF-8 byte-order marks removed from line starts
};

/// A traced pixel announced by a TRACE_CONFIG line.
struct TracedPixel {
  int slow = 0;
  int fast = 0;
};

struct ParseOptions {
  /// Tag to read ("C" for TRACE_C, "PY", "CPP", ...). Empty: auto-detect the
  /// most frequent tag in the file (TRACE_CONFIG does not count).
  std::string tag;
};

struct ParseOptions;
class Trace;
Trace parse_trace(std::string text, std::string display_path, const ParseOptions& options);
Trace load_trace(const std::string& path, const ParseOptions& options);

class Trace {
 public:
  /// Display path used in diagnostics and reports.
  const std::string& path() const { return path_; }
  /// The tag that was read (given or detected); empty when the file has no
  /// TRACE_<tag> line at all.
  const std::string& tag() const { return tag_; }

  const big_vector<Record>& records() const { return records_; }
  const NameTable& names() const { return names_; }
  std::string_view name(const Record& r) const { return names_[r.name_id]; }
  std::span<const double> values(const Record& r) const {
    return {values_.data() + r.first_value, r.num_values};
  }
  std::span<const LoopCoord> loop(const Record& r) const {
    return {loop_pool_.data() + r.first_loop, r.num_loop};
  }
  /// Number of distinct loop-coordinate tuples + 1 (id 0 means none).
  std::size_t num_loop_tuples() const { return loop_tuple_first_.size(); }
  /// Loop coordinates of tuple `id` (empty for 0).
  std::span<const LoopCoord> loop_tuple(std::uint32_t id) const {
    return {loop_pool_.data() + loop_tuple_first_[id], loop_tuple_size_[id]};
  }
  /// Component key of component i ("rotx" in rotx:0), or empty.
  std::string_view component_key(const Record& r, std::size_t i) const;
  /// Matrix columns (0 when not a matrix).
  std::size_t cols(const Record& r) const { return r.rows ? r.num_values / r.rows : 0; }

  const std::vector<Diagnostic>& diagnostics() const { return diagnostics_; }
  const ParseStats& stats() const { return stats_; }
  const std::vector<TracedPixel>& pixels() const { return pixels_; }

  /// Index of the last record named `name` (qualified), if any.
  std::optional<std::size_t> find_last(std::string_view name) const;
  /// "name[phi_tic=3]#1" style label of a record for messages.
  std::string label(const Record& r) const;

 private:
  friend class TraceParser;
  friend Trace parse_trace(std::string text, std::string display_path, const ParseOptions& options);
  friend Trace load_trace(const std::string& path, const ParseOptions& options);
  static void parse_into(Trace& t, const ParseOptions& options);
  std::string path_;
  std::string tag_;
  // The whole file, on the heap so record views survive moves of the Trace.
  struct Text {
    std::string owned;         // text handed in by the caller
    big_vector<char> mapped;   // or a file read into huge-page storage
    std::string_view view;
  };
  std::unique_ptr<const Text> buffer_;
  big_vector<Record> records_;
  big_vector<double> values_;
  std::vector<std::string_view> keys_;
  std::vector<LoopCoord> loop_pool_;
  std::vector<std::uint32_t> loop_tuple_first_{0};  // per tuple id: index into loop_pool_
  std::vector<std::uint16_t> loop_tuple_size_{0};
  NameTable names_;
  std::vector<Diagnostic> diagnostics_;
  ParseStats stats_;
  std::vector<TracedPixel> pixels_;
};

/// Parses log text already in memory. `display_path` names it in messages.
Trace parse_trace(std::string text, std::string display_path, const ParseOptions& options = {});

/// Reads and parses a log file. Throws InputError when it cannot be read.
Trace load_trace(const std::string& path, const ParseOptions& options = {});

/// Detects the dominant TRACE_<tag> of a log ("" when it has none).
std::string detect_tag(std::string_view text);

/// Throws InputError with `file:line: reason` for the first malformed line,
/// and a count of the others, when the trace has any.
void require_well_formed(const Trace& trace);

/// load_trace as the tools use it: InputError when the file has no
/// TRACE_<tag> line or (unless `allow_malformed`) a malformed one; with
/// `allow_malformed` each malformed line is a warning on `warnings`.
Trace load_trace_checked(const std::string& path, const std::string& tag, bool allow_malformed, std::ostream& warnings);

}  // namespace nbtrace
