// One inotify instance per process for every file-backend session (the kernel allows only 128
// instances per user by default, and 1,000 electors must fit). Followers learn of a release or a
// crashed holder from IN_CLOSE_WRITE on the lock file (the kernel closes a dead process's files)
// and of a new record from IN_MOVED_TO, so they never poll.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>

#include "tenure/errors.hpp"
#include "tenure/executor.hpp"

namespace tenure::backends::file {

class InotifyHub : public std::enable_shared_from_this<InotifyHub> {
 public:
  // The hub of the io_context's process; created on first use.
  static Result<std::shared_ptr<InotifyHub>> get(boost::asio::io_context& io);
  ~InotifyHub();

  // Calls fn on exec whenever one of `names` in `dir` is closed after writing or renamed into
  // place. Returns an id for unsubscribe.
  Result<uint64_t> subscribe(const std::string& dir, std::set<std::string> names,
                             std::shared_ptr<Executor> exec, std::function<void()> fn);
  void unsubscribe(uint64_t id);

 private:
  explicit InotifyHub(boost::asio::io_context& io, int fd);
  void read_more();

  struct Sub {
    int wd;
    std::set<std::string> names;
    std::shared_ptr<Executor> exec;
    std::function<void()> fn;
  };
  std::mutex mu_;
  int fd_;
  boost::asio::posix::stream_descriptor sd_;
  std::map<std::string, std::pair<int, int>> dirs_;  // dir -> (wd, refcount)
  std::map<uint64_t, Sub> subs_;
  uint64_t next_id_ = 1;
  char buf_[16384];
};

}  // namespace tenure::backends::file
