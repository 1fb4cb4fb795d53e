// Readiness of a socket another library owns (libpq's PQsocket, librdkafka's queue event fd):
// wait until it is readable or writable, with cancel, without ever closing the descriptor.
//
// Libraries may close their socket and open a new one that gets the same fd number (libpq trying
// the next host, or retrying without TLS). Asio's reactor would keep watching the old
// registration, so call rebind(fd) whenever the library may have reopened it (after each
// connect-poll step, after a reset): it drops the old registration even when the number is the
// same, and waits started before it are dropped (their callbacks never run).
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <cstdint>
#include <functional>
#include <memory>

#include "tenure/errors.hpp"

namespace tenure::net {

class FdWatcher {
 public:
  enum class Want { read, write };

  // Not thread-safe: use it on `ex` (a strand). Callbacks run on `ex`, never inline.
  explicit FdWatcher(boost::asio::any_io_executor ex);
  ~FdWatcher();  // releases (never closes) the descriptor; pending callbacks never run
  FdWatcher(const FdWatcher&) = delete;
  FdWatcher& operator=(const FdWatcher&) = delete;

  // Watch `fd` from now on (-1: none). Always re-registers, even for the same number.
  void rebind(int fd);
  // rebind(fd) only if fd differs from the current one: cheap to call after every step.
  void sync(int fd);
  int fd() const { return fd_; }

  // done(ok) once the descriptor is ready; done(Errc::unreachable "socket error: ...") when the
  // reactor reports an error. Errc::bad_state at once (posted) when no descriptor is bound.
  // One read and one write wait may be pending at the same time.
  void wait(Want want, std::function<void(Status)> done);
  // Drops pending waits: their callbacks never run. The binding stays.
  void cancel();
  // Drops pending waits and forgets the descriptor (still never closes it).
  void release();

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
  int fd_ = -1;
};

}  // namespace tenure::net
