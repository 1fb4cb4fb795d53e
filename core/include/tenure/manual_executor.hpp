// A fake clock for deterministic tests: nothing happens until the test calls advance()/run_ready().
#pragma once

#include <map>
#include <mutex>
#include <vector>

#include "tenure/executor.hpp"

namespace tenure {

class ManualExecutor : public Executor, public std::enable_shared_from_this<ManualExecutor> {
 public:
  Clock::time_point now() const override;
  void post(std::function<void()> fn) override;
  std::shared_ptr<Timer> after(Clock::duration delay, std::function<void()> fn) override;

  // Runs posted functions (and what they post) until none is left. Returns how many ran.
  size_t run_ready();
  // Moves the clock forward, firing due timers in time order, running posted work in between.
  void advance(Clock::duration d);
  // Jumps the clock without firing anything first: simulates a paused process.
  void jump(Clock::duration d);
  // Drops all pending work: timers and posted functions hold their electors, so a test
  // clears them at its end to free everything.
  void clear();

 private:
  struct Entry;
  mutable std::mutex mu_;
  Clock::time_point now_{std::chrono::hours(1)};
  std::vector<std::function<void()>> ready_;
  std::multimap<Clock::time_point, std::shared_ptr<Entry>> timers_;
};

}  // namespace tenure
