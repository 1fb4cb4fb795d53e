// Shared by the core/net tests: an io_context run by two threads (so TSan sees real concurrency)
// and a one-shot box a callback fills and a test waits on.
#pragma once

#include <gtest/gtest.h>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/strand.hpp>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

namespace tenure::testing {

class IoThreads {
 public:
  explicit IoThreads(int n = 2) : work_(boost::asio::make_work_guard(io_)) {
    for (int i = 0; i < n; ++i) threads_.emplace_back([this] { io_.run(); });
  }
  ~IoThreads() { stop(); }
  void stop() {
    work_.reset();
    io_.stop();
    for (auto& t : threads_)
      if (t.joinable()) t.join();
  }
  boost::asio::io_context& io() { return io_; }
  // A strand: the executor an elector would hand a backend.
  boost::asio::any_io_executor strand() { return boost::asio::make_strand(io_); }
  bool on_io_thread() const {
    for (auto& t : threads_)
      if (t.get_id() == std::this_thread::get_id()) return true;
    return false;
  }

 private:
  boost::asio::io_context io_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_;
  std::vector<std::thread> threads_;
};

// Polls cond until it holds or `limit` passes.
template <class Cond>
bool eventually(Cond cond, std::chrono::milliseconds limit) {
  const auto end = std::chrono::steady_clock::now() + limit;
  while (!cond()) {
    if (std::chrono::steady_clock::now() > end) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return true;
}

// Filled once (or counted) by a callback; the test waits for it.
template <class T>
class Box {
 public:
  void set(T v) {
    std::lock_guard<std::mutex> lk(mu_);
    ++count_;
    if (!v_) v_ = std::move(v);
    cv_.notify_all();
  }
  std::optional<T> wait(std::chrono::milliseconds limit = std::chrono::seconds(10)) {
    std::unique_lock<std::mutex> lk(mu_);
    cv_.wait_for(lk, limit, [&] { return v_.has_value(); });
    return v_;
  }
  int count() const {
    std::lock_guard<std::mutex> lk(mu_);
    return count_;
  }

 private:
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::optional<T> v_;
  int count_ = 0;
};

}  // namespace tenure::testing
