#include "event_queue.hpp"

#include <sys/eventfd.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>

namespace tenure {

EventQueue::EventQueue() = default;

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

void EventQueue::set_callback(EventCallback cb, boost::asio::io_context* events) {
  std::lock_guard lock(mu_);
  cb_ = std::move(cb);
  events_ = events;
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
    bool was_empty = q_.empty();
    q_.push_back(std::move(e));
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
    EventCallback cb;
    {
      std::lock_guard lock(mu_);
      if (closed_ || q_.empty()) {
        drain_scheduled_ = false;
        cv_.notify_all();
        return;
      }
      e = std::move(q_.front());
      q_.pop_front();
      cb = cb_;
      callback_thread_ = std::this_thread::get_id();
    }
    try {
      cb(e);
    } catch (...) {
      // An exception from user code must not kill the event thread; it is dropped here.
    }
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
  if (!cv_.wait_for(lock, timeout, [&] { return !q_.empty() || closed_; }) || q_.empty())
    return make_error(Errc::no_event, "no event within the timeout");
  Event e = std::move(q_.front());
  q_.pop_front();
  if (q_.empty() && fd_ >= 0) {
    uint64_t v;
    [[maybe_unused]] auto n = ::read(fd_, &v, sizeof v);
  }
  return e;
}

void EventQueue::close() {
  std::unique_lock lock(mu_);
  closed_ = true;
  q_.clear();
  cv_.notify_all();
  if (callback_thread_.load() == std::this_thread::get_id()) return;
  cv_.wait(lock, [&] { return callback_thread_.load() == std::thread::id(); });
}

}  // namespace tenure
