// Where the state machine runs and how it tells time. The real executor is an Asio strand with
// steady timers; tests use ManualExecutor, a fake clock they advance by hand.
#pragma once

#include <chrono>
#include <functional>
#include <memory>

namespace tenure {

using Clock = std::chrono::steady_clock;

class Timer {
 public:
  virtual ~Timer() = default;
  virtual void cancel() = 0;  // after cancel() returns the callback will not start
};

// Serial executor: posted functions and timer callbacks never run concurrently with each other.
class Executor {
 public:
  virtual ~Executor() = default;
  virtual Clock::time_point now() const = 0;
  virtual void post(std::function<void()> fn) = 0;
  virtual std::shared_ptr<Timer> after(Clock::duration delay, std::function<void()> fn) = 0;
};

}  // namespace tenure
