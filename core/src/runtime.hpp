// The process-wide runtime: one I/O thread running an io_context for every elector's state
// machine and backend I/O, and one event thread delivering callbacks, so a slow callback never
// delays a renewal. Started on first use, stopped when the last elector lets go of it, or by
// tenure::shutdown. After fork() the child starts a fresh one (the parent's threads do not exist
// there) and treats everything inherited as inert.
#pragma once

#include <boost/asio/io_context.hpp>
#include <cstdint>
#include <memory>
#include <thread>

namespace tenure {

class Runtime {
 public:
  static std::shared_ptr<Runtime> get();
  ~Runtime();

  boost::asio::io_context& io() { return io_; }
  boost::asio::io_context& events() { return events_; }
  static bool on_event_thread();
  static bool on_io_thread();

  // Stops the current runtime and joins its threads (and finished teardowns). The object is kept
  // (retired, never destroyed) because electors still point at it; the next get() starts anew.
  static void shutdown_current();
  // Bumped in a forked child: objects created under an older generation belong to the parent.
  static uint64_t fork_generation();

 private:
  Runtime();
  void stop_and_join();
  boost::asio::io_context io_{1};
  boost::asio::io_context events_{1};
  std::thread io_thread_, event_thread_;
  bool joined_ = false;
};

// Reset in a forked child, before anything else runs there. Each module resets its own globals
// (mutexes that a parent thread may have held at fork, descriptors shared with the parent).
// Keeps p (the parent's state, moved out of a global) reachable and never freed, so that leak
// checkers do not report it and nothing runs its destructor.
void keep_after_fork(void* p);
void log_after_fork_child();
void electors_after_fork_child();
void threads_after_fork_child();

}  // namespace tenure
