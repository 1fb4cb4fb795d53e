// Lease mode: the lease is one row; acquire, renew and release are single statements whose expiry
// uses the server's now(). Wake-up by LISTEN/NOTIFY; at the expiry the server told, the core wakes
// (AcquireOutcome::retry_at).
#include <boost/asio/post.hpp>

#include "postgres/pg_ledger.hpp"
#include "postgres/pg_session.hpp"

namespace tenure::backends::pg {

// ---- SessionCtx ----

void SessionCtx::run(const std::shared_ptr<PgConnection>& conn, const std::string& sql,
                     std::vector<Param> params, milliseconds timeout,
                     std::function<void(Result<PgResult>)> h,
                     const std::shared_ptr<SessionCtx>& self) {
  conn->query(sql, std::move(params), timeout,
              [self, h = std::move(h)](Result<PgResult> r) mutable {
                self->delivery.post([self, h = std::move(h), r = std::move(r)]() mutable {
                  if (self->closed) return;
                  // undefined_table, undefined_column: someone dropped or altered the table.
                  const std::string& state = r.status.detail.sqlstate;
                  if (!r.ok() && (state == "42P01" || state == "42703"))
                    self->hub->schema_suspect();
                  h(std::move(r));
                });
              });
}

void SessionCtx::run_ready(const std::string& sql, std::vector<Param> params,
                           std::function<void(Result<PgResult>)> h,
                           const std::shared_ptr<SessionCtx>& self) {
  if (hub->schema_ready()) {
    run(hub->conn(), sql, std::move(params), request_timeout, std::move(h), self);
    return;
  }
  hub->ensure_schema(request_timeout, [self, sql, params = std::move(params),
                                       h = std::move(h)](Status s) mutable {
    if (!s.ok()) {
      self->delivery.post([self, s, h] {
        if (!self->closed) h(Result<PgResult>(s));
      });
      return;
    }
    self->run(self->hub->conn(), sql, std::move(params), self->request_timeout, std::move(h), self);
  });
}

// ---- LeaseImpl ----

LeaseImpl::LeaseImpl(const BackendContext& ctx, std::shared_ptr<PgHub> hub)
    : sc_(std::make_shared<SessionCtx>(ctx)) {
  sc_->hub = std::move(hub);
  sc_->election = ctx.election;
  sc_->identity = ctx.identity;
  sc_->timing = ctx.timing;
  sc_->request_timeout =
      ctx.request_timeout.count() > 0 ? ctx.request_timeout : request_timeout_for(ctx.timing);
  sql_ = lease_sql(sc_->hub->config().names);
  ledger_ = std::make_unique<PgLedger>(sc_);
}

LeaseImpl::~LeaseImpl() = default;

Capabilities LeaseImpl::capabilities() const { return Capabilities::server_lease(); }

Ledger* LeaseImpl::ledger() { return ledger_.get(); }

std::vector<Param> LeaseImpl::acquire_params(bool session, uint64_t take_abandoned) const {
  return {sc_->election,
          sc_->identity,
          std::to_string(sc_->timing.lease_duration.count()),
          std::string(session ? "session" : "lease"),
          std::string(take_abandoned != 0 ? "true" : "false"),
          sc_->hub->config().names.channel,
          std::to_string(take_abandoned)};
}

void LeaseImpl::acquire(Completion<AcquireOutcome> done) {
  auto self = shared_from_this();
  sc_->run_ready(
      sql_.acquire, acquire_params(false, 0),
      [self, done = std::move(done)](Result<PgResult> r) {
        self->finish_acquire(std::move(r), done);
      },
      sc_);
}

void LeaseImpl::finish_acquire(Result<PgResult> r, Completion<AcquireOutcome> done) {
  if (!r.ok()) return deliver<AcquireOutcome>(done, r.status);
  AcquireOutcome out;
  if (r.value.rows() > 0) {
    out.acquired = r.value.boolean(0, 0);
    out.record = parse_lease(r.value, 0, 1);
  }
  if (!out.acquired) out.retry_at = retry_at_expiry(out.record);
  deliver<AcquireOutcome>(done, out);
}

std::optional<Clock::time_point> LeaseImpl::retry_at_expiry(const LeaseRecord& rec) const {
  if (rec.holder.empty() || rec.expires_in_ms <= 0) return std::nullopt;  // expired: retry soon
  // The server measured the remaining time with its own clock; the core waits it out on its own.
  return retry_in(milliseconds(rec.expires_in_ms + 2));
}

void LeaseImpl::wake() {
  if (!sc_->closed && sc_->sink) sc_->sink->changed();
}

Status LeaseImpl::lost_status(const LeaseRecord& now, uint64_t token) const {
  std::string who = now.holder.empty() ? std::string("no one (released)") : "'" + now.holder + "'";
  return make_error(Errc::lost, "the lease of election '" + sc_->election +
                                    "' is no longer ours (token " + std::to_string(token) +
                                    "): held by " + who + " with token " +
                                    std::to_string(now.token));
}

void LeaseImpl::renew(uint64_t token, Completion<LeaseRecord> done) {
  auto self = shared_from_this();
  sc_->run_ready(
      sql_.renew,
      {sc_->election, sc_->identity, std::to_string(token),
       std::to_string(sc_->timing.lease_duration.count()), std::string("false")},
      [self, token, done = std::move(done)](Result<PgResult> r) {
        self->finish_renew(std::move(r), token, done, false);
      },
      sc_);
}

void LeaseImpl::finish_renew(Result<PgResult> r, uint64_t token, Completion<LeaseRecord> done,
                             bool session) {
  if (!r.ok()) return deliver<LeaseRecord>(done, r.status);
  if (r.value.rows() == 0)
    return deliver<LeaseRecord>(
        done, make_error(Errc::lost, "the lease row of election '" + sc_->election +
                                         "' is gone (deleted by hand?)"));
  LeaseRecord rec = parse_lease(r.value, 0, 1);
  if (!r.value.boolean(0, 0)) return deliver<LeaseRecord>(done, lost_status(rec, token));
  if (session && !r.value.boolean(0, 8)) {
    return deliver<LeaseRecord>(
        done,
        make_error(
            Errc::backend,
            "PostgreSQL session changed under the lock connection (its backend pid is not the "
            "one that took the advisory lock): a transaction-pooling proxy sits between "
            "tenure and PostgreSQL. mode=session needs a direct connection; use mode=lease "
            "behind a pooler."));
  }
  deliver<LeaseRecord>(done, rec);
}

void LeaseImpl::release(uint64_t token, Completion<bool> done) {
  auto self = shared_from_this();
  sc_->run_ready(
      sql_.release,
      {sc_->election, sc_->identity, std::to_string(token), sc_->hub->config().names.channel},
      [self, token, done = std::move(done)](Result<PgResult> r) {
        self->finish_release(std::move(r), token, done);
      },
      sc_);
}

void LeaseImpl::finish_release(Result<PgResult> r, uint64_t token, Completion<bool> done) {
  if (!r.ok()) return deliver<bool>(done, r.status);
  if (r.value.rows() == 0)
    return deliver<bool>(
        done, make_error(Errc::lost, "the lease row of election '" + sc_->election + "' is gone"));
  LeaseRecord rec = parse_lease(r.value, 0, 1);
  if (r.value.boolean(0, 0)) return deliver<bool>(done, true);
  // Released already by an earlier attempt whose answer was lost: same token, no holder.
  if (rec.holder.empty() && rec.token == token) return deliver<bool>(done, true);
  deliver<bool>(done, lost_status(rec, token));
}

void LeaseImpl::read(Completion<LeaseRecord> done) {
  auto self = shared_from_this();
  sc_->run_ready(
      sql_.read, {sc_->election},
      [self, done = std::move(done)](Result<PgResult> r) {
        if (!r.ok()) return self->deliver<LeaseRecord>(done, r.status);
        LeaseRecord rec;
        if (r.value.rows() > 0) rec = parse_lease(r.value, 0, 0);
        self->deliver<LeaseRecord>(done, rec);
      },
      sc_);
}

void LeaseImpl::start(LeaseSink& sink) {
  sc_->sink = &sink;
  std::weak_ptr<LeaseImpl> w = shared_from_this();
  sub_id_ = sc_->hub->listener().subscribe(sc_->election, sc_->io, [w] {
    if (auto self = w.lock()) self->wake();
  });
}

void LeaseImpl::close(std::function<void()> done) {
  sc_->closed = true;
  sc_->delivery.close();
  if (sub_id_ != 0) sc_->hub->listener().unsubscribe(sub_id_);
  sub_id_ = 0;
  sc_->sink = nullptr;
  if (done) asio::post(sc_->io, std::move(done));
}

// ---- the LeaseBackend handle ----

namespace {
class PgBackend final : public LeaseBackend {
 public:
  explicit PgBackend(std::shared_ptr<LeaseImpl> impl) : impl_(std::move(impl)) {}
  ~PgBackend() override {
    if (!closed_) impl_->close(nullptr);
  }
  Capabilities capabilities() const override { return impl_->capabilities(); }
  void acquire(Completion<AcquireOutcome> done) override { impl_->acquire(std::move(done)); }
  void renew(uint64_t token, Completion<LeaseRecord> done) override {
    impl_->renew(token, std::move(done));
  }
  void release(uint64_t token, Completion<bool> done) override {
    impl_->release(token, std::move(done));
  }
  void read(Completion<LeaseRecord> done) override { impl_->read(std::move(done)); }
  void start(LeaseSink& sink) override { impl_->start(sink); }
  // Nothing to do on the server that the connection's end does not do: the deadline is unused.
  void close(Clock::time_point, std::function<void()> done) override {
    closed_ = true;
    impl_->close(std::move(done));
  }
  Ledger* ledger() override { return impl_->ledger(); }

 private:
  std::shared_ptr<LeaseImpl> impl_;
  bool closed_ = false;
};
}  // namespace

std::unique_ptr<LeaseBackend> make_session(std::shared_ptr<LeaseImpl> impl) {
  impl->init();
  return std::make_unique<PgBackend>(std::move(impl));
}

}  // namespace tenure::backends::pg
