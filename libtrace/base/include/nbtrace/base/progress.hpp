#pragma once
// Progress people can see while a long run goes on: nbsim's rows, a batch's
// jobs, a matrix's checks, the bytes `nbbundle verify` hashes. Workers count
// with advance() (an atomic add, from any thread); one thread of the meter's
// own prints, so lines never interleave. docs/cli.md describes the flags.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <iosfwd>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

namespace nbtrace {

class PeriodicTask;

/// What the user asked for: --progress (on), --no-progress or --quiet (off),
/// neither (automatic).
enum class ProgressRequest { automatic, on, off };

/// How the meter shows itself: nothing, a line every period (a log file, a
/// pipe), or one live bar redrawn with a carriage return (a terminal).
enum class ProgressMode { off, lines, bar };

/// automatic: a bar on a terminal, nothing otherwise; on: a bar on a
/// terminal, lines otherwise; off: nothing.
ProgressMode progress_settings(ProgressRequest request, bool stderr_is_tty) noexcept;

/// "off", "lines", "bar".
std::string_view progress_mode_name(ProgressMode mode) noexcept;

/// What is counted: things (shown as "512/1536 rows") or bytes (shown as
/// "1.5 GiB/3.0 GiB", the rate in MiB/s).
enum class ProgressUnit { count, bytes };

using ProgressClock = std::function<std::chrono::steady_clock::time_point()>;

/// The period of progress lines: $NB_PROGRESS_INTERVAL in seconds (a CI log
/// may want one line a minute, a test one every 50 ms), when it is a number
/// from 0.01 to 86400; otherwise 2 s.
std::chrono::milliseconds default_progress_period() noexcept;

struct ProgressOptions {
  std::string label;           ///< what each line starts with, e.g. "nbsim"
  std::string unit = "items";  ///< the counted things, plural ("rows", "jobs"); unused for bytes
  ProgressUnit kind = ProgressUnit::count;
  std::chrono::milliseconds period = default_progress_period();  ///< lines: one line per period
  std::chrono::milliseconds redraw{200};   ///< bar: how often it is redrawn
  /// A total below this shows nothing at all (nbbundle verify, on auto:
  /// bundles under 1 GiB hash too fast to need a meter).
  std::uint64_t silent_below = 0;
  int bar_width = 28;  ///< characters between the brackets
  /// The time source; empty: std::chrono::steady_clock. Tests pass a fake one.
  ProgressClock clock;
  /// Print from a thread of the meter's own; false: only when tick() is
  /// called (tests, with a fake clock).
  bool ticker = true;
};

/// Counts work done against a total and shows it in `mode` on `out`.
///
/// lines: `LABEL: 512/1536 rows (33.3%), 120 rows/s, 8.5 s left` once per
/// period; bar: `LABEL [#########-------]  33.3% 512/1536 rows, 8.5 s left`
/// redrawn in place. finish() ends with `LABEL: done 1536/1536 rows in
/// 12.7 s (121 rows/s)`. The rate is the average since start(); the time
/// left is what remains at that rate. A meter that was never started, or
/// whose mode is off, prints nothing (note() lines excepted).
class ProgressMeter {
 public:
  ProgressMeter(ProgressMode mode, std::ostream& out, ProgressOptions options);
  /// Stops the ticker; a bar left on screen (an exception) gets its newline.
  ~ProgressMeter();
  ProgressMeter(const ProgressMeter&) = delete;
  ProgressMeter& operator=(const ProgressMeter&) = delete;

  /// Starts the clock (and the ticker) for `total` units. Once only.
  void start(std::uint64_t total);
  /// Thread-safe and cheap (one atomic add): `n` more units done.
  void advance(std::uint64_t n = 1) noexcept {
    done_.fetch_add(n, std::memory_order_relaxed);
  }
  /// Prints what is due now: a line when a period has passed (lines), a
  /// redraw (bar). The ticker calls it; tests call it with a fake clock.
  void tick();
  /// Prints one line of the caller's (a job finished) without breaking the
  /// bar: the bar is cleared, the line printed, the bar drawn again.
  void note(std::string_view line);
  /// Stops the ticker and prints the final line (nothing when not started,
  /// silent or off). Idempotent.
  void finish();

  std::uint64_t done() const noexcept { return done_.load(std::memory_order_relaxed); }
  std::uint64_t total() const noexcept { return total_; }
  /// The mode in effect: off when the total was below silent_below.
  ProgressMode mode() const noexcept { return mode_; }

  /// The text of a progress line (without label) for these numbers, e.g.
  /// "512/1536 rows (33.3%), 120 rows/s, 8.5 s left".
  std::string status_text(std::uint64_t done, double elapsed_s) const;

 private:
  std::chrono::steady_clock::time_point now() const;
  void draw_bar_locked(std::uint64_t done, double elapsed_s);
  void clear_bar_locked();

  ProgressMode mode_;
  std::ostream& out_;
  ProgressOptions options_;
  std::atomic<std::uint64_t> done_{0};
  std::uint64_t total_ = 0;
  bool started_ = false, finished_ = false;
  std::chrono::steady_clock::time_point start_{}, next_line_{};
  std::size_t bar_shown_ = 0;  ///< characters of the bar on screen (0: none)
  std::mutex print_;
  std::unique_ptr<PeriodicTask> ticker_;
};

/// "8.5 s", "42 s", "3 min 05 s", "2 h 07 min".
std::string format_duration(double seconds);
/// "512 B", "1.5 KiB", "3.0 GiB".
std::string format_bytes(double bytes);

}  // namespace nbtrace
