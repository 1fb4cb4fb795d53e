// Many deadlines on one timer: each request registers its deadline, the queue keeps one
// steady_timer armed for the earliest and runs each expired entry's callback on the executor.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <utility>

namespace tenure::net {

class DeadlineQueue {
 public:
  using Clock = std::chrono::steady_clock;
  using Id = uint64_t;  // never 0

  // Callbacks run on `ex` (use a strand for serial use). Thread-safe: add/cancel from any thread.
  static std::shared_ptr<DeadlineQueue> create(boost::asio::any_io_executor ex);
  ~DeadlineQueue();

  // fn runs once on the executor at or after `when` unless cancelled first; never inline.
  Id add(Clock::time_point when, std::function<void()> fn);
  Id add_after(Clock::duration d, std::function<void()> fn) {
    return add(Clock::now() + d, std::move(fn));
  }
  // True if the entry was still pending: its fn will not run. Called on the executor, a false
  // return means fn already ran (or is running now on another thread otherwise).
  bool cancel(Id id);
  // For a caller that keeps one entry's Id in a member (0: none): cancels it if set, zeroes it.
  void cancel_slot(Id& slot) {
    if (slot != 0) cancel(std::exchange(slot, 0));
  }
  // Drops every entry (their callbacks never run) and stops the timer. Further add()s are ignored.
  void close();
  size_t size() const;

 private:
  struct Impl;
  explicit DeadlineQueue(std::shared_ptr<Impl> impl);
  std::shared_ptr<Impl> impl_;
};

}  // namespace tenure::net
