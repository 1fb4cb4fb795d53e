// Per-elector event delivery: by callback on the runtime's event thread, or queued for polling
// with an eventfd that is readable while events wait. Events are never delivered under a lock.
#pragma once

#include <atomic>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>

#include "tenure/elector.hpp"
#include "tenure/events.hpp"
#include "tenure/shared_queue.hpp"

namespace boost::asio {
class io_context;
}

namespace tenure {

class EventQueue : public std::enable_shared_from_this<EventQueue> {
 public:
  EventQueue();
  ~EventQueue();
  // For log records about this queue; before the first push.
  void set_labels(std::string election, std::string identity);

  // Before the first push. Callbacks run on `events` (the runtime's event thread).
  Status set_callback(EventCallback cb, boost::asio::io_context* events);
  // Before the first push, instead of a callback: events go to `shared`, tagged with `source`.
  Status set_shared(std::shared_ptr<SharedEventQueue> shared, const void* source);
  bool has_callback() const;
  void push(Event e);
  Result<Event> pop(std::chrono::milliseconds timeout);
  int fd();  // -1 when the kernel refuses an eventfd

  // Drops pending events and refuses new ones. Waits for a running callback to return, unless
  // the caller is that callback. Safe to call more than once.
  void close();
  bool in_callback() const { return callback_thread_.load() == std::this_thread::get_id(); }

 private:
  void drain();

  mutable std::mutex mu_;
  std::condition_variable cv_;
  struct Queued {
    Event event;
    std::chrono::steady_clock::time_point at;  // for the event-lag metric
  };
  std::deque<Queued> q_;
  EventCallback cb_;
  boost::asio::io_context* events_ = nullptr;
  bool drain_scheduled_ = false;
  bool closed_ = false;
  std::atomic<std::thread::id> callback_thread_{};
  int fd_ = -1;
  std::string election_, identity_;
  std::shared_ptr<SharedEventQueue> shared_;
  const void* source_ = nullptr;
};

}  // namespace tenure
