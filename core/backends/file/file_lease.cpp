#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <random>

#include "file_session.hpp"

namespace tenure::backends::file {

void FileSession::acquire(Completion<AcquireOutcome> done) {
  run<AcquireOutcome>([this]() { return acquire_now(); }, std::move(done));
}

void FileSession::renew(uint64_t token, Completion<LeaseRecord> done) {
  run<LeaseRecord>(
      [this, token]() -> Result<LeaseRecord> {
        if (!leader_ || token != token_)
          return make_error(Errc::lost, "the lock on " + lock_path_ + " is not held by us");
        // Stamp first, then check the file: a standby that replaces the file after our check
        // reads this stamp from the old file afterwards and waits out our lease (take_over).
        if (auto s = stamp(timing_.lease_duration.count()); !s.ok()) return s;
        if (!same_file()) {
          unlock_and_reopen();
          return make_error(Errc::lost, lock_path_ +
                                            " was deleted or replaced (a standby takes over a "
                                            "holder that has not renewed within its lease), so "
                                            "our lock on it no longer excludes anyone: stepping "
                                            "down");
        }
        return to_record(stored_, true, file::read_stamp(fd_));
      },
      std::move(done));
}

void FileSession::release(uint64_t token, Completion<bool> done) {
  run<bool>(
      [this, token]() -> Result<bool> {
        if (!leader_ || token != token_)
          return make_error(Errc::lost, "the lock on " + lock_path_ + " is not held by us");
        // The record is written only under the guard and only while our file is still the
        // lock file: after a takeover it belongs to the successor. Without the guard (a process
        // frozen inside its critical section holds it) the record keeps our name, which
        // readers ignore once our lock is gone.
        Guard g = take_guard();
        bool current = same_file();
        Status s;
        if (g && current) {
          StoredLease l = stored_;
          l.holder.clear();
          s = file::write_lease(lease_path_, l);
        }
        // Unlock, then close: the close is what wakes the followers' inotify watch.
        unlock_and_reopen();
        if (!current)
          return make_error(Errc::lost, lock_path_ + " was replaced: the lease moved on");
        if (!s.ok()) return s;
        return true;
      },
      std::move(done));
}

void FileSession::read(Completion<LeaseRecord> done) {
  run<LeaseRecord>([this]() -> Result<LeaseRecord> { return read_record(); }, std::move(done));
}

// Candidate's acquire: lock the current lock file, or judge the holder's stamp (take_over).
Result<AcquireOutcome> FileSession::acquire_now() {
  if (fd_ < 0)
    if (auto s = open_lock(); !s.ok()) return s;
  if (!held_) {
    // A standby may have replaced the lock file since we opened it: lock the current one.
    if (!same_file()) unlock_and_reopen();
    if (!set_lock(fd_, F_WRLCK)) return follow_or_take_over();
    held_ = true;
    // Our stamp at once, so no standby judges us by the previous holder's old stamp.
    if (auto s = stamp(timing_.lease_duration.count()); !s.ok()) {
      unlock_and_reopen();
      return s;
    }
  }
  if (file::host_monotonic_ms() < not_before_) return wait_for_predecessor();
  Guard g = take_guard();
  if (!g) return not_acquired(kGuardBusyRetry);
  return claim_lease();
}

// Under the guard, holding the lock: write the record with the next token.
Result<AcquireOutcome> FileSession::claim_lease() {
  // The lock file may have been replaced after we opened it: a lock on an orphaned inode
  // guards nothing. The guard keeps it from being replaced from here on.
  if (!same_file()) {
    unlock_and_reopen();
    return not_acquired(milliseconds(1));
  }
  if (auto s = stamp(timing_.lease_duration.count()); !s.ok()) {
    unlock_and_reopen();
    return s;
  }
  auto prev = file::read_lease(lease_path_);
  if (!prev.ok()) {
    unlock_and_reopen();
    return prev.status;
  }
  StoredLease l = prev.value.value_or(StoredLease{});
  auto next = file::next_token(lease_path_, l.token);
  if (!next.ok()) {
    unlock_and_reopen();
    return next.status;
  }
  if (l.holder != identity_) ++l.transitions;
  l.holder = identity_;
  l.token = next.value;
  l.lease_duration_ms = timing_.lease_duration.count();
  l.acquired_unix_ms = unix_ms();
  l.pid = ::getpid();
  if (auto s = file::write_lease(lease_path_, l); !s.ok()) {
    unlock_and_reopen();
    return s;
  }
  token_ = l.token;
  stored_ = l;
  leader_ = true;
  not_before_ = 0;
  AcquireOutcome out;
  out.acquired = true;
  out.record = to_record(l, true, file::read_stamp(fd_));
  return out;
}

// retry_in: measured on the host's monotonic clock (the holder's stamp), told to the core on
// its executor clock. Negative: no time known (wait for the kernel lock's wake-up).
Result<AcquireOutcome> FileSession::not_acquired(milliseconds retry_in) {
  auto rec = read_record();
  if (!rec.ok()) return rec.status;
  AcquireOutcome out;
  out.record = rec.value;
  if (retry_in.count() >= 0) out.retry_at = exec_->now() + retry_in;
  return out;
}

// The lock is held elsewhere. A holder whose stamp is older than its lease by the host's
// monotonic clock is frozen (or hung): replace the lock file under the guard.
Result<AcquireOutcome> FileSession::follow_or_take_over() {
  auto st = file::read_stamp(fd_);
  // No stamp to judge (an older tenure, another boot, a torn read): wait for the kernel lock.
  if (!st || st->boot_id != file::this_boot_id()) return not_acquired(milliseconds(-1));
  int64_t expiry = st->mono_ms + st->lease_ms;
  int64_t now = file::host_monotonic_ms();
  if (now <= expiry) return not_acquired(milliseconds(expiry - now + 1));
  Guard g = take_guard();
  if (!g) return not_acquired(kGuardBusyRetry);
  return take_over();
}

// Under the guard (no one else replaces the file or writes the record meanwhile).
Result<AcquireOutcome> FileSession::take_over() {
  // Judge again: another standby may have taken over, the holder may have let go or renewed.
  if (!same_file()) {
    unlock_and_reopen();
    return not_acquired(milliseconds(1));
  }
  if (!lock_held_elsewhere(fd_)) return not_acquired(milliseconds(1));
  auto st = file::read_stamp(fd_);
  int64_t now = file::host_monotonic_ms();
  if (!st) return not_acquired(milliseconds(1));  // torn: the holder is renewing right now
  if (st->boot_id != file::this_boot_id()) return not_acquired(milliseconds(-1));
  if (now <= st->mono_ms + st->lease_ms)
    return not_acquired(milliseconds(st->mono_ms + st->lease_ms - now + 1));

  std::string tmp = lock_path_ + ".new." + std::to_string(::getpid()) + "." +
                    std::to_string(std::random_device{}());
  int nfd = ::open(tmp.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (nfd < 0)
    return make_error(Errc::backend, "cannot create " + tmp + ": " + file::errno_text(errno));
  int old_fd = std::exchange(fd_, nfd);
  Status s;
  if (!set_lock(nfd, F_WRLCK)) s = make_error(Errc::backend, "cannot lock the new file " + tmp);
  if (s.ok()) s = stamp(timing_.lease_duration.count());
  if (s.ok() && ::rename(tmp.c_str(), lock_path_.c_str()) != 0)
    s = make_error(Errc::backend,
                   "cannot rename " + tmp + " over " + lock_path_ + ": " + file::errno_text(errno));
  if (!s.ok()) {
    fd_ = old_fd;
    ::close(nfd);
    ::unlink(tmp.c_str());
    return s;
  }
  // A renewal that passed the holder's file check before our rename wrote its stamp before
  // it (renew stamps first), so it shows in the old file now: then the holder leads until
  // that renewal's lease ends, and so must we wait. It steps down at its next renewal.
  auto last = file::read_stamp(old_fd);
  ::close(old_fd);
  held_ = true;
  if (!last || last->mono_ms != st->mono_ms || last->lease_ms != st->lease_ms) {
    not_before_ = last ? last->mono_ms + last->lease_ms : now + st->lease_ms;
    if (file::host_monotonic_ms() < not_before_) return wait_for_predecessor();
  }
  return claim_lease();
}

// We hold the (replaced) lock file but the previous holder may lead until not_before_. Our
// stamp covers that time, so no other standby takes the file from us meanwhile.
Result<AcquireOutcome> FileSession::wait_for_predecessor() {
  int64_t now = file::host_monotonic_ms();
  int64_t lease = std::max<int64_t>(timing_.lease_duration.count(), not_before_ - now);
  if (auto s = stamp(lease); !s.ok()) return s;
  return not_acquired(milliseconds(std::max<int64_t>(0, not_before_ - now) + 1));
}

LeaseRecord FileSession::to_record(const StoredLease& l, bool held,
                                   const std::optional<file::LockStamp>& st) const {
  LeaseRecord r;
  r.token = l.token;
  r.transitions = l.transitions;
  if (!held) return r;
  r.holder = l.holder;
  r.lease_duration = milliseconds(l.lease_duration_ms);
  r.acquired_unix_ms = l.acquired_unix_ms;
  struct stat st_lock {};
  if (::stat(lock_path_.c_str(), &st_lock) == 0)
    r.renewed_unix_ms = int64_t(st_lock.st_mtim.tv_sec) * 1000 + st_lock.st_mtim.tv_nsec / 1000000;
  // When a standby may take over: the holder's last renewal plus its lease, by the host's
  // monotonic clock (the lock file's mtime is a wall clock, for people only).
  if (st && st->boot_id == file::this_boot_id())
    r.expires_in_ms = std::max<int64_t>(0, st->mono_ms + st->lease_ms - file::host_monotonic_ms());
  return r;
}

Result<LeaseRecord> FileSession::read_record() {
  if (fd_ < 0)
    if (auto s = open_lock(); !s.ok()) return s;
  if (!held_ && !same_file()) unlock_and_reopen();  // replaced: read the current one
  auto l = file::read_lease(lease_path_);
  if (!l.ok()) return l.status;
  StoredLease sl = l.value.value_or(StoredLease{});
  // A record naming a holder whose lock is gone belongs to a crashed process: no one leads.
  // A lock without a holder in the record is an acquisition still writing its record, and
  // so is a lock whose stamp names someone other than the record (a takeover in progress).
  bool held = held_ || lock_held_elsewhere(fd_);
  auto st = file::read_stamp(fd_);
  if (!held_ && st && st->identity != sl.holder) held = false;
  return to_record(sl, held && !sl.holder.empty(), st);
}
}  // namespace tenure::backends::file
