#include "nbtrace/base/periodic.hpp"

namespace nbtrace {

PeriodicTask::PeriodicTask(bool enabled, std::chrono::milliseconds period, std::function<void()> task) {
  if (!enabled) return;
  thread_ = std::thread([this, period, task = std::move(task)] {
    std::unique_lock hold(mutex_);
    while (!wake_.wait_for(hold, period, [this] { return stop_; })) task();
  });
}

PeriodicTask::~PeriodicTask() { stop(); }

void PeriodicTask::stop() {
  if (!thread_.joinable()) return;
  {
    std::lock_guard g(mutex_);
    stop_ = true;
  }
  wake_.notify_one();
  thread_.join();
}

}  // namespace nbtrace
