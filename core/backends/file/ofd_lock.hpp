// Open-file-description locks on byte 0 of a file (fcntl F_OFD_*), and the guard built on them.
#pragma once

#include <fcntl.h>

#include <utility>

namespace tenure::backends::file {

// Sets (F_WRLCK) or drops (F_UNLCK) this description's lock on byte 0, without waiting.
bool set_lock(int fd, short type);

// Is the lock held through some open file description? (Ours does not count: OFD locks of the
// same description never conflict with themselves.)
bool lock_held_elsewhere(int fd);

// The guard: a second OFD lock (DIR/ELECTION.guard), held only for the milliseconds in which a
// session writes the lease record or the run ledger, or replaces the lock file. It makes "is our
// file still the lock file?" and the write that depends on the answer one step, so a holder that
// was frozen and thaws can never write over its successor's record.
class Guard {
 public:
  Guard() = default;
  explicit Guard(int fd) : fd_(fd) {}
  Guard(Guard&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
  Guard& operator=(Guard&&) = delete;
  ~Guard() {
    if (fd_ >= 0) set_lock(fd_, F_UNLCK);
  }
  explicit operator bool() const { return fd_ >= 0; }

 private:
  int fd_ = -1;
};

}  // namespace tenure::backends::file
