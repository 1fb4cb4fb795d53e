#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <cerrno>
#include <thread>

#include "file_session.hpp"
#include "tenure/log.hpp"

namespace tenure::backends::file {

using namespace std::chrono;

int64_t unix_ms() {
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

FileSession::FileSession(const BackendContext& ctx, std::string dir)
    : dir_(std::move(dir)),
      election_(ctx.election),
      identity_(ctx.identity),
      timing_(ctx.timing),
      exec_(ctx.executor),
      io_(ctx.io),
      pool_(file_pool()),
      strand_(boost::asio::make_strand(pool_->io)),
      delivery_(ctx.executor) {
  lock_path_ = dir_ + "/" + election_ + ".lock";
  lease_path_ = dir_ + "/" + election_ + ".lease";
  runs_dir_ = dir_ + "/" + election_ + ".runs";
  guard_path_ = dir_ + "/" + election_ + ".guard";
}

FileSession::~FileSession() {
  if (fd_ >= 0) ::close(fd_);
  if (guard_fd_ >= 0) ::close(guard_fd_);
}

Status FileSession::open_lock() {
  if (guard_fd_ < 0) {
    guard_fd_ = ::open(guard_path_.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (guard_fd_ < 0)
      return make_error(errno == EACCES ? Errc::permission_denied : Errc::backend,
                        "cannot open " + guard_path_ + ": " + file::errno_text(errno));
  }
  fd_ = ::open(lock_path_.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd_ < 0)
    return make_error(errno == EACCES ? Errc::permission_denied : Errc::backend,
                      "cannot open " + lock_path_ + ": " + file::errno_text(errno));
  return {};
}

Capabilities FileSession::capabilities() const {
  return {.session_bound = true, .push_wakeup = true, .server_side_expiry = false, .ledger = true};
}

// The process's inotify hub, when there is an io_context to read it on.
void FileSession::attach_hub() {
  if (!io_) return;
  auto* io = &static_cast<boost::asio::io_context&>(
      boost::asio::query(io_, boost::asio::execution::context));
  auto hub = file::InotifyHub::get(*io);
  if (hub.ok())
    hub_ = hub.value;
  else  // no push: the core polls at retry_period
    log(LogLevel::warn, "file", hub.status.message + "; polling at retry_period instead", election_,
        identity_);
}

void FileSession::start(LeaseSink& sink) {
  if (!hub_) return;
  auto id = hub_->subscribe(dir_, {election_ + ".lock", election_ + ".lease"}, exec_,
                            [d = delivery_, sink = &sink] {
                              if (d.is_open()) sink->changed();
                            });
  if (id.ok()) {
    sub_id_ = id.value;
  } else {
    watch_failed_ = true;
    log(LogLevel::warn, "file", id.status.message + "; polling at retry_period instead", election_,
        identity_);
  }
}

void FileSession::close(Clock::time_point, std::function<void()> done) {
  if (hub_ && sub_id_) hub_->unsubscribe(sub_id_);
  delivery_.close();
  boost::asio::post(strand_, [this, exec = exec_, done = std::move(done)]() mutable {
    *pool_closed_ = true;
    // Closing the file drops a lock we may still hold (stop timed out): never keep it.
    if (fd_ >= 0) ::close(fd_);
    if (guard_fd_ >= 0) ::close(guard_fd_);
    fd_ = guard_fd_ = -1;
    held_ = leader_ = false;
    exec->post(std::move(done));
  });
}

Status FileSession::stamp(int64_t lease_ms) {
  return file::write_stamp(
      fd_, {file::this_boot_id(), file::host_monotonic_ms(), lease_ms, ::getpid(), identity_});
}

Guard FileSession::take_guard() {
  for (int i = 0; i < kGuardWaitMs && guard_fd_ >= 0; ++i) {
    if (set_lock(guard_fd_, F_WRLCK)) return Guard(guard_fd_);
    std::this_thread::sleep_for(milliseconds(1));
  }
  return Guard();
}

void FileSession::unlock_and_reopen() {
  held_ = leader_ = false;
  not_before_ = 0;
  if (fd_ >= 0) ::close(fd_);  // dropping the description drops its lock
  fd_ = -1;
  open_lock();
}

bool FileSession::same_file() const {
  struct stat a {
  }, b{};
  if (::fstat(fd_, &a) != 0 || ::stat(lock_path_.c_str(), &b) != 0) return false;
  return a.st_ino == b.st_ino && a.st_dev == b.st_dev && a.st_nlink > 0;
}
}  // namespace tenure::backends::file
