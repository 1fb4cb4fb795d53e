// The one "deliver on the executor unless closed" rule every backend follows: completions and
// wake-ups posted after close() are dropped, so nothing of a closed backend reaches the core.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <utility>

#include "tenure/completion.hpp"
#include "tenure/executor.hpp"

namespace tenure {

// Copies share one open flag. post/complete may be called from any thread.
class Delivery {
 public:
  explicit Delivery(std::shared_ptr<Executor> exec)
      : exec_(std::move(exec)), open_(std::make_shared<std::atomic<bool>>(true)) {}

  // Runs fn on the executor, later, unless close() was called before it runs.
  void post(std::function<void()> fn) const {
    exec_->post([open = open_, fn = std::move(fn)] {
      if (open->load(std::memory_order_acquire)) fn();
    });
  }
  template <class T>
  void complete(Completion<T> done, Result<T> r) const {
    post([done = std::move(done), r = std::move(r)]() mutable { done(std::move(r)); });
  }
  void close() const { open_->store(false, std::memory_order_release); }
  bool is_open() const { return open_->load(std::memory_order_acquire); }
  Executor& executor() const { return *exec_; }
  const std::shared_ptr<Executor>& executor_ptr() const { return exec_; }

 private:
  std::shared_ptr<Executor> exec_;
  std::shared_ptr<std::atomic<bool>> open_;
};

}  // namespace tenure
