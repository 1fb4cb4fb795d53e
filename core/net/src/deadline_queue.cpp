#include "tenure/net/deadline_queue.hpp"

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <mutex>
#include <set>
#include <unordered_map>

namespace tenure::net {

namespace asio = boost::asio;

// Entries stay in `entries` until their callback runs on the user's executor, so cancel() there
// reports exactly whether the callback ran. `order` holds entries not yet handed to the executor.
struct DeadlineQueue::Impl : std::enable_shared_from_this<DeadlineQueue::Impl> {
  Impl(asio::any_io_executor e) : ex(std::move(e)), strand(asio::make_strand(ex)), timer(strand) {}

  asio::any_io_executor ex;
  asio::strand<asio::any_io_executor> strand;  // the timer's
  asio::steady_timer timer;
  mutable std::mutex mu;
  struct Entry {
    Clock::time_point when;
    std::function<void()> fn;
  };
  std::unordered_map<Id, Entry> entries;
  std::set<std::pair<Clock::time_point, Id>> order;
  Clock::time_point armed = Clock::time_point::max();
  Id next_id = 1;
  bool closed = false;

  // On the strand: arm the timer for the earliest entry.
  void rearm() {
    Clock::time_point first;
    {
      std::lock_guard<std::mutex> lk(mu);
      if (closed || order.empty()) {
        armed = Clock::time_point::max();
        timer.cancel();
        return;
      }
      first = order.begin()->first;
      armed = first;
    }
    timer.expires_at(first);
    timer.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
      if (!ec) self->fire();
    });
  }

  void fire() {
    std::vector<Id> due;
    {
      std::lock_guard<std::mutex> lk(mu);
      if (closed) return;
      const auto now = Clock::now();
      while (!order.empty() && order.begin()->first <= now) {
        due.push_back(order.begin()->second);
        order.erase(order.begin());
      }
    }
    for (Id id : due) {
      asio::post(ex, [self = shared_from_this(), id] {
        std::function<void()> fn;
        {
          std::lock_guard<std::mutex> lk(self->mu);
          auto it = self->entries.find(id);
          if (it == self->entries.end()) return;  // cancelled meanwhile
          fn = std::move(it->second.fn);
          self->entries.erase(it);
        }
        fn();
      });
    }
    rearm();
  }
};

std::shared_ptr<DeadlineQueue> DeadlineQueue::create(asio::any_io_executor ex) {
  return std::shared_ptr<DeadlineQueue>(new DeadlineQueue(std::make_shared<Impl>(std::move(ex))));
}

DeadlineQueue::DeadlineQueue(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}

DeadlineQueue::~DeadlineQueue() { close(); }

DeadlineQueue::Id DeadlineQueue::add(Clock::time_point when, std::function<void()> fn) {
  bool earlier = false;
  Id id;
  {
    std::lock_guard<std::mutex> lk(impl_->mu);
    if (impl_->closed) return 0;
    id = impl_->next_id++;
    impl_->entries.emplace(id, Impl::Entry{when, std::move(fn)});
    impl_->order.emplace(when, id);
    if (when < impl_->armed) {
      impl_->armed = when;  // a rearm is on its way; later adds need none unless earlier still
      earlier = true;
    }
  }
  if (earlier) asio::post(impl_->strand, [impl = impl_] { impl->rearm(); });
  return id;
}

bool DeadlineQueue::cancel(Id id) {
  std::lock_guard<std::mutex> lk(impl_->mu);
  auto it = impl_->entries.find(id);
  if (it == impl_->entries.end()) return false;
  impl_->order.erase({it->second.when, id});  // absent when already handed to the executor
  impl_->entries.erase(it);
  // The timer may now fire for nothing; fire() finds no due entry and rearms. Cheaper than
  // re-arming on every cancel (most requests finish before their deadline).
  return true;
}

void DeadlineQueue::close() {
  {
    std::lock_guard<std::mutex> lk(impl_->mu);
    if (impl_->closed) return;
    impl_->closed = true;
    impl_->entries.clear();
    impl_->order.clear();
  }
  asio::post(impl_->strand, [impl = impl_] { impl->timer.cancel(); });
}

size_t DeadlineQueue::size() const {
  std::lock_guard<std::mutex> lk(impl_->mu);
  return impl_->entries.size();
}

}  // namespace tenure::net
