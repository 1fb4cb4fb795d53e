#include "asio_executor.hpp"

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

namespace tenure {

namespace {
// cancel() may be called from the strand only (the elector's), so no lock is needed: the
// cancelled flag also covers a completion already queued when cancel() ran.
class AsioTimer : public Timer, public std::enable_shared_from_this<AsioTimer> {
 public:
  AsioTimer(const AsioExecutor::Strand& s) : timer_(s) {}
  void start(Clock::duration d, std::function<void()> fn) {
    timer_.expires_after(d);
    timer_.async_wait(
        [self = shared_from_this(), fn = std::move(fn)](boost::system::error_code ec) {
          if (!ec && !self->cancelled_) fn();
        });
  }
  void cancel() override {
    cancelled_ = true;
    timer_.cancel();
  }

 private:
  boost::asio::steady_timer timer_;
  bool cancelled_ = false;
};
}  // namespace

void AsioExecutor::post(std::function<void()> fn) { boost::asio::post(strand_, std::move(fn)); }

std::shared_ptr<Timer> AsioExecutor::after(Clock::duration delay, std::function<void()> fn) {
  auto t = std::make_shared<AsioTimer>(strand_);
  t->start(delay, std::move(fn));
  return t;
}

}  // namespace tenure
