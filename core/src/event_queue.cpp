#include "event_queue.hpp"

#include <sys/eventfd.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>

#include "tenure/log.hpp"
#include "tenure/process_metrics.hpp"

namespace tenure {

EventQueue::EventQueue() = default;

void EventQueue::set_labels(std::string election, std::string identity) {
  election_ = std::move(election);
  identity_ = std::move(identity);
}

int EventQueue::fd() {
  // Created on first use: callback-mode electors (most of them) never need a descriptor.
  std::lock_guard lock(mu_);
  if (fd_ < 0) {
    fd_ = ::eventfd(q_.empty() ? 0 : 1, EFD_NONBLOCK | EFD_CLOEXEC);
  }
  return fd_;
}

EventQueue::~EventQueue() {
  if (fd_ >= 0) ::close(fd_);
}

Status EventQueue::set_callback(EventCallback cb, boost::asio::io_context* events) {
  std::lock_guard lock(mu_);
  if (shared_)
    return make_error(Errc::bad_state,
                      "the elector's events go to a shared queue (set_queue); it cannot also "
                      "have a callback");
  cb_ = std::move(cb);
  events_ = events;
  return {};
}

Status EventQueue::set_shared(std::shared_ptr<SharedEventQueue> shared, const void* source) {
  std::lock_guard lock(mu_);
  if (cb_)
    return make_error(Errc::bad_state,
                      "the elector has a callback; an elector delivers to a callback or to a "
                      "queue, not both");
  if (shared_) return make_error(Errc::bad_state, "the elector is already attached to a queue");
  shared_ = std::move(shared);
  source_ = source;
  // Whatever was queued for polling moves over, in order (nothing, when set before start).
  while (!q_.empty()) {
    shared_->push(source_, std::move(q_.front().event));
    q_.pop_front();
    note_events_queued(-1);
  }
  return {};
}

bool EventQueue::has_callback() const {
  std::lock_guard lock(mu_);
  return static_cast<bool>(cb_);
}

void EventQueue::push(Event e) {
  bool schedule = false;
  {
    std::lock_guard lock(mu_);
    if (closed_) return;
    if (shared_) return shared_->push(source_, std::move(e));
    bool was_empty = q_.empty();
    q_.push_back(Queued{std::move(e), std::chrono::steady_clock::now()});
    note_events_queued(1);
    if (cb_ && events_) {
      schedule = !drain_scheduled_;
      drain_scheduled_ = true;
    } else if (was_empty && fd_ >= 0) {
      uint64_t one = 1;
      [[maybe_unused]] auto n = ::write(fd_, &one, sizeof one);
    }
  }
  cv_.notify_all();
  if (schedule) boost::asio::post(*events_, [self = shared_from_this()] { self->drain(); });
}

void EventQueue::drain() {
  for (;;) {
    Event e;
    std::chrono::steady_clock::time_point queued_at;
    EventCallback cb;
    {
      std::lock_guard lock(mu_);
      if (closed_ || q_.empty()) {
        drain_scheduled_ = false;
        cv_.notify_all();
        return;
      }
      e = std::move(q_.front().event);
      queued_at = q_.front().at;
      q_.pop_front();
      note_events_queued(-1);
      cb = cb_;
      callback_thread_ = std::this_thread::get_id();
    }
    const auto lag = std::chrono::duration_cast<std::chrono::microseconds>(
                         std::chrono::steady_clock::now() - queued_at)
                         .count();
    bool threw = true;
    try {
      cb(e);
      threw = false;
    } catch (const std::exception& ex) {
      // An exception from user code must not kill the event thread; it is logged and dropped.
      log(LogLevel::error, "core",
          std::string("the event callback threw (the event thread goes on): ") + ex.what(),
          election_, identity_);
    } catch (...) {
      log(LogLevel::error, "core",
          "the event callback threw a non-standard exception (the event thread goes on)", election_,
          identity_);
    }
    note_event_delivered(lag, threw);
    {
      std::lock_guard lock(mu_);
      callback_thread_ = std::thread::id();
    }
    cv_.notify_all();
  }
}

Result<Event> EventQueue::pop(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mu_);
  if (cb_)
    return make_error(Errc::bad_state,
                      "events go to the callback set with set_callback; "
                      "poll_event is for electors without a callback");
  if (shared_)
    return make_error(Errc::bad_state,
                      "events go to the shared queue this elector is attached to; poll that");
  if (!cv_.wait_for(lock, timeout, [&] { return !q_.empty() || closed_; }) || q_.empty())
    return make_error(Errc::no_event, "no event within the timeout");
  Event e = std::move(q_.front().event);
  q_.pop_front();
  note_events_queued(-1);
  if (q_.empty() && fd_ >= 0) {
    uint64_t v;
    [[maybe_unused]] auto n = ::read(fd_, &v, sizeof v);
  }
  return e;
}

void EventQueue::close() {
  std::unique_lock lock(mu_);
  closed_ = true;
  note_events_queued(-static_cast<int64_t>(q_.size()));
  q_.clear();
  if (shared_) shared_->remove(source_);
  cv_.notify_all();
  if (callback_thread_.load() == std::this_thread::get_id()) return;
  cv_.wait(lock, [&] { return callback_thread_.load() == std::thread::id(); });
}

}  // namespace tenure
