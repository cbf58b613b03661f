#pragma once
// A task called every `period` on a thread of its own: batch.json rewrites
// in a quiet stretch, the progress meter's redraws.
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>

namespace nbtrace {

/// Calls `task` every `period` on a thread of its own until stopped (or
/// destroyed, exceptions included); does nothing when not `enabled`. The
/// task runs with the timer's lock held, so stop() returns only once a
/// call under way has finished: a task must not call stop() itself.
class PeriodicTask {
 public:
  PeriodicTask(bool enabled, std::chrono::milliseconds period, std::function<void()> task);
  ~PeriodicTask();
  PeriodicTask(const PeriodicTask&) = delete;
  PeriodicTask& operator=(const PeriodicTask&) = delete;
  /// Stops the thread (idempotent); no call of the task starts after it.
  void stop();

 private:
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace nbtrace
