// Executor over an Asio strand with steady timers: the production clock.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/strand.hpp>

#include "tenure/executor.hpp"

namespace tenure {

class AsioExecutor : public Executor {
 public:
  using Strand = boost::asio::strand<boost::asio::io_context::executor_type>;
  explicit AsioExecutor(boost::asio::io_context& io) : strand_(boost::asio::make_strand(io)) {}

  Clock::time_point now() const override { return Clock::now(); }
  void post(std::function<void()> fn) override;
  std::shared_ptr<Timer> after(Clock::duration delay, std::function<void()> fn) override;
  const Strand& strand() const { return strand_; }

 private:
  Strand strand_;
};

}  // namespace tenure
