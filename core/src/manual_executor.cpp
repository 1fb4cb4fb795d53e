#include "tenure/manual_executor.hpp"

namespace tenure {

struct ManualExecutor::Entry : Timer {
  std::function<void()> fn;
  bool cancelled = false;
  void cancel() override { cancelled = true; }
};

Clock::time_point ManualExecutor::now() const {
  std::lock_guard lock(mu_);
  return now_;
}

void ManualExecutor::post(std::function<void()> fn) {
  std::lock_guard lock(mu_);
  ready_.push_back(std::move(fn));
}

std::shared_ptr<Timer> ManualExecutor::after(Clock::duration delay, std::function<void()> fn) {
  auto e = std::make_shared<Entry>();
  e->fn = std::move(fn);
  std::lock_guard lock(mu_);
  timers_.emplace(now_ + delay, e);
  return e;
}

size_t ManualExecutor::run_ready() {
  size_t n = 0;
  for (;;) {
    std::vector<std::function<void()>> batch;
    {
      std::lock_guard lock(mu_);
      batch.swap(ready_);
    }
    if (batch.empty()) return n;
    for (auto& fn : batch) {
      fn();
      ++n;
    }
  }
}

void ManualExecutor::advance(Clock::duration d) {
  Clock::time_point end;
  {
    std::lock_guard lock(mu_);
    end = now_ + d;
  }
  run_ready();
  for (;;) {
    std::shared_ptr<Entry> e;
    {
      std::lock_guard lock(mu_);
      auto it = timers_.begin();
      if (it == timers_.end() || it->first > end) {
        now_ = end;
        break;
      }
      now_ = std::max(now_, it->first);
      e = it->second;
      timers_.erase(it);
    }
    if (!e->cancelled) e->fn();
    run_ready();
  }
  run_ready();
}

void ManualExecutor::clear() {
  std::vector<std::function<void()>> ready;
  std::multimap<Clock::time_point, std::shared_ptr<Entry>> timers;
  {
    std::lock_guard lock(mu_);
    ready.swap(ready_);
    timers.swap(timers_);
  }
  // Destroyed here, outside the lock: their captures may post again.
}

void ManualExecutor::jump(Clock::duration d) {
  std::lock_guard lock(mu_);
  now_ += d;
}

}  // namespace tenure
