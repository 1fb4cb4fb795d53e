#include "tenure/net/fd_watcher.hpp"

#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/post.hpp>
#include <optional>

namespace tenure::net {

namespace asio = boost::asio;

// Completions carry the generation they were started in; rebind/cancel/release bump it, so a
// completion of an old registration (or of a descriptor the library has since replaced) is
// dropped rather than reported against the new socket.
struct FdWatcher::Impl {
  explicit Impl(asio::any_io_executor e) : ex(std::move(e)) {}
  asio::any_io_executor ex;
  std::optional<asio::posix::stream_descriptor> sd;
  uint64_t gen = 0;

  void drop() {
    ++gen;
    if (sd) {
      sd->release();  // deregisters from the reactor; the owning library keeps (and closes) the fd
      sd.reset();
    }
  }
};

FdWatcher::FdWatcher(asio::any_io_executor ex) : impl_(std::make_shared<Impl>(std::move(ex))) {}

FdWatcher::~FdWatcher() { impl_->drop(); }

void FdWatcher::rebind(int fd) {
  impl_->drop();
  fd_ = fd;
  if (fd >= 0) impl_->sd.emplace(impl_->ex, fd);
}

void FdWatcher::sync(int fd) {
  if (fd != fd_ || (fd >= 0 && !impl_->sd)) rebind(fd);
}

void FdWatcher::wait(Want want, std::function<void(Status)> done) {
  if (!impl_->sd) {
    asio::post(impl_->ex, [done = std::move(done)] {
      done(make_error(Errc::bad_state, "no socket to wait on (the connection is closed)"));
    });
    return;
  }
  const auto type = want == Want::read ? asio::posix::descriptor_base::wait_read
                                       : asio::posix::descriptor_base::wait_write;
  impl_->sd->async_wait(type, [impl = impl_, g = impl_->gen,
                               done = std::move(done)](const boost::system::error_code& ec) {
    if (g != impl->gen || ec == asio::error::operation_aborted) return;
    if (ec) return done(make_error(Errc::unreachable, "socket error: " + ec.message()));
    done({});
  });
}

void FdWatcher::cancel() {
  ++impl_->gen;
  if (impl_->sd) {
    boost::system::error_code ec;
    impl_->sd->cancel(ec);
  }
}

void FdWatcher::release() {
  impl_->drop();
  fd_ = -1;
}

}  // namespace tenure::net
