// The LeaseBackend of the PostgreSQL backend. LeaseImpl is lease mode (the table row with
// server-side expiry); LockImpl (session mode) adds a session-level advisory lock on a dedicated
// connection. Both live on the elector's strand (ctx.io, which ctx.executor posts to); their
// callbacks hold them alive by shared_ptr and deliver nothing after close().
#pragma once

#include <memory>

#include "postgres/pg_hub.hpp"
#include "postgres/pg_sql.hpp"
#include "tenure/backend.hpp"
#include "tenure/delivery.hpp"

namespace tenure::backends::pg {

class PgLedger;

// What a session and its ledger share.
struct SessionCtx {
  explicit SessionCtx(const BackendContext& ctx) : io(ctx.io), exec(ctx.executor), delivery(exec) {}
  asio::any_io_executor io;
  std::shared_ptr<Executor> exec;  // the elector's: its clock is the one for expiry and graces
  Delivery delivery;               // closed by close()
  std::shared_ptr<PgHub> hub;
  std::string election;
  std::string identity;
  Timing timing;
  milliseconds request_timeout{0};
  LeaseSink* sink = nullptr;  // from start() until close
  bool closed = false;        // io strand only
  void report(Status s) {
    if (sink && !closed) sink->report(std::move(s));
  }
  // Ordering across connections: ledger statements issued after a release (session mode sends it
  // on the lock connection) wait until it is done, so they see its effect, as they would on one
  // connection. io strand only.
  int barrier = 0;
  std::vector<std::function<void()>> after_barrier;
  void when_clear(std::function<void()> fn) {
    if (barrier == 0) return fn();
    after_barrier.push_back(std::move(fn));
  }
  void leave_barrier() {
    if (--barrier > 0) return;
    auto fns = std::move(after_barrier);
    after_barrier.clear();
    for (auto& f : fns) f();
  }

  // Runs sql on conn; h runs later on io, only while the session is open.
  void run(const std::shared_ptr<PgConnection>& conn, const std::string& sql,
           std::vector<Param> params, milliseconds timeout, std::function<void(Result<PgResult>)> h,
           const std::shared_ptr<SessionCtx>& self);
  // Ensures the schema, then runs.
  void run_ready(const std::string& sql, std::vector<Param> params,
                 std::function<void(Result<PgResult>)> h, const std::shared_ptr<SessionCtx>& self);
};

class LeaseImpl : public std::enable_shared_from_this<LeaseImpl> {
 public:
  LeaseImpl(const BackendContext& ctx, std::shared_ptr<PgHub> hub);
  virtual ~LeaseImpl();
  virtual void init() {}
  virtual Capabilities capabilities() const;
  virtual void acquire(Completion<AcquireOutcome> done);
  virtual void renew(uint64_t token, Completion<LeaseRecord> done);
  virtual void release(uint64_t token, Completion<bool> done);
  void read(Completion<LeaseRecord> done);
  void start(LeaseSink& sink);
  virtual void close(std::function<void()> done);
  Ledger* ledger();

 protected:
  template <class T>
  void deliver(Completion<T> done, Result<T> r) {
    // Always from a handler posted to io, so never inline; dropped after close.
    if (!sc_->closed && done) done(std::move(r));
  }
  void wake();  // tell the elector the lease may have changed
  // After a failed acquire: the server said when the lease expires; the core wakes then.
  std::optional<Clock::time_point> retry_at_expiry(const LeaseRecord& rec) const;
  Clock::time_point retry_in(milliseconds d) const { return sc_->exec->now() + d; }
  // Shared handling of acquire/renew/release results (row 0: bool matched, record at 1).
  void finish_acquire(Result<PgResult> r, Completion<AcquireOutcome> done);
  void finish_renew(Result<PgResult> r, uint64_t token, Completion<LeaseRecord> done, bool session);
  void finish_release(Result<PgResult> r, uint64_t token, Completion<bool> done);
  Status lost_status(const LeaseRecord& now, uint64_t token) const;
  // take_abandoned: the token of a session-mode row whose takeover grace has been waited out.
  std::vector<Param> acquire_params(bool session, uint64_t take_abandoned) const;

  std::shared_ptr<SessionCtx> sc_;
  LeaseSql sql_;
  uint64_t sub_id_ = 0;
  std::unique_ptr<PgLedger> ledger_;
};

// Session mode (?mode=session).
class LockImpl : public LeaseImpl {
 public:
  LockImpl(const BackendContext& ctx, std::shared_ptr<PgHub> hub, bool allow_proxy,
           milliseconds takeover_grace);
  void init() override;
  Capabilities capabilities() const override;
  void acquire(Completion<AcquireOutcome> done) override;
  void renew(uint64_t token, Completion<LeaseRecord> done) override;
  void release(uint64_t token, Completion<bool> done) override;
  void close(std::function<void()> done) override;

 private:
  enum class Lock { none, waiting, held };
  void acquire_row(Completion<AcquireOutcome> done);
  void start_wait();
  void unlock();
  void set_held();  // the lock is ours: a timed-out statement must not reset its connection
  void set_not_held();
  void renew_row(uint64_t token, bool check_pid, Completion<LeaseRecord> done);
  // A standby: end the server session that still holds the lock of a released or expired row.
  void evict(const LeaseRecord& rec);
  milliseconds takeover_grace() const;

  void finish_pending(bool lock_granted);
  // How long one pg_advisory_lock() wait lasts before it is queued again (lock_timeout).
  long requeue_ms() const;

  bool allow_proxy_;
  milliseconds takeover_grace_;
  std::string lock_key_;
  // An acquire() that found the row free while our pg_advisory_lock() wait was still out: it
  // completes when the lock is granted (normally within milliseconds), or not acquired after a
  // short bound.
  Completion<AcquireOutcome> pending_acquire_;
  LeaseRecord pending_record_;
  std::shared_ptr<Timer> pending_timer_;
  std::shared_ptr<PgConnection> lock_conn_;
  std::string pool_key_;  // where lock_conn_ goes back to (PgHub::give_back_lock_connection)
  Lock lock_ = Lock::none;
  uint64_t lock_epoch_ = 0;  // changes when the lock connection is lost
  std::string lost_why_;     // the lock ended with its connection while we led
  // A row whose holder's lock session ended and whose process has no session left: its token and
  // when we first saw it so (the takeover grace counts from then).
  uint64_t abandoned_token_ = 0;
  Clock::time_point abandoned_seen_{};  // executor clock
  uint64_t evicting_token_ = 0;         // an expired holder's session is being ended
};

std::unique_ptr<LeaseBackend> make_session(std::shared_ptr<LeaseImpl> impl);

}  // namespace tenure::backends::pg
