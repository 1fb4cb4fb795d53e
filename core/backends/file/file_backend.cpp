#include "file_backend.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>
#include <cerrno>
#include <chrono>
#include <mutex>
#include <random>
#include <thread>
#include <utility>
#include <vector>

#include "file_store.hpp"
#include "inotify_hub.hpp"
#include "lock_stamp.hpp"
#include "tenure/delivery.hpp"
#include "tenure/log.hpp"
#include "tenure/process.hpp"

namespace tenure::backends {

namespace {

using namespace std::chrono;
using file::StoredLease;

int64_t unix_ms() {
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

// Blocking file work (fsync) runs here, never on the I/O thread: two threads of tenure's own
// (so they carry the host's thread hooks), one pool per process (a forked child makes its own).
struct FilePool {
  boost::asio::io_context io{2};
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> guard =
      boost::asio::make_work_guard(io);
  std::vector<std::thread> threads;
  std::atomic<bool> stopped{false};  // by tenure::shutdown: work posted later never runs
  FilePool() {
    for (int i = 0; i < 2; ++i) threads.push_back(spawn_thread("tenure-file", [this] { run(); }));
  }
  ~FilePool() { stop(false); }
  // An exception from file work must not end the thread (std::terminate): log it, go on.
  void run() {
    for (;;) {
      try {
        io.run();
        return;
      } catch (const std::exception& e) {
        log(LogLevel::error, "file", std::string("file work threw: ") + e.what());
      } catch (...) {
        log(LogLevel::error, "file", "file work threw a non-standard exception");
      }
    }
  }
  void stop(bool now) {
    guard.reset();
    if (now) {
      stopped = true;
      io.stop();
    }
    for (auto& t : threads) {
      if (!t.joinable()) continue;
      if (t.get_id() == std::this_thread::get_id())
        t.detach();  // the last session was freed on a pool thread: it ends on its own
      else
        t.join();
    }
  }
};

std::shared_ptr<FilePool> file_pool() {
  // Never destroyed: electors may be created from an atexit handler after static destructors.
  static auto* mu = new std::mutex();
  static auto* weak = new std::weak_ptr<FilePool>();
  static uint64_t generation = 0;
  if (generation != fork_generation()) {
    // In a forked child the parent's pool (and a lock a parent thread held) is not ours.
    new (mu) std::mutex();
    new (weak) std::weak_ptr<FilePool>();
    generation = fork_generation();
  }
  std::lock_guard lock(*mu);
  auto pool = weak->lock();
  if (!pool || pool->stopped) {
    pool = std::make_shared<FilePool>();
    *weak = pool;
    // Joined by tenure::shutdown like the runtime's own threads.
    on_shutdown([w = std::weak_ptr<FilePool>(pool)] {
      if (auto p = w.lock()) p->stop(true);
    });
  }
  return pool;
}

// Sets (F_WRLCK) or drops (F_UNLCK) this description's lock on byte 0, without waiting.
bool set_lock(int fd, short type) {
  struct flock fl {};
  fl.l_type = type;
  fl.l_whence = SEEK_SET;
  fl.l_start = 0;
  fl.l_len = 1;
  return ::fcntl(fd, F_OFD_SETLK, &fl) == 0;
}

// Is the lock held through some open file description? (Ours does not count: OFD locks of the
// same description never conflict with themselves.)
bool lock_held_elsewhere(int fd) {
  struct flock fl {};
  fl.l_type = F_WRLCK;
  fl.l_whence = SEEK_SET;
  fl.l_start = 0;
  fl.l_len = 1;
  if (::fcntl(fd, F_OFD_GETLK, &fl) != 0) return false;
  return fl.l_type != F_UNLCK;
}

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

// The guard is held for milliseconds (one fsynced record write): wait that long for it, then
// retry a little later rather than tie up a file-pool thread. A process frozen inside its
// critical section delays every acquisition of this election until it thaws.
constexpr int kGuardWaitMs = 20;
constexpr milliseconds kGuardBusyRetry{100};

class FileBackend : public LeaseBackend, public Ledger {
 public:
  FileBackend(const BackendContext& ctx, std::string dir)
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
  ~FileBackend() override {
    if (fd_ >= 0) ::close(fd_);
    if (guard_fd_ >= 0) ::close(guard_fd_);
  }

  Status open_lock() {
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

  Capabilities capabilities() const override {
    return {
        .session_bound = true, .push_wakeup = true, .server_side_expiry = false, .ledger = true};
  }

  void acquire(Completion<AcquireOutcome> done) override {
    run<AcquireOutcome>([this]() { return acquire_now(); }, std::move(done));
  }

  void renew(uint64_t token, Completion<LeaseRecord> done) override {
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

  void release(uint64_t token, Completion<bool> done) override {
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

  void read(Completion<LeaseRecord> done) override {
    run<LeaseRecord>([this]() -> Result<LeaseRecord> { return read_record(); }, std::move(done));
  }

  // The process's inotify hub, when there is an io_context to read it on.
  void attach_hub() {
    if (!io_) return;
    auto* io = &static_cast<boost::asio::io_context&>(
        boost::asio::query(io_, boost::asio::execution::context));
    auto hub = file::InotifyHub::get(*io);
    if (hub.ok())
      hub_ = hub.value;
    else  // no push: the core polls at retry_period
      log(LogLevel::warn, "file", hub.status.message + "; polling at retry_period instead",
          election_, identity_);
  }

  void start(LeaseSink& sink) override {
    if (!hub_) return;
    auto id = hub_->subscribe(dir_, {election_ + ".lock", election_ + ".lease"}, exec_,
                              [d = delivery_, sink = &sink] {
                                if (d.is_open()) sink->changed();
                              });
    if (id.ok()) {
      sub_id_ = id.value;
    } else {
      watch_failed_ = true;
      log(LogLevel::warn, "file", id.status.message + "; polling at retry_period instead",
          election_, identity_);
    }
  }

  void close(Clock::time_point, std::function<void()> done) override {
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

  Ledger* ledger() override { return this; }

  void claim(const std::string& job, uint64_t token, const std::string& holder,
             UnfinishedPolicy policy, Completion<ClaimResult> done) override {
    run<ClaimResult>(
        [=, this]() -> Result<ClaimResult> {
          Guard g = take_guard();
          if (auto f = fenced(g, token); !f.ok()) return f;
          if (::mkdir(runs_dir_.c_str(), 0755) != 0 && errno != EEXIST)
            return make_error(Errc::backend,
                              "cannot create " + runs_dir_ + ": " + file::errno_text(errno));
          auto path = run_path(job);
          auto prev = file::read_run(path);
          if (!prev.ok()) return prev.status;
          ClaimResult out;
          if (prev.value) out.previous = *prev.value;
          if (!may_claim(out.previous, token, policy)) return out;
          if (auto s = file::write_run(path, started_run(job, token, holder)); !s.ok()) return s;
          out.claimed = true;
          return out;
        },
        std::move(done));
  }

  void finish(const std::string& job, uint64_t token, bool success, const std::string& detail,
              Completion<RunRecord> done) override {
    run<RunRecord>(
        [=, this]() -> Result<RunRecord> {
          Guard g = take_guard();
          if (auto f = fenced(g, token); !f.ok()) return f;
          auto path = run_path(job);
          auto cur = file::read_run(path);
          if (!cur.ok()) return cur.status;
          if (!cur.value || cur.value->token != token)
            return make_error(Errc::fenced, "job '" + job + "' was claimed under another token");
          RunRecord r = *cur.value;
          r.status = success ? RunStatus::finished : RunStatus::failed;
          r.finished_unix_ms = unix_ms();
          r.detail = detail;
          if (auto s = file::write_run(path, r); !s.ok()) return s;
          return r;
        },
        std::move(done));
  }

  void read(const std::string& job, Completion<RunRecord> done) override {
    run<RunRecord>(
        [=, this]() -> Result<RunRecord> {
          auto cur = file::read_run(run_path(job));
          if (!cur.ok()) return cur.status;
          if (cur.value) return *cur.value;
          RunRecord r;
          r.job_key = job;
          return r;
        },
        std::move(done));
  }

  void list(const std::string& prefix, size_t limit,
            Completion<std::vector<RunRecord>> done) override {
    run<std::vector<RunRecord>>(
        [=, this]() -> Result<std::vector<RunRecord>> {
          if (auto st = validate_job_prefix(prefix); !st.ok()) return st;
          // File names encode keys character by character, so a key's prefix is a name prefix.
          auto names = file::list_run_files(runs_dir_, file::encode_file_name(prefix));
          if (!names.ok()) return names.status;
          std::vector<RunRecord> out;
          for (const auto& name : names.value) {
            auto rec = file::read_run(runs_dir_ + "/" + name);
            if (!rec.ok()) return rec.status;
            if (rec.value && rec.value->job_key.compare(0, prefix.size(), prefix) == 0)
              out.push_back(*rec.value);
          }
          keep_last(out, limit);
          return out;
        },
        std::move(done));
  }

 private:
  // File work that throws (out of memory, a bug) completes with an error instead of never.
  template <class T>
  static Result<T> guarded_op(const std::function<Result<T>()>& op) {
    try {
      return op();
    } catch (const std::exception& e) {
      return make_error(Errc::internal, std::string("file work threw: ") + e.what());
    } catch (...) {
      return make_error(Errc::internal, "file work threw a non-standard exception");
    }
  }

  // Runs op on the file pool (this session's ops in order), completes on our executor.
  template <class T>
  void run(std::function<Result<T>()> op, Completion<T> done) {
    // Work queued before close() still runs (a release must reach the file); its answer is
    // dropped by the delivery. Work queued after the close's own step never runs.
    boost::asio::post(strand_, [closed = pool_closed_, d = delivery_, op = std::move(op),
                                done = std::move(done)]() mutable {
      if (*closed) return;
      d.complete<T>(std::move(done), guarded_op(op));
    });
  }

  Status stamp(int64_t lease_ms) {
    return file::write_stamp(
        fd_, {file::this_boot_id(), file::host_monotonic_ms(), lease_ms, ::getpid(), identity_});
  }

  Guard take_guard() {
    for (int i = 0; i < kGuardWaitMs && guard_fd_ >= 0; ++i) {
      if (set_lock(guard_fd_, F_WRLCK)) return Guard(guard_fd_);
      std::this_thread::sleep_for(milliseconds(1));
    }
    return Guard();
  }

  // Candidate's acquire: lock the current lock file, or judge the holder's stamp (take_over).
  Result<AcquireOutcome> acquire_now() {
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
  Result<AcquireOutcome> claim_lease() {
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
  Result<AcquireOutcome> not_acquired(milliseconds retry_in) {
    auto rec = read_record();
    if (!rec.ok()) return rec.status;
    AcquireOutcome out;
    out.record = rec.value;
    if (retry_in.count() >= 0) out.retry_at = exec_->now() + retry_in;
    return out;
  }

  // The lock is held elsewhere. A holder whose stamp is older than its lease by the host's
  // monotonic clock is frozen (or hung): replace the lock file under the guard.
  Result<AcquireOutcome> follow_or_take_over() {
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
  Result<AcquireOutcome> take_over() {
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
      s = make_error(Errc::backend, "cannot rename " + tmp + " over " + lock_path_ + ": " +
                                        file::errno_text(errno));
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
  Result<AcquireOutcome> wait_for_predecessor() {
    int64_t now = file::host_monotonic_ms();
    int64_t lease = std::max<int64_t>(timing_.lease_duration.count(), not_before_ - now);
    if (auto s = stamp(lease); !s.ok()) return s;
    return not_acquired(milliseconds(std::max<int64_t>(0, not_before_ - now) + 1));
  }

  void unlock_and_reopen() {
    held_ = leader_ = false;
    not_before_ = 0;
    if (fd_ >= 0) ::close(fd_);  // dropping the description drops its lock
    fd_ = -1;
    open_lock();
  }

  bool same_file() const {
    struct stat a {
    }, b{};
    if (::fstat(fd_, &a) != 0 || ::stat(lock_path_.c_str(), &b) != 0) return false;
    return a.st_ino == b.st_ino && a.st_dev == b.st_dev && a.st_nlink > 0;
  }

  // Ledger writes need the guard and a lock file that is still ours, so a leader that froze
  // and thawed after a takeover cannot record a run under its old token.
  Status fenced(const Guard& g, uint64_t token) const {
    if (!leader_ || token != token_ || !same_file())
      return make_error(Errc::fenced, "token " + std::to_string(token) +
                                          " is not this elector's current leadership token");
    if (!g)
      return make_error(Errc::backend, "another process holds " + guard_path_ +
                                           " (it may be frozen inside a write); retry");
    return {};
  }

  std::string run_path(const std::string& job) const {
    return runs_dir_ + "/" + file::encode_file_name(job) + ".json";
  }

  LeaseRecord to_record(const StoredLease& l, bool held,
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
      r.renewed_unix_ms =
          int64_t(st_lock.st_mtim.tv_sec) * 1000 + st_lock.st_mtim.tv_nsec / 1000000;
    // When a standby may take over: the holder's last renewal plus its lease, by the host's
    // monotonic clock (the lock file's mtime is a wall clock, for people only).
    if (st && st->boot_id == file::this_boot_id())
      r.expires_in_ms =
          std::max<int64_t>(0, st->mono_ms + st->lease_ms - file::host_monotonic_ms());
    return r;
  }

  Result<LeaseRecord> read_record() {
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

  std::string dir_, election_, identity_, lock_path_, lease_path_, runs_dir_, guard_path_;
  Timing timing_;
  std::shared_ptr<Executor> exec_;
  boost::asio::any_io_executor io_;
  std::shared_ptr<FilePool> pool_;
  boost::asio::strand<boost::asio::io_context::executor_type> strand_;
  Delivery delivery_;  // closed by close(): nothing completes after it
  std::shared_ptr<bool> pool_closed_ = std::make_shared<bool>(false);  // pool strand only
  std::shared_ptr<file::InotifyHub> hub_;
  uint64_t sub_id_ = 0;
  bool watch_failed_ = false;  // executor state: no inotify watch, so no push
  // Pool-strand state:
  int fd_ = -1;             // the lock file as we opened it (replaced files are reopened)
  int guard_fd_ = -1;       // DIR/ELECTION.guard
  bool held_ = false;       // we hold the OFD lock on fd_
  bool leader_ = false;     // ...and wrote the record: token_ is ours
  int64_t not_before_ = 0;  // after a takeover from a slow holder: lead from this host-monotonic ms
  uint64_t token_ = 0;
  StoredLease stored_;
};

}  // namespace

Result<std::unique_ptr<LeaseBackend>> make_file_backend(const BackendContext& ctx) {
  const Url& u = ctx.url;
  if (!u.host.empty() && u.host != "localhost")
    return make_error(Errc::bad_url, "file backend URL '" + u.redacted() + "' names host '" +
                                         u.host +
                                         "'; use three slashes and an absolute path: "
                                         "file:///var/lib/tenure");
  if (u.path.empty() || u.path == "/")
    return make_error(Errc::bad_url, "file backend URL '" + u.redacted() +
                                         "' has no directory; use file:///var/lib/tenure");
  std::string dir = u.path;
  while (dir.size() > 1 && dir.back() == '/') dir.pop_back();
  if (auto s = file::ensure_writable_dir(dir); !s.ok()) return s;
  auto session = std::make_unique<FileBackend>(ctx, dir);
  if (auto s = session->open_lock(); !s.ok()) return s;
  session->attach_hub();
  return std::unique_ptr<LeaseBackend>(std::move(session));
}

}  // namespace tenure::backends
