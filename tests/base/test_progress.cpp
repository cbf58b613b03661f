#include <atomic>
#include <chrono>
#include <sstream>
#include <thread>

#include "nbtrace/base/periodic.hpp"
#include "nbtrace/base/progress.hpp"
#include "nbtrace/base/version.hpp"
#include "test_support.hpp"

using namespace nbtrace;
using namespace std::chrono_literals;

namespace {

/// A clock the test moves by hand.
struct FakeClock {
  std::chrono::steady_clock::time_point t{std::chrono::hours(1)};
  ProgressClock fn() {
    return [this] { return t; };
  }
};

ProgressOptions rows_options(FakeClock& clock) {
  ProgressOptions o;
  o.label = "nbsim";
  o.unit = "rows";
  o.clock = clock.fn();
  o.ticker = false;  // the test calls tick()
  return o;
}

}  // namespace

TEST_CASE("progress_settings: auto is a bar on a terminal and silent elsewhere; on falls back to lines") {
  CHECK(progress_settings(ProgressRequest::automatic, true) == ProgressMode::bar);
  CHECK(progress_settings(ProgressRequest::automatic, false) == ProgressMode::off);
  CHECK(progress_settings(ProgressRequest::on, true) == ProgressMode::bar);
  CHECK(progress_settings(ProgressRequest::on, false) == ProgressMode::lines);
  CHECK(progress_settings(ProgressRequest::off, true) == ProgressMode::off);
  CHECK(progress_settings(ProgressRequest::off, false) == ProgressMode::off);
  CHECK(progress_mode_name(ProgressMode::lines) == "lines");
}

TEST_CASE("lines mode: one line per period with done/total, percent, rate and time left, then the final line") {
  FakeClock clock;
  std::ostringstream out;
  ProgressMeter m(ProgressMode::lines, out, rows_options(clock));
  m.start(1000);
  m.advance(100);
  clock.t += 1900ms;
  m.tick();
  CHECK(out.str().empty());  // not a period yet
  clock.t += 100ms;          // 2 s: 100 rows in 2 s = 50 rows/s, 900 left = 18 s
  m.tick();
  CHECK(out.str() == "nbsim: 100/1000 rows (10.0%), 50.0 rows/s, 18 s left\n");
  m.tick();  // same instant: nothing new
  clock.t += 1s;
  m.tick();  // 3 s: still inside the second period
  CHECK(nbtest::split_lines(out.str()).size() == 1);
  m.advance(300);  // 400 rows at 4 s: 100 rows/s, 600 left = 6.0 s
  clock.t += 1s;
  m.tick();
  auto lines = nbtest::split_lines(out.str());
  REQUIRE(lines.size() == 2);
  CHECK(lines[1] == "nbsim: 400/1000 rows (40.0%), 100 rows/s, 6.0 s left");
  // A late tick (7 s) prints one line, and the next is due at 8 s, not 9 s.
  clock.t += 3s;
  m.tick();
  CHECK(nbtest::split_lines(out.str()).size() == 3);
  clock.t += 1s;
  m.tick();
  CHECK(nbtest::split_lines(out.str()).size() == 4);
  m.advance(600);
  clock.t += 2s;  // 10 s, all done: the final line says it, not a progress line
  m.tick();
  CHECK(nbtest::split_lines(out.str()).size() == 4);
  m.finish();
  lines = nbtest::split_lines(out.str());
  REQUIRE(lines.size() == 5);
  CHECK(lines[4] == "nbsim: done 1000/1000 rows in 10 s (100 rows/s)");
  m.finish();  // idempotent
  CHECK(nbtest::split_lines(out.str()).size() == 5);
}

TEST_CASE("lines mode: nothing done yet says the time left is unknown") {
  FakeClock clock;
  std::ostringstream out;
  ProgressMeter m(ProgressMode::lines, out, rows_options(clock));
  m.start(8);
  clock.t += 2s;
  m.tick();
  CHECK(out.str() == "nbsim: 0/8 rows (0.0%), 0.00 rows/s, time left unknown\n");
}

TEST_CASE("off prints nothing; a meter never started prints nothing; notes still print") {
  FakeClock clock;
  std::ostringstream out;
  {
    ProgressMeter m(ProgressMode::off, out, rows_options(clock));
    m.start(10);
    m.advance(5);
    clock.t += 10s;
    m.tick();
    m.finish();
    CHECK(m.done() == 5);
  }
  CHECK(out.str().empty());
  {
    ProgressMeter m(ProgressMode::lines, out, rows_options(clock));
    m.advance(3);
    m.tick();
    m.finish();
  }
  CHECK(out.str().empty());
  ProgressMeter m(ProgressMode::off, out, rows_options(clock));
  m.note("[1/2] ok job1");
  CHECK(out.str() == "[1/2] ok job1\n");
}

