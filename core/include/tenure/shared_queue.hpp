// One poll queue for many electors: events of every attached elector, in order per elector,
// each tagged with its source, behind one descriptor. So a host with 10,000 electors watches one
// fd with one poller instead of 10,000.
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>

#include "tenure/errors.hpp"
#include "tenure/events.hpp"

namespace tenure {

class SharedEventQueue {
 public:
  struct Item {
    const void* source = nullptr;  // the tag given to Elector::set_queue
    Event event;
  };
  SharedEventQueue() = default;
  ~SharedEventQueue();
  SharedEventQueue(const SharedEventQueue&) = delete;
  SharedEventQueue& operator=(const SharedEventQueue&) = delete;

  // The next event of any attached elector, waiting up to timeout. Errc::no_event when none.
  Result<Item> pop(std::chrono::milliseconds timeout);
  // Readable while events wait; reset only when the queue empties (drain until no_event).
  // -1 when the kernel refuses an eventfd.
  int fd();
  size_t size() const;

  // Called by electors: add an event, and drop a destroyed elector's pending events.
  void push(const void* source, Event e);
  void remove(const void* source);

 private:
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Item> q_;
  int fd_ = -1;
};

}  // namespace tenure
