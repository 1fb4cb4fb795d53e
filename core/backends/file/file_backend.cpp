#include "file_backend.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/thread_pool.hpp>
#include <cerrno>
#include <chrono>
#include <mutex>

#include "file_store.hpp"
#include "inotify_hub.hpp"

namespace tenure::backends {

namespace {

using namespace std::chrono;
using file::StoredLease;

int64_t unix_ms() {
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

// Blocking file work (fsync) runs here, never on the I/O thread.
std::shared_ptr<boost::asio::thread_pool> file_pool() {
  static std::mutex mu;
  static std::weak_ptr<boost::asio::thread_pool> weak;
  std::lock_guard lock(mu);
  auto pool = weak.lock();
  if (!pool) {
    pool = std::shared_ptr<boost::asio::thread_pool>(new boost::asio::thread_pool(2),
                                                     [](boost::asio::thread_pool* p) {
                                                       p->join();
                                                       delete p;
                                                     });
    weak = pool;
  }
  return pool;
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

class FileSession : public BackendSession, public Ledger {
 public:
  FileSession(const BackendContext& ctx, std::string dir)
      : dir_(std::move(dir)),
        election_(ctx.election),
        identity_(ctx.identity),
        timing_(ctx.timing),
        exec_(ctx.executor),
        io_(ctx.io),
        pool_(file_pool()),
        strand_(boost::asio::make_strand(*pool_)),
        alive_(std::make_shared<std::atomic<bool>>(true)) {
    lock_path_ = dir_ + "/" + election_ + ".lock";
    lease_path_ = dir_ + "/" + election_ + ".lease";
    runs_dir_ = dir_ + "/" + election_ + ".runs";
  }
  ~FileSession() override {
    if (fd_ >= 0) ::close(fd_);
  }

  Status open_lock() {
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
    run<AcquireOutcome>(
        [this]() -> Result<AcquireOutcome> {
          if (fd_ < 0)
            if (auto s = open_lock(); !s.ok()) return s;
          AcquireOutcome out;
          if (!held_) {
            if (!try_lock()) {
              auto rec = read_record();
              if (!rec.ok()) return rec.status;
              out.record = rec.value;
              return out;
            }
            // The lock file may have been unlinked and replaced after we opened it: a lock on an
            // orphaned inode guards nothing.
            if (!same_file()) {
              unlock_and_reopen();
              return make_error(Errc::backend, lock_path_ +
                                                   " was replaced while we held it open; "
                                                   "retrying on the new file");
            }
            held_ = true;
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
          ::futimens(fd_, nullptr);  // renewal time = lock file mtime (for status readers)
          out.acquired = true;
          out.record = to_record(l, true);
          return out;
        },
        std::move(done));
  }

  void renew(uint64_t token, Completion<LeaseRecord> done) override {
    run<LeaseRecord>(
        [this, token]() -> Result<LeaseRecord> {
          if (!held_ || token != token_)
            return make_error(Errc::lost, "the lock on " + lock_path_ + " is not held by us");
          if (!same_file()) {
            unlock_and_reopen();
            return make_error(Errc::lost, lock_path_ +
                                              " was deleted or replaced, so our lock on it "
                                              "no longer excludes anyone: stepping down");
          }
          ::futimens(fd_, nullptr);
          return to_record(stored_, true);
        },
        std::move(done));
  }

  void release(uint64_t token, Completion<bool> done) override {
    run<bool>(
        [this, token]() -> Result<bool> {
          if (!held_ || token != token_)
            return make_error(Errc::lost, "the lock on " + lock_path_ + " is not held by us");
          StoredLease l = stored_;
          l.holder.clear();
          Status s = file::write_lease(lease_path_, l);
          // Unlock, then close: the close is what wakes the followers' inotify watch.
          unlock_and_reopen();
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
    if (hub.ok()) hub_ = hub.value;  // else no push: the core polls at retry_period
  }

  void watch(std::function<void()> on_change) override {
    if (!hub_) return;
    auto id = hub_->subscribe(dir_, {election_ + ".lock", election_ + ".lease"}, exec_,
                              std::move(on_change));
    if (id.ok())
      sub_id_ = id.value;
    else
      watch_failed_ = true;
  }

  void close(std::function<void()> done) override {
    if (hub_ && sub_id_) hub_->unsubscribe(sub_id_);
    auto alive = alive_;
    boost::asio::post(strand_, [this, alive, exec = exec_, done = std::move(done)]() mutable {
      *alive = false;
      // Closing the file drops a lock we may still hold (stop timed out): never keep it.
      if (fd_ >= 0) ::close(fd_);
      fd_ = -1;
      held_ = false;
      exec->post(std::move(done));
    });
  }

  Ledger* ledger() override { return this; }

  void claim(const std::string& job, uint64_t token, const std::string& holder,
             UnfinishedPolicy policy, Completion<ClaimResult> done) override {
    run<ClaimResult>(
        [=, this]() -> Result<ClaimResult> {
          if (auto f = fenced(token); !f.ok()) return f;
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
          if (auto f = fenced(token); !f.ok()) return f;
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
  // Runs op on the file pool (this session's ops in order), completes on our executor.
  template <class T>
  void run(std::function<Result<T>()> op, Completion<T> done) {
    auto alive = alive_;
    boost::asio::post(strand_,
                      [alive, exec = exec_, op = std::move(op), done = std::move(done)]() mutable {
                        if (!*alive) return;
                        Result<T> r = op();
                        exec->post([alive, done = std::move(done), r = std::move(r)]() mutable {
                          if (*alive) done(std::move(r));
                        });
                      });
  }

  bool try_lock() {
    struct flock fl {};
    fl.l_type = F_WRLCK;
    fl.l_whence = SEEK_SET;
    fl.l_start = 0;
    fl.l_len = 1;
    return ::fcntl(fd_, F_OFD_SETLK, &fl) == 0;
  }

  void unlock_and_reopen() {
    held_ = false;
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

  Status fenced(uint64_t token) const {
    if (!held_ || token != token_)
      return make_error(Errc::fenced, "token " + std::to_string(token) +
                                          " is not this elector's current leadership token");
    return {};
  }

  std::string run_path(const std::string& job) const {
    return runs_dir_ + "/" + file::encode_file_name(job) + ".json";
  }

  LeaseRecord to_record(const StoredLease& l, bool held) const {
    LeaseRecord r;
    r.token = l.token;
    r.transitions = l.transitions;
    if (!held) return r;
    r.holder = l.holder;
    r.lease_duration = milliseconds(l.lease_duration_ms);
    r.acquired_unix_ms = l.acquired_unix_ms;
    struct stat st {};
    if (::stat(lock_path_.c_str(), &st) == 0) {
      r.renewed_unix_ms = int64_t(st.st_mtim.tv_sec) * 1000 + st.st_mtim.tv_nsec / 1000000;
      // Session-bound: the lease lasts as long as the holder's process; this is the nominal
      // expiry had the holder stopped renewing at its last renewal.
      r.expires_in_ms = std::max<int64_t>(0, l.lease_duration_ms - (unix_ms() - r.renewed_unix_ms));
    }
    return r;
  }

  Result<LeaseRecord> read_record() {
    if (fd_ < 0)
      if (auto s = open_lock(); !s.ok()) return s;
    auto l = file::read_lease(lease_path_);
    if (!l.ok()) return l.status;
    StoredLease sl = l.value.value_or(StoredLease{});
    // A record naming a holder whose lock is gone belongs to a crashed process: no one leads.
    // A lock without a holder in the record is an acquisition still writing its record.
    bool held = held_ || lock_held_elsewhere(fd_);
    return to_record(sl, held && !sl.holder.empty());
  }

  std::string dir_, election_, identity_, lock_path_, lease_path_, runs_dir_;
  Timing timing_;
  std::shared_ptr<Executor> exec_;
  boost::asio::any_io_executor io_;
  std::shared_ptr<boost::asio::thread_pool> pool_;
  boost::asio::strand<boost::asio::thread_pool::executor_type> strand_;
  std::shared_ptr<std::atomic<bool>> alive_;  // false once closed
  std::shared_ptr<file::InotifyHub> hub_;
  uint64_t sub_id_ = 0;
  bool watch_failed_ = false;  // executor state: no inotify watch, so no push
  // Pool-strand state:
  int fd_ = -1;
  bool held_ = false;
  uint64_t token_ = 0;
  StoredLease stored_;
};

}  // namespace

Result<std::unique_ptr<BackendSession>> make_file_backend(const BackendContext& ctx) {
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
  auto session = std::make_unique<FileSession>(ctx, dir);
  if (auto s = session->open_lock(); !s.ok()) return s;
  session->attach_hub();
  return std::unique_ptr<BackendSession>(std::move(session));
}

}  // namespace tenure::backends
