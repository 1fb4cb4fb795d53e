// The file backend's session: one elector's lock file, lease record and run ledger in DIR. Its
// file work runs on the process's file pool, one strand per session; the parts live in
// file_session.cpp (opening, watching, closing), file_lease.cpp (acquire, renew, release,
// takeover of a frozen holder) and file_ledger.cpp (the run-once ledger).
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "file_pool.hpp"
#include "file_store.hpp"
#include "inotify_hub.hpp"
#include "lock_stamp.hpp"
#include "ofd_lock.hpp"
#include "tenure/backend.hpp"
#include "tenure/delivery.hpp"
#include "tenure/ledger.hpp"

namespace tenure::backends::file {

using std::chrono::milliseconds;

// Wall-clock ms since the epoch, for the records people read.
int64_t unix_ms();

// The guard is held for milliseconds (one fsynced record write): wait that long for it, then
// retry a little later rather than tie up a file-pool thread. A process frozen inside its
// critical section delays every acquisition of this election until it thaws.
constexpr int kGuardWaitMs = 20;
constexpr milliseconds kGuardBusyRetry{100};

class FileSession : public LeaseBackend, public Ledger {
 public:
  FileSession(const BackendContext& ctx, std::string dir);
  ~FileSession() override;
  // Opens DIR/ELECTION.guard and DIR/ELECTION.lock (file_session.cpp).
  Status open_lock();
  Capabilities capabilities() const override;

  // The lease (file_lease.cpp).
  void acquire(Completion<AcquireOutcome> done) override;
  void renew(uint64_t token, Completion<LeaseRecord> done) override;
  void release(uint64_t token, Completion<bool> done) override;
  void read(Completion<LeaseRecord> done) override;

  // Watching and closing (file_session.cpp). attach_hub: the process's inotify hub, when there
  // is an io_context to read it on.
  void attach_hub();
  void start(LeaseSink& sink) override;
  void close(Clock::time_point, std::function<void()> done) override;
  Ledger* ledger() override { return this; }

  // The run-once ledger (file_ledger.cpp).
  void claim(const std::string& job, uint64_t token, const std::string& holder,
             UnfinishedPolicy policy, Completion<ClaimResult> done) override;
  void finish(const std::string& job, uint64_t token, bool success, const std::string& detail,
              Completion<RunRecord> done) override;
  void list(const std::string& prefix, size_t limit,
            Completion<std::vector<RunRecord>> done) override;
  void read(const std::string& job, Completion<RunRecord> done) override;

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

  Status stamp(int64_t lease_ms);
  Guard take_guard();
  Result<AcquireOutcome> acquire_now();
  Result<AcquireOutcome> claim_lease();
  Result<AcquireOutcome> not_acquired(milliseconds retry_in);
  Result<AcquireOutcome> follow_or_take_over();
  Result<AcquireOutcome> take_over();
  Result<AcquireOutcome> wait_for_predecessor();
  void unlock_and_reopen();
  bool same_file() const;
  Status fenced(const Guard& g, uint64_t token) const;
  std::string run_path(const std::string& job) const;
  LeaseRecord to_record(const StoredLease& l, bool held,
                        const std::optional<file::LockStamp>& st) const;
  Result<LeaseRecord> read_record();

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

}  // namespace tenure::backends::file
