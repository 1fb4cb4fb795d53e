#include "tenure/shared_queue.hpp"

#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>

#include "tenure/process_metrics.hpp"

namespace tenure {

SharedEventQueue::~SharedEventQueue() {
  note_events_queued(-static_cast<int64_t>(q_.size()));
  if (fd_ >= 0) ::close(fd_);
}

int SharedEventQueue::fd() {
  std::lock_guard lock(mu_);
  if (fd_ < 0) fd_ = ::eventfd(q_.empty() ? 0 : 1, EFD_NONBLOCK | EFD_CLOEXEC);
  return fd_;
}

size_t SharedEventQueue::size() const {
  std::lock_guard lock(mu_);
  return q_.size();
}

void SharedEventQueue::push(const void* source, Event e) {
  {
    std::lock_guard lock(mu_);
    bool was_empty = q_.empty();
    q_.push_back(Item{source, std::move(e)});
    note_events_queued(1);
    if (was_empty && fd_ >= 0) {
      uint64_t one = 1;
      [[maybe_unused]] auto n = ::write(fd_, &one, sizeof one);
    }
  }
  cv_.notify_one();
}

void SharedEventQueue::remove(const void* source) {
  std::lock_guard lock(mu_);
  auto it = std::remove_if(q_.begin(), q_.end(), [&](const Item& i) { return i.source == source; });
  note_events_queued(-static_cast<int64_t>(q_.end() - it));
  q_.erase(it, q_.end());
  if (q_.empty() && fd_ >= 0) {
    uint64_t v;
    [[maybe_unused]] auto n = ::read(fd_, &v, sizeof v);
  }
}

Result<SharedEventQueue::Item> SharedEventQueue::pop(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mu_);
  if (!cv_.wait_for(lock, timeout, [&] { return !q_.empty(); }))
    return make_error(Errc::no_event, "no event within the timeout");
  Item item = std::move(q_.front());
  q_.pop_front();
  note_events_queued(-1);
  if (q_.empty() && fd_ >= 0) {
    uint64_t v;
    [[maybe_unused]] auto n = ::read(fd_, &v, sizeof v);
  }
  return item;
}

}  // namespace tenure
