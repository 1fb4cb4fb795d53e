// The process-wide runtime: one I/O thread running an io_context for every elector's state
// machine and backend I/O, and one event thread delivering callbacks, so a slow callback never
// delays a renewal. Started on first use, stopped when the last elector lets go of it.
#pragma once

#include <boost/asio/io_context.hpp>
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

 private:
  Runtime();
  boost::asio::io_context io_{1};
  boost::asio::io_context events_{1};
  std::thread io_thread_, event_thread_;
};

}  // namespace tenure
