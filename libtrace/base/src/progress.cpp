#include "nbtrace/base/progress.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <ostream>

#include "nbtrace/base/periodic.hpp"

namespace nbtrace {

ProgressMode progress_settings(ProgressRequest request, bool stderr_is_tty) noexcept {
  switch (request) {
    case ProgressRequest::automatic: return stderr_is_tty ? ProgressMode::bar : ProgressMode::off;
    case ProgressRequest::on: return stderr_is_tty ? ProgressMode::bar : ProgressMode::lines;
    case ProgressRequest::off: return ProgressMode::off;
  }
  return ProgressMode::off;
}

std::chrono::milliseconds default_progress_period() noexcept {
  constexpr std::chrono::milliseconds fallback{2000};
  const char* text = std::getenv("NB_PROGRESS_INTERVAL");
  if (text == nullptr || *text == '\0') return fallback;
  char* end = nullptr;
  const double seconds = std::strtod(text, &end);
  if (*end != '\0' || !(seconds >= 0.01 && seconds <= 86400.0)) return fallback;
  return std::chrono::milliseconds(static_cast<long long>(std::llround(seconds * 1000.0)));
}

std::string_view progress_mode_name(ProgressMode mode) noexcept {
  switch (mode) {
    case ProgressMode::off: return "off";
    case ProgressMode::lines: return "lines";
    case ProgressMode::bar: return "bar";
  }
  return "?";
}

std::string format_duration(double seconds) {
  if (!(seconds >= 0)) seconds = 0;
  if (seconds < 10) return fmt::format("{:.1f} s", seconds);
  if (seconds < 60) return fmt::format("{:.0f} s", seconds);
  const auto whole = static_cast<long long>(std::llround(seconds));
  if (whole < 3600) return fmt::format("{} min {:02} s", whole / 60, whole % 60);
  return fmt::format("{} h {:02} min", whole / 3600, (whole % 3600) / 60);
}

std::string format_bytes(double bytes) {
  static constexpr const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
  int u = 0;
  while (bytes >= 1024 && u < 5) {
    bytes /= 1024;
    ++u;
  }
  return u == 0 ? fmt::format("{:.0f} B", bytes) : fmt::format("{:.1f} {}", bytes, units[u]);
}

namespace {

/// Three significant figures or so, without an exponent: "121", "12.5", "0.50".
std::string rate_number(double r) {
  if (r >= 100) return fmt::format("{:.0f}", r);
  if (r >= 10) return fmt::format("{:.1f}", r);
  return fmt::format("{:.2f}", r);
}

}  // namespace

ProgressMeter::ProgressMeter(ProgressMode mode, std::ostream& out, ProgressOptions options)
    : mode_(mode), out_(out), options_(std::move(options)) {}

ProgressMeter::~ProgressMeter() {
  ticker_.reset();
  std::lock_guard g(print_);
  if (bar_shown_ > 0) out_ << "\n" << std::flush;
}

std::chrono::steady_clock::time_point ProgressMeter::now() const {
  return options_.clock ? options_.clock() : std::chrono::steady_clock::now();
}

void ProgressMeter::start(std::uint64_t total) {
  std::lock_guard g(print_);
  if (started_) return;
  started_ = true;
  total_ = total;
  if (total < options_.silent_below) mode_ = ProgressMode::off;
  start_ = now();
  next_line_ = start_ + options_.period;
  if (mode_ == ProgressMode::off || !options_.ticker) return;
  // Lines are due by the clock (tick() checks); the ticker only has to look
  // often enough that a line is at most a fraction of a period late.
  const auto every = mode_ == ProgressMode::bar
                         ? options_.redraw
                         : std::clamp(options_.period / 8, std::chrono::milliseconds(10), std::chrono::milliseconds(250));
  ticker_ = std::make_unique<PeriodicTask>(true, every, [this] { tick(); });
}

std::string ProgressMeter::status_text(std::uint64_t done, double elapsed_s) const {
  const bool bytes = options_.kind == ProgressUnit::bytes;
  const std::string amount = bytes ? format_bytes(static_cast<double>(done)) + "/" +
                                         format_bytes(static_cast<double>(total_))
                                   : fmt::format("{}/{} {}", done, total_, options_.unit);
  const double fraction = total_ > 0 ? static_cast<double>(done) / static_cast<double>(total_) : 1.0;
  const double rate = elapsed_s > 0 ? static_cast<double>(done) / elapsed_s : 0.0;
  const std::string rate_text =
      bytes ? format_bytes(rate) + "/s" : rate_number(rate) + " " + options_.unit + "/s";
  const std::string left =
      done == 0 || rate <= 0 ? std::string("time left unknown")
                             : format_duration(static_cast<double>(total_ - std::min(done, total_)) / rate) + " left";
  return fmt::format("{} ({:.1f}%), {}, {}", amount, 100 * fraction, rate_text, left);
}

void ProgressMeter::draw_bar_locked(std::uint64_t done, double elapsed_s) {
  const double fraction =
      total_ > 0 ? std::min(1.0, static_cast<double>(done) / static_cast<double>(total_)) : 1.0;
  const int width = std::max(1, options_.bar_width);
  const int filled = static_cast<int>(fraction * width);
  std::string line = options_.label + " [" + std::string(static_cast<std::size_t>(filled), '#') +
                     std::string(static_cast<std::size_t>(width - filled), '-') + "] " +
                     status_text(done, elapsed_s);
  const std::size_t shown = line.size();
  // Spaces over what a longer previous bar left on the line.
  if (bar_shown_ > shown) line.append(bar_shown_ - shown, ' ');
  out_ << "\r" << line << std::flush;
  bar_shown_ = shown;
}

void ProgressMeter::clear_bar_locked() {
  if (bar_shown_ == 0) return;
  out_ << "\r" << std::string(bar_shown_, ' ') << "\r";
  bar_shown_ = 0;
}

void ProgressMeter::tick() {
  std::lock_guard g(print_);
  if (!started_ || finished_ || mode_ == ProgressMode::off) return;
  const auto t = now();
  const double elapsed = std::chrono::duration<double>(t - start_).count();
  const std::uint64_t d = done();
  if (mode_ == ProgressMode::bar) {
    draw_bar_locked(d, elapsed);
    return;
  }
  if (t < next_line_) return;
  // One line per period, on the period's grid even when a tick comes late.
  while (next_line_ <= t) next_line_ += options_.period;
  if (d >= total_) return;  // the final line says it
  out_ << options_.label << ": " << status_text(d, elapsed) << "\n" << std::flush;
}

void ProgressMeter::note(std::string_view line) {
  std::lock_guard g(print_);
  const bool redraw = bar_shown_ > 0;
  clear_bar_locked();
  out_ << line << "\n";
  if (redraw) draw_bar_locked(done(), std::chrono::duration<double>(now() - start_).count());
  out_ << std::flush;
}

void ProgressMeter::finish() {
  // The ticker first, without the print lock: a tick under way takes it.
  ticker_.reset();
  std::lock_guard g(print_);
  if (!started_ || finished_) return;
  finished_ = true;
  if (mode_ == ProgressMode::off) return;
  const double elapsed = std::chrono::duration<double>(now() - start_).count();
  const std::uint64_t d = done();
  const bool bytes = options_.kind == ProgressUnit::bytes;
  const double rate = elapsed > 0 ? static_cast<double>(d) / elapsed : 0.0;
  const std::string amount = bytes ? format_bytes(static_cast<double>(d)) : fmt::format("{}/{} {}", d, total_, options_.unit);
  const std::string rate_text = bytes ? format_bytes(rate) + "/s" : rate_number(rate) + " " + options_.unit + "/s";
  std::string line = fmt::format("{}: done {} in {} ({})", options_.label, amount, format_duration(elapsed), rate_text);
  if (mode_ == ProgressMode::bar) {
    if (bar_shown_ > line.size()) line.append(bar_shown_ - line.size(), ' ');
    out_ << "\r";
    bar_shown_ = 0;
  }
  out_ << line << "\n" << std::flush;
}

}  // namespace nbtrace
