// Session mode (?mode=session): leadership is also a session-level advisory lock held on a
// dedicated connection. A crashed leader's lock is released by the server as its connection
// closes, and a standby blocked in pg_advisory_lock() takes over at once. The lease row is still
// written (readable by operators, guards the ledger, carries the fencing token).
//
// The rule that keeps two leaders apart: a leader whose lock connection ends, for any reason,
// steps down at once (renew fails with Errc::lost without asking the server), and a statement of
// a leader that times out does not reset the connection (that would free the lock under a leader
// that has not yet stepped down). A standby granted the lock takes a row still within its lease
// only when the holder's process has no session left on the server (it crashed), after a short
// grace; a live holder is waited for until it releases the row or the row expires. A holder whose
// lease has expired but whose session still holds the lock (a frozen process, a connection kept
// open by a proxy) has that session ended by the standby (pg_terminate_backend).
#include <algorithm>
#include <boost/asio/post.hpp>

#include "postgres/pg_ledger.hpp"
#include "postgres/pg_session.hpp"

namespace tenure::backends::pg {

LockImpl::LockImpl(const BackendContext& ctx, std::shared_ptr<PgHub> hub, bool allow_proxy,
                   milliseconds takeover_grace)
    : LeaseImpl(ctx, std::move(hub)), allow_proxy_(allow_proxy), takeover_grace_(takeover_grace) {
  const Names& n = sc_->hub->config().names;
  lock_key_ = "tenure:" + n.schema + "." + n.table + ":" + sc_->election;
}

void LockImpl::init() {
  // The server notices a vanished client host (no FIN: power loss, partition) by TCP keepalive.
  // It must not free the lock before the old leader has stepped down (renew_deadline), so the
  // probe time stays above lease_duration.
  const long idle = std::max<long>(1, (sc_->timing.lease_duration.count() + 999) / 1000);
  // A server backend blocked in pg_advisory_lock() does not read its socket, so a standby that
  // closed its connection (stopped, or killed) would stay queued for the lock until granted it;
  // client_connection_check_interval (PostgreSQL 14+) makes the server notice within a second.
  // A standby's wait runs as one statement, and a running statement holds a snapshot: its xmin
  // would hold back VACUUM in the whole database for as long as the standby waits (days, maybe).
  // So the wait ends after lock_timeout and is queued again at once (start_wait): the snapshot it
  // holds is never older than that.
  const std::vector<std::string> setup = {
      "SET statement_timeout = 0; SET lock_timeout = " + std::to_string(requeue_ms()) +
      "; SET tcp_keepalives_idle = " + std::to_string(idle) +
      "; SET tcp_keepalives_interval = 1; SET tcp_keepalives_count = 3; "
      "SELECT CASE WHEN current_setting('server_version_num')::int >= 140000 THEN "
      "set_config('client_connection_check_interval', '1000', false) END"};
  // Prepared at connect: after a lock wait returns, the row statement runs at once.
  const std::vector<std::string> prepare = {sql_.lock_try, sql_.lock_wait, sql_.lock_release,
                                            sql_.acquire,  sql_.renew,     sql_.release_unlock};
  lock_conn_ = sc_->hub->take_lock_connection(setup, !allow_proxy_, prepare, pool_key_);
  lock_conn_->set_keep_on_timeout(false);
  std::weak_ptr<LeaseImpl> w = shared_from_this();
  lock_conn_->set_on_lost([w](const Status& why) {
    auto self = std::static_pointer_cast<LockImpl>(w.lock());
    if (!self) return;
    asio::post(self->sc_->io, [self, why] {
      if (self->sc_->closed) return;
      // The server freed our advisory lock with the connection. If we led, a standby may be
      // granted it right now: the elector steps down at once (sink.lost), and a renewal that
      // was already out fails without asking the server (see renew).
      const bool held = self->lock_ == Lock::held;
      self->set_not_held();
      ++self->lock_epoch_;
      if (held) self->lost_why_ = why.message;
      self->finish_pending(false);
      if (held && self->sc_->sink)
        self->sc_->sink->lost(make_error(
            Errc::lost, "the advisory lock of election '" + self->sc_->election +
                            "' ended with its connection (" + why.message +
                            "); the server has freed it, so another candidate may lead now"));
      self->wake();
    });
  });
}

void LockImpl::set_held() {
  lock_ = Lock::held;
  lost_why_.clear();
  lock_conn_->set_keep_on_timeout(true);
}

void LockImpl::set_not_held() {
  lock_ = Lock::none;
  lock_conn_->set_keep_on_timeout(false);
}

milliseconds LockImpl::takeover_grace() const {
  // Long enough for a live holder that heard its lock connection end to step down first (it
  // needs no round trip for that); short, because a crashed holder is waited for just as long.
  // Never more than half the safety margin.
  return std::min(takeover_grace_, (sc_->timing.lease_duration - sc_->timing.renew_deadline) / 2);
}

long LockImpl::requeue_ms() const {
  return std::clamp<long>(sc_->timing.lease_duration.count(), 1000, 10000);
}

Capabilities LockImpl::capabilities() const {
  Capabilities c = LeaseImpl::capabilities();
  c.session_bound = true;
  return c;
}

void LockImpl::acquire(Completion<AcquireOutcome> done) {
  auto self = std::static_pointer_cast<LockImpl>(shared_from_this());
  if (!sc_->hub->schema_ready()) {
    sc_->hub->ensure_schema(sc_->request_timeout, [self, done](Status s) {
      asio::post(self->sc_->io, [self, s, done] {
        if (self->sc_->closed) return;
        if (!s.ok()) return self->deliver<AcquireOutcome>(done, s);
        self->acquire(done);
      });
    });
    return;
  }
  auto not_acquired = [self, done] {
    // The standby waits in pg_advisory_lock() on its own connection; report the current holder.
    self->sc_->run(
        self->sc_->hub->conn(), self->sql_.read, {self->sc_->election}, self->sc_->request_timeout,
        [self, done](Result<PgResult> r) {
          if (!r.ok()) return self->deliver<AcquireOutcome>(done, r.status);
          AcquireOutcome out;
          if (r.value.rows() > 0) out.record = parse_lease(r.value, 0, 0);
          out.retry_at = self->retry_at_expiry(out.record);
          self->deliver<AcquireOutcome>(done, out);
        },
        self->sc_);
  };
  switch (lock_) {
    case Lock::held:
      acquire_row(std::move(done));
      return;
    case Lock::waiting:
      // Our pg_advisory_lock() wait is out. If the row is free (released, or its holder gone),
      // the lock is being granted to us right now: wait for that rather than report a loss.
      sc_->run(
          sc_->hub->conn(), sql_.read, {sc_->election}, sc_->request_timeout,
          [self, done](Result<PgResult> r) {
            if (!r.ok()) return self->deliver<AcquireOutcome>(done, r.status);
            AcquireOutcome out;
            if (r.value.rows() > 0) out.record = parse_lease(r.value, 0, 0);
            if (self->lock_ == Lock::held) return self->acquire_row(done);
            out.retry_at = self->retry_at_expiry(out.record);
            const bool free = out.record.holder.empty() || out.record.expires_in_ms == 0;
            if (self->lock_ != Lock::waiting || !free || self->pending_acquire_) {
              return self->deliver<AcquireOutcome>(done, out);
            }
            self->pending_acquire_ = done;
            self->pending_record_ = out.record;
            std::weak_ptr<LeaseImpl> w = self;
            self->pending_timer_ = self->sc_->exec->after(
                std::min(self->sc_->request_timeout, milliseconds(300)), [w] {
                  auto s = std::static_pointer_cast<LockImpl>(w.lock());
                  if (!s || s->sc_->closed) return;
                  // Free by the row, yet the lock was not granted: its holder's session lives on.
                  s->evict(s->pending_record_);
                  s->finish_pending(false);
                });
          },
          sc_);
      return;
    case Lock::none:
      break;
  }
  const uint64_t epoch = lock_epoch_;
  sc_->run(
      lock_conn_, sql_.lock_try, {lock_key_}, sc_->request_timeout,
      [self, done, epoch, not_acquired](Result<PgResult> r) {
        if (!r.ok()) return self->deliver<AcquireOutcome>(done, r.status);
        if (epoch != self->lock_epoch_) {
          return self->deliver<AcquireOutcome>(
              done, make_error(Errc::unreachable, "the PostgreSQL lock connection was lost"));
        }
        if (r.value.boolean(0, 0)) {
          self->set_held();
          self->acquire_row(done);
        } else {
          self->start_wait();
          not_acquired();
        }
      },
      sc_);
}

void LockImpl::acquire_row(Completion<AcquireOutcome> done) {
  auto self = std::static_pointer_cast<LockImpl>(shared_from_this());
  const bool grace_served =
      abandoned_token_ != 0 && sc_->exec->now() - abandoned_seen_ >= takeover_grace();
  sc_->run(
      lock_conn_, sql_.acquire, acquire_params(true, grace_served ? abandoned_token_ : 0),
      sc_->request_timeout,
      [self, done](Result<PgResult> r) {
        if (!r.ok()) return self->deliver<AcquireOutcome>(done, r.status);
        AcquireOutcome out;
        bool abandoned = false, process_gone = false;
        if (r.value.rows() > 0) {
          out.acquired = r.value.boolean(0, 0);
          out.record = parse_lease(r.value, 0, 1);
          abandoned = r.value.boolean(0, 8);
          process_gone = r.value.boolean(0, 9);
        }
        const auto now = self->sc_->exec->now();
        if (out.acquired) {
          self->abandoned_token_ = 0;
        } else if (abandoned && process_gone) {
          // The holder's lock session ended and its process has no session left: it crashed, or
          // it lost every connection and is stepping down. Keep the lock; take the row after the
          // grace (counted from the first time we saw this token so).
          if (self->abandoned_token_ != out.record.token) {
            self->abandoned_token_ = out.record.token;
            self->abandoned_seen_ = now;
          }
          out.retry_at =
              std::max(self->abandoned_seen_ + self->takeover_grace(), now) + milliseconds(1);
        } else if (abandoned) {
          // The holder's lock session ended but its process still has a session: it heard the
          // loss and steps down, then releases the row (NOTIFY wakes us), or the row expires.
          // Keep the lock meanwhile, so no one else is granted it. Look again soon too: a crashed
          // process's other sessions may end a moment after its lock session.
          self->abandoned_token_ = 0;
          out.retry_at = now + std::max(self->takeover_grace(), milliseconds(20));
        } else {
          // The row is not ours to take: its holder is a lease-mode elector, or held it before a
          // server restart and may still be alive. Let go of the lock (the holder may need it to
          // renew) and retry when the row expires.
          self->unlock();
          out.retry_at = self->retry_at_expiry(out.record);
        }
        self->deliver<AcquireOutcome>(done, out);
      },
      sc_);
}

void LockImpl::evict(const LeaseRecord& rec) {
  // A standby found the row released or expired, but its lock wait was not granted: the old
  // holder's server session still holds the lock (a frozen process, a connection kept open by a
  // proxy, a release whose unlock never reached the server). End that session (sql_.evict checks
  // it is the row's own lock session, and the row's state, on the server).
  if (lock_ != Lock::waiting || rec.token == 0 || evicting_token_ == rec.token) return;
  evicting_token_ = rec.token;
  auto self = std::static_pointer_cast<LockImpl>(shared_from_this());
  sc_->run(
      sc_->hub->conn(), sql_.evict, {sc_->election, std::to_string(rec.token), lock_key_},
      sc_->request_timeout,
      [self, rec](Result<PgResult> r) {
        if (r.ok() && r.value.rows() > 0) return;  // the lock wait returns once that session ends
        self->evicting_token_ = 0;                 // nothing to end (yet): look again later
        if (r.ok()) return;
        if (r.status.code == Errc::permission_denied) {
          const std::string role = self->sc_->hub->config().conn.user;
          return self->sc_->report(make_error(
              Errc::permission_denied,
              "the lease of election '" + self->sc_->election + "' held by '" + rec.holder +
                  "' (token " + std::to_string(rec.token) +
                  ") has expired or was released, but its server session still holds the advisory "
                  "lock (a frozen or cut-off process), and this standby may not end that session: "
                  "PostgreSQL "
                  "role '" +
                  role +
                  "' needs membership in the holder's role or in pg_signal_backend (GRANT "
                  "pg_signal_backend TO " +
                  (role.empty() ? std::string("<role>") : role) +
                  "). Until then standbys wait for the server to drop that session."));
        }
        self->sc_->report(
            make_error(r.status.code, "ending the expired leader's session of election '" +
                                          self->sc_->election + "' failed: " + r.status.message));
      },
      sc_);
}

void LockImpl::start_wait() {
  if (lock_ != Lock::none) return;
  lock_ = Lock::waiting;
  auto self = std::static_pointer_cast<LockImpl>(shared_from_this());
  const uint64_t epoch = lock_epoch_;
  // No timeout: this statement returns when the holder's lock is released (release, or its
  // connection closed by a crash). A lost connection fails it, and on_lost wakes the elector.
  sc_->run(
      lock_conn_, sql_.lock_wait, {lock_key_}, milliseconds(0),
      [self, epoch](Result<PgResult> r) {
        if (epoch != self->lock_epoch_ || self->lock_ != Lock::waiting) return;
        if (r.ok()) {
          self->set_held();
          if (self->pending_acquire_) {
            self->finish_pending(true);
          } else {
            self->wake();  // the elector calls acquire() at once
          }
        } else if (r.status.detail.sqlstate == "55P03") {
          self->lock_ = Lock::none;  // lock_timeout: queue again with a fresh snapshot
          self->start_wait();
        } else {
          self->lock_ = Lock::none;  // retried at the next acquire
          self->finish_pending(false);
          // A lost connection is reported by the next request; anything else (a statement_timeout
          // set for the role, a cancel by an operator) would otherwise go unseen.
          if (r.status.code != Errc::unreachable) {
            self->sc_->report(make_error(
                r.status.code, "waiting for the advisory lock of election '" + self->sc_->election +
                                   "' failed: " + r.status.message));
          }
        }
      },
      sc_);
}

void LockImpl::finish_pending(bool lock_granted) {
  if (!pending_acquire_) return;
  auto done = std::move(pending_acquire_);
  pending_acquire_ = nullptr;
  if (pending_timer_) pending_timer_->cancel();
  if (lock_granted) return acquire_row(std::move(done));
  AcquireOutcome out;
  out.record = pending_record_;
  deliver<AcquireOutcome>(done, out);
}

void LockImpl::unlock() {
  if (lock_ != Lock::held) return;
  set_not_held();
  // If this fails the connection is reset, which frees the lock just as well.
  sc_->run(
      lock_conn_, sql_.lock_release, {lock_key_}, sc_->request_timeout, [](Result<PgResult>) {},
      sc_);
}

void LockImpl::renew_row(uint64_t token, bool check_pid, Completion<LeaseRecord> done) {
  auto self = std::static_pointer_cast<LockImpl>(shared_from_this());
  sc_->run(
      lock_conn_, sql_.renew,
      {sc_->election, sc_->identity, std::to_string(token),
       std::to_string(sc_->timing.lease_duration.count()),
       std::string(check_pid ? "true" : "false")},
      sc_->request_timeout,
      [self, token, done](Result<PgResult> r) {
        self->finish_renew(std::move(r), token, done, true);
      },
      sc_);
}

void LockImpl::renew(uint64_t token, Completion<LeaseRecord> done) {
  if (lock_ == Lock::held) return renew_row(token, true, std::move(done));
  // Not held: the lock ended with its connection (or was never ours). The server has freed it,
  // so a standby may be granted it at any moment: step down now, without a round trip.
  std::string why =
      lost_why_.empty()
          ? "the advisory lock of election '" + sc_->election + "' is not ours (token " +
                std::to_string(token) + ")"
          : "the advisory lock of election '" + sc_->election + "' ended with its connection (" +
                lost_why_ +
                "); the server has freed it, so another candidate may lead now (token " +
                std::to_string(token) + ")";
  auto self = std::static_pointer_cast<LockImpl>(shared_from_this());
  asio::post(sc_->io, [self, why = std::move(why), done = std::move(done)] {
    self->deliver<LeaseRecord>(done, make_error(Errc::lost, why));
  });
}

void LockImpl::release(uint64_t token, Completion<bool> done) {
  auto self = std::static_pointer_cast<LockImpl>(shared_from_this());
  if (lock_ != Lock::held) return LeaseImpl::release(token, std::move(done));
  // Row and lock in one statement (see LeaseSql::release_unlock); the NOTIFY goes out with the
  // commit. Ledger statements queued meanwhile wait (barrier) so they see the release.
  ++sc_->barrier;
  lock_conn_->set_keep_on_timeout(false);  // a release that times out resets: that frees the lock
  sc_->run(
      lock_conn_, sql_.release_unlock,
      {sc_->election, sc_->identity, std::to_string(token), sc_->hub->config().names.channel,
       lock_key_},
      sc_->request_timeout,
      [self, token, done](Result<PgResult> r) {
        // An advisory unlock is not undone by a rollback, so after an error (or a missing row,
        // which the statement never unlocked) whether we still hold the lock is unknown: let go
        // of it explicitly. A failed unlock resets the connection, which frees it as well.
        const bool unlocked = r.ok() && r.value.rows() > 0;
        const bool held = self->lock_ == Lock::held;
        self->set_not_held();
        if (unlocked || !held) {
          self->finish_release(std::move(r), token, done);
          return self->sc_->leave_barrier();
        }
        if (!r.ok()) {
          // No answer (perhaps queued behind a renewal whose answer never came): closing the
          // connection frees the lock; the row is released on the shared connection.
          self->lock_conn_->reset("closed to give up the advisory lock of election '" +
                                  self->sc_->election + "' after: " + r.status.message);
          return self->LeaseImpl::release(token, [self, done](Result<bool> rr) {
            self->deliver<bool>(done, std::move(rr));
            self->sc_->leave_barrier();
          });
        }
        self->sc_->run(
            self->lock_conn_, self->sql_.lock_release, {self->lock_key_},
            self->sc_->request_timeout,
            [self, r = std::move(r), token, done](Result<PgResult>) mutable {
              self->finish_release(std::move(r), token, done);
              self->sc_->leave_barrier();
            },
            self->sc_);
      },
      sc_);
}

void LockImpl::close(std::function<void()> done) {
  // A connection that may hold or wait for our lock is closed, which frees the lock on the server;
  // the close is queued before `done`, so it happens before the elector (and perhaps the runtime)
  // goes away. One that holds nothing goes back to the hub for the next elector.
  if (lock_conn_) {
    if (lock_ == Lock::none && !sc_->closed) {
      sc_->hub->give_back_lock_connection(lock_conn_, pool_key_);
    } else {
      lock_conn_->close();
    }
  }
  lock_ = Lock::none;
  if (pending_timer_) pending_timer_->cancel();
  pending_acquire_ = nullptr;
  LeaseImpl::close(std::move(done));
}

}  // namespace tenure::backends::pg
