#include "inotify_hub.hpp"

#include <sys/inotify.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace tenure::backends::file {

namespace {
std::mutex g_mu;
std::weak_ptr<InotifyHub> g_hub;
}  // namespace

Result<std::shared_ptr<InotifyHub>> InotifyHub::get(boost::asio::io_context& io) {
  std::lock_guard lock(g_mu);
  // Only a hub of this io_context: after fork() the parent's (inherited, never run) is not ours.
  if (auto hub = g_hub.lock(); hub && &hub->sd_.get_executor().context() == &io) return hub;
  int fd = ::inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  if (fd < 0)
    return make_error(Errc::backend, std::string("inotify_init1 failed: ") + std::strerror(errno) +
                                         " (raise fs.inotify.max_user_instances)");
  auto hub = std::shared_ptr<InotifyHub>(new InotifyHub(io, fd));
  g_hub = hub;
  hub->read_more();
  return hub;
}

InotifyHub::InotifyHub(boost::asio::io_context& io, int fd) : fd_(fd), sd_(io, fd) {}

InotifyHub::~InotifyHub() {
  boost::system::error_code ec;
  sd_.close(ec);  // closes fd_
}

Result<uint64_t> InotifyHub::subscribe(const std::string& dir, std::set<std::string> names,
                                       std::shared_ptr<Executor> exec, std::function<void()> fn) {
  std::lock_guard lock(mu_);
  auto it = dirs_.find(dir);
  int wd;
  if (it == dirs_.end()) {
    wd = ::inotify_add_watch(fd_, dir.c_str(), IN_CLOSE_WRITE | IN_MOVED_TO | IN_DELETE);
    if (wd < 0)
      return make_error(Errc::backend,
                        "cannot watch " + dir + " with inotify: " + std::strerror(errno) +
                            (errno == ENOSPC ? " (raise fs.inotify.max_user_watches)" : ""));
    dirs_[dir] = {wd, 1};
  } else {
    wd = it->second.first;
    ++it->second.second;
  }
  uint64_t id = next_id_++;
  subs_[id] = Sub{wd, std::move(names), std::move(exec), std::move(fn)};
  return id;
}

void InotifyHub::unsubscribe(uint64_t id) {
  std::lock_guard lock(mu_);
  auto it = subs_.find(id);
  if (it == subs_.end()) return;
  int wd = it->second.wd;
  subs_.erase(it);
  for (auto d = dirs_.begin(); d != dirs_.end(); ++d) {
    if (d->second.first == wd && --d->second.second == 0) {
      ::inotify_rm_watch(fd_, wd);
      dirs_.erase(d);
      break;
    }
  }
}

void InotifyHub::read_more() {
  std::weak_ptr<InotifyHub> weak = shared_from_this();
  sd_.async_wait(boost::asio::posix::stream_descriptor::wait_read,
                 [weak](boost::system::error_code ec) {
                   auto self = weak.lock();
                   if (!self || ec) return;
                   for (;;) {
                     ssize_t n = ::read(self->fd_, self->buf_, sizeof self->buf_);
                     if (n <= 0) break;
                     std::lock_guard lock(self->mu_);
                     for (char* p = self->buf_; p < self->buf_ + n;) {
                       auto* ev = reinterpret_cast<inotify_event*>(p);
                       std::string name = ev->len ? std::string(ev->name) : std::string();
                       // On overflow the kernel dropped events: wake everyone to re-check.
                       bool overflow = ev->mask & IN_Q_OVERFLOW;
                       for (auto& [id, sub] : self->subs_)
                         if (overflow || (sub.wd == ev->wd && sub.names.count(name)))
                           sub.exec->post(sub.fn);
                       p += sizeof(inotify_event) + ev->len;
                     }
                   }
                   self->read_more();
                 });
}

}  // namespace tenure::backends::file