TEST_CASE("silent_below turns a small total off") {
  FakeClock clock;
  std::ostringstream out;
  ProgressOptions o = rows_options(clock);
  o.kind = ProgressUnit::bytes;
  o.silent_below = 1024;
  ProgressMeter small(ProgressMode::lines, out, o);
  small.start(1000);
  CHECK(small.mode() == ProgressMode::off);
  small.advance(1000);
  clock.t += 3s;
  small.tick();
  small.finish();
  CHECK(out.str().empty());
  ProgressMeter big(ProgressMode::lines, out, o);
  big.start(std::uint64_t{3} << 30);
  big.advance(std::uint64_t{1} << 30);
  clock.t += 2s;  // 1 GiB in 2 s = 512 MiB/s, 2 GiB left = 4.0 s
  big.tick();
  CHECK(out.str() == "nbsim: 1.0 GiB/3.0 GiB (33.3%), 512.0 MiB/s, 4.0 s left\n");
}

TEST_CASE("bar mode redraws one line with a carriage return and ends it with the final line") {
  FakeClock clock;
  std::ostringstream out;
  ProgressOptions o = rows_options(clock);
  o.bar_width = 10;
  ProgressMeter m(ProgressMode::bar, out, o);
  m.start(4);
  m.advance(1);
  clock.t += 1s;
  m.tick();
  const std::string first = "\rnbsim [##--------] 1/4 rows (25.0%), 1.00 rows/s, 3.0 s left";
  CHECK(out.str() == first);
  m.note("[1/4] ok a");  // the bar is cleared, the note printed, the bar drawn again
  const std::string cleared = "\r" + std::string(first.size() - 1, ' ') + "\r[1/4] ok a\n";
  CHECK(out.str().substr(first.size(), cleared.size()) == cleared);
  m.advance(3);
  clock.t += 1s;
  m.finish();
  const std::string text = out.str();
  CHECK(text.find('\n', first.size() + cleared.size()) == text.size() - 1);  // one newline: the final line's
  CHECK(text.ends_with("\rnbsim: done 4/4 rows in 2.0 s (2.00 rows/s)" +
                       std::string(first.size() - 1 - std::string("nbsim: done 4/4 rows in 2.0 s (2.00 rows/s)").size(), ' ') +
                       "\n"));
}

TEST_CASE("advance from many threads counts every unit; the ticker prints from its own thread") {
  std::ostringstream out;
  ProgressOptions o;
  o.label = "test";
  o.unit = "items";
  o.period = 20ms;
  ProgressMeter m(ProgressMode::lines, out, o);
  m.start(8000);
  std::vector<std::thread> workers;
  for (int t = 0; t < 8; ++t)
    workers.emplace_back([&] {
      for (int i = 0; i < 1000; ++i) {
        m.advance();
        if (i % 100 == 0) std::this_thread::sleep_for(3ms);
      }
    });
  for (auto& w : workers) w.join();
  m.finish();
  CHECK(m.done() == 8000);
  const auto lines = nbtest::split_lines(out.str());
  REQUIRE(!lines.empty());
  CHECK(lines.back().starts_with("test: done 8000/8000 items in "));
  for (std::size_t i = 0; i + 1 < lines.size(); ++i) CHECK(lines[i].starts_with("test: "));
}

TEST_CASE("format_duration and format_bytes") {
  CHECK(format_duration(8.46) == "8.5 s");
  CHECK(format_duration(42.4) == "42 s");
  CHECK(format_duration(185) == "3 min 05 s");
  CHECK(format_duration(7620) == "2 h 07 min");
  CHECK(format_bytes(512) == "512 B");
  CHECK(format_bytes(1536) == "1.5 KiB");
  CHECK(format_bytes(3.0 * (1 << 30)) == "3.0 GiB");
}

TEST_CASE("PeriodicTask calls its task until stopped, and not when disabled") {
  std::atomic<int> calls{0};
  {
    PeriodicTask off(false, 1ms, [&] { ++calls; });
    std::this_thread::sleep_for(20ms);
  }
  CHECK(calls == 0);
  PeriodicTask on(true, 2ms, [&] { ++calls; });
  for (int i = 0; i < 500 && calls < 3; ++i) std::this_thread::sleep_for(2ms);
  on.stop();
  const int seen = calls;
  CHECK(seen >= 3);
  std::this_thread::sleep_for(10ms);
  CHECK(calls == seen);
  on.stop();  // idempotent
}

TEST_CASE("version_line: the tool, the project version and the build's sha") {
  const std::string line = version_line("nbsim");
  CHECK(line.starts_with("nbsim (nbparity " + std::string(version()) + ", git "));
  CHECK(line.ends_with(")"));
  std::string sha(build_git_sha());
  const bool dirty = sha.ends_with("-dirty");
  if (sha != "unknown") {
    CHECK(line.find(sha.substr(0, 12)) != std::string::npos);
    CHECK(line.ends_with(dirty ? "-dirty)" : ")"));
  }
}
