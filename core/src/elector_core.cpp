#include "elector_core.hpp"

#include <algorithm>
#include <chrono>
#include <utility>

namespace tenure {

namespace {
using std::chrono::duration_cast;

int64_t to_ms(Clock::duration d) { return duration_cast<milliseconds>(d).count(); }
}  // namespace

// The backend's way in: every call moves onto the elector's executor.
class CoreSink final : public LeaseSink {
 public:
  explicit CoreSink(std::weak_ptr<ElectorCore> core, std::shared_ptr<Executor> exec)
      : core_(std::move(core)), exec_(std::move(exec)) {}
  void changed() override {
    on_strand([](ElectorCore& c) { c.on_push(); });
  }
  void granted(LeaseRecord) override {
    on_strand([](ElectorCore& c) {
      c.report_error(make_error(Errc::internal, "granted() from a backend that is not assigned"));
    });
  }
  void revoked(RevokeReason, Status, std::function<void()> ack) override {
    on_strand([ack](ElectorCore& c) {
      c.report_error(make_error(Errc::internal, "revoked() from a backend that is not assigned"));
      if (ack) ack();
    });
  }
  void lost(Status why) override {
    on_strand([why](ElectorCore& c) { c.on_lost(why); });
  }
  void renewed(LeaseRecord) override {}
  void leader_changed(LeaseRecord rec) override {
    on_strand([rec](ElectorCore& c) { c.observe(rec); });
  }
  void report(Status s) override {
    on_strand([s](ElectorCore& c) { c.report_error(s); });
  }

 private:
  template <class Fn>
  void on_strand(Fn fn) {
    exec_->post([weak = core_, fn = std::move(fn)] {
      if (auto self = weak.lock()) fn(*self);
    });
  }
  std::weak_ptr<ElectorCore> core_;
  std::shared_ptr<Executor> exec_;
};

ElectorCore::ElectorCore(ElectorOptions o, std::shared_ptr<Runtime> rt,
                         std::shared_ptr<Executor> ex)
    : opts(std::move(o)), runtime(std::move(rt)), exec(std::move(ex)) {
  events->set_labels(opts.election, opts.identity);
}

void ElectorCore::log(LogLevel level, std::string message) const {
  tenure::log(level, "core", std::move(message), opts.election, opts.identity);
}

Status ElectorCore::init(boost::asio::any_io_executor io) {
  auto url = parse_url(opts.backend_url);
  if (!url.ok()) return url.status;
  const BackendFactory* factory = find_backend(url.value.scheme);
  if (!factory) {
    std::string known;
    for (auto& s : registered_schemes()) known += (known.empty() ? "" : ", ") + s + "://";
    return make_error(Errc::unsupported_backend, "backend URL '" + url.value.redacted() +
                                                     "': unknown scheme '" + url.value.scheme +
                                                     "'; this build supports " + known);
  }
  BackendContext ctx;
  ctx.url = url.value;
  ctx.election = opts.election;
  ctx.identity = opts.identity;
  ctx.timing = opts.timing;
  ctx.options = opts.backend_options;
  ctx.executor = exec;
  ctx.io = std::move(io);
  ctx.request_timeout = request_timeout_for(opts.timing);
  sink = std::make_unique<CoreSink>(weak_from_this(), exec);
  auto session = (*factory)(ctx);
  if (!session.ok()) return session.status;
  backend = std::move(session.value);
  caps = backend->capabilities();
  backend_where_ = url.value.redacted();
  registry_key = url.value.scheme + "://";
  for (const auto& hp : url.value.hosts)
    registry_key += hp.host + ":" + std::to_string(hp.port) + ",";
  registry_key += url.value.path + "|" + opts.election + "|" + opts.identity;
  std::lock_guard lock(mu_);
  st_.role = Role::stopped;
  return {};
}

Status ElectorCore::start() {
  exec->post([self = shared_from_this()] { self->on_start(); });
  return {};
}

std::shared_future<void> ElectorCore::begin_stop() {
  exec->post([self = shared_from_this()] { self->on_stop(); });
  return stopped_future_;
}

void ElectorCore::resign() {
  exec->post([self = shared_from_this()] {
    if (self->role_ != Role::leader || self->stopping_) return;
    self->sit_out_until_ = self->exec->now() + self->opts.timing.retry_period;
    self->step_down(RevokeReason::released, "resigned on request");
  });
}

// ---------------------------------------------------------------------------------------------
// State machine (strand only)

void ElectorCore::on_start() {
  if (started_ || stopping_) return;
  started_ = true;
  log(LogLevel::info, std::string(opts.observe_only ? "observing" : "running for leadership") +
                          " on " + backend_where_);
  {
    std::lock_guard lock(mu_);
    leaderless_ = true;
    leaderless_since_ = exec->now();
  }
  backend->start(*sink);
  if (opts.observe_only) {
    role_ = Role::observer;
    publish_status();
    do_read();
  } else {
    role_ = Role::candidate;
    publish_status();
    try_acquire();
  }
}

void ElectorCore::on_push() {
  if (stopping_ || !started_) return;
  if (op_in_flight_) {
    pending_push_ = true;  // act on it as soon as the running request completes
    return;
  }
  if (role_ == Role::candidate) {
    if (release_held_ || exec->now() < sit_out_until_) return;
    if (tick_) tick_->cancel();
    try_acquire();
  } else if (role_ == Role::observer) {
    if (tick_) tick_->cancel();
    do_read();
  }
}

Clock::duration ElectorCore::retry_delay() {
  // Jitter of 0..20% spreads candidates that all woke at once.
  auto base = duration_cast<std::chrono::microseconds>(opts.timing.retry_period);
  std::uniform_int_distribution<int64_t> jitter(0, base.count() / 5);
  return base + std::chrono::microseconds(jitter(rng_));
}

Clock::duration ElectorCore::follower_delay() {
  // A session-bound lock with a working push (file: inotify sees every release and every
  // crash) needs no polling; a slow safety-net read still runs. Other backends poll at
  // retry_period, because a lease can also end by expiring on the server.
  Capabilities c = backend->capabilities();
  if (!(c.session_bound && c.push_wakeup)) return retry_delay();
  auto base = duration_cast<std::chrono::microseconds>(opts.timing.lease_duration);
  std::uniform_int_distribution<int64_t> jitter(0, base.count() / 5);
  return base + std::chrono::microseconds(jitter(rng_));
}

void ElectorCore::schedule_tick(Clock::duration d, void (ElectorCore::*fn)()) {
  if (tick_) tick_->cancel();
  tick_due_ = exec->now() + d;
  std::weak_ptr<ElectorCore> weak = shared_from_this();
  tick_ = exec->after(d, [weak, fn] {
    if (auto self = weak.lock()) ((*self).*fn)();
  });
}

void ElectorCore::try_acquire() {
  if (stopping_ || role_ != Role::candidate || op_in_flight_ || release_held_) return;
  op_in_flight_ = true;
  pending_push_ = false;
  auto t0 = exec->now();
  backend->acquire([self = shared_from_this(), epoch = epoch_, t0](Result<AcquireOutcome> r) {
    self->on_acquired(epoch, t0, std::move(r));
  });
}

void ElectorCore::on_acquired(uint64_t epoch, Clock::time_point t0, Result<AcquireOutcome> r) {
  op_in_flight_ = false;
  if (epoch != epoch_ || stopping_ || role_ != Role::candidate) {
    // We stopped (or changed role) while the request was out: give back a lease it won.
    if (r.ok() && r.value.acquired) backend->release(r.value.record.token, [](Result<bool>) {});
    if (stop_after_op_) finish_stop();
    return;
  }
  if (!r.ok()) {
    report_error(r.status);
    schedule_tick(retry_delay(), &ElectorCore::try_acquire);
    return;
  }
  last_error_.clear();
  note_contact();
  if (r.value.acquired) {
    become_leader(t0, r.value.record);
    return;
  }
  observe(r.value.record);
  // Our identity on the record is another elector's only if it is not the lease we held last:
  // after an involuntary step-down whose release did not get through (a partition), the server
  // keeps our own previous lease (or session lock) until it ends, and no one else is involved.
  if (r.value.record.holder == opts.identity && r.value.record.token != token_) {
    report_error(make_error(Errc::identity_in_use, "the lease of election '" + opts.election +
                                                       "' is held under our "
                                                       "identity '" +
                                                       opts.identity +
                                                       "' by another elector or process; give "
                                                       "every candidate its own identity"));
  }
  auto delay = pending_push_ ? Clock::duration(std::chrono::milliseconds(1)) : follower_delay();
  if (r.value.retry_at)
    delay = std::clamp<Clock::duration>(*r.value.retry_at - exec->now(), Clock::duration::zero(),
                                        delay);
  pending_push_ = false;
  schedule_tick(delay, &ElectorCore::try_acquire);
}

void ElectorCore::become_leader(Clock::time_point t0, const LeaseRecord& rec) {
  role_ = Role::leader;
  ++epoch_;
  token_ = rec.token;
  // The lease began no earlier than the request was sent: count from there (conservative).
  last_renew_ok_ = t0;
  {
    std::lock_guard lock(mu_);
    ++m_.acquisitions;
    snap_last_renew_ = t0;
  }
  // Status first, then the event: whoever handles `elected` already sees is_leader.
  publish_status();
  log(LogLevel::info, "elected with fencing token " + std::to_string(token_));
  emit(Event{EventType::elected, token_, RevokeReason::none, opts.identity, Errc::ok, {}});
  LeaseRecord mine = rec;
  mine.holder = opts.identity;
  observe(mine);
  schedule_tick(opts.timing.retry_period, &ElectorCore::on_renew_tick);
  arm_deadline();
}

bool ElectorCore::paused() {
  // Lateness of the renew timer itself, measured when it fires: a request's round trip never
  // counts, so a slow renewal gets every retry its request timeout allows (overdue() judges it).
  auto late = exec->now() - tick_due_;
  auto margin = opts.timing.lease_duration - opts.timing.renew_deadline;
  if (late <= margin) return false;
  step_down(RevokeReason::renew_deadline,
            "timers fired " + std::to_string(to_ms(late)) +
                " ms late, more than the safety margin of " + std::to_string(margin.count()) +
                " ms (lease_duration - renew_deadline): the process was paused, so the lease may "
                "have expired");
  return true;
}

bool ElectorCore::overdue() {
  auto since = exec->now() - last_renew_ok_;
  if (since < opts.timing.renew_deadline) return false;
  step_down(RevokeReason::renew_deadline,
            "no successful renewal for " + std::to_string(to_ms(since)) + " ms (renew_deadline " +
                std::to_string(opts.timing.renew_deadline.count()) + " ms)" +
                (last_error_.empty() ? "" : "; last error: " + last_error_));
  return true;
}

void ElectorCore::on_lost(const Status& why) {
  if (role_ != Role::leader || stopping_) return;
  const bool race = why.code == Errc::lost || why.code == Errc::fenced;
  step_down(race ? RevokeReason::lost : RevokeReason::backend_error, why.message);
}

void ElectorCore::on_renew_tick() {
  if (role_ != Role::leader || stopping_) return;
  if (paused() || overdue()) return;
  if (op_in_flight_) return;  // the running renewal reschedules
  op_in_flight_ = true;
  auto t0 = exec->now();
  backend->renew(token_, [self = shared_from_this(), epoch = epoch_, t0](Result<LeaseRecord> r) {
    self->on_renewed(epoch, t0, std::move(r));
  });
}

void ElectorCore::on_renewed(uint64_t epoch, Clock::time_point t0, Result<LeaseRecord> r) {
  op_in_flight_ = false;
  if (epoch != epoch_ || role_ != Role::leader || stopping_) {
    if (stop_after_op_) finish_stop();
    return;
  }
  auto now = exec->now();
  if (r.ok()) {
    auto prev = last_renew_ok_;
    last_renew_ok_ = t0;
    last_error_.clear();
    {
      std::lock_guard lock(mu_);
      ++m_.renewals;
      snap_last_renew_ = t0;
      auto us = duration_cast<std::chrono::microseconds>(now - t0).count();
      m_.renew_latency_sum_us += us;
      snap_last_contact_ = now;
      for (size_t i = 0; i < kRenewBucketsUs.size(); ++i)
        if (us <= kRenewBucketsUs[i]) {
          ++m_.renew_latency_buckets[i];
          break;
        }
      int64_t slack = opts.timing.renew_deadline.count() - to_ms(now - prev);
      m_.last_renew_slack_ms = slack;
      if (m_.min_renew_slack_ms < 0 || slack < m_.min_renew_slack_ms) m_.min_renew_slack_ms = slack;
      st_.record = r.value;
    }
    // The deadline timer re-arms itself when it finds the deadline moved: no timer per renewal.
    if (overdue()) return;
    schedule_tick(opts.timing.retry_period, &ElectorCore::on_renew_tick);
    return;
  }
  {
    std::lock_guard lock(mu_);
    ++m_.renew_failures;
  }
  if (r.status.code == Errc::lost || r.status.code == Errc::fenced) {
    step_down(RevokeReason::lost, r.status.message);
    return;
  }
  report_error(r.status);
  if (overdue()) return;
  schedule_tick(opts.timing.retry_period / 2, &ElectorCore::on_renew_tick);
}

void ElectorCore::arm_deadline() {
  if (deadline_) deadline_->cancel();
  auto due = last_renew_ok_ + opts.timing.renew_deadline;
  auto delay = due - exec->now();
  if (delay < Clock::duration::zero()) delay = Clock::duration::zero();
  std::weak_ptr<ElectorCore> weak = shared_from_this();
  deadline_ = exec->after(delay, [weak] {
    if (auto self = weak.lock()) self->on_deadline();
  });
}

void ElectorCore::on_deadline() {
  if (role_ != Role::leader || stopping_) return;
  if (!overdue()) arm_deadline();
}

void ElectorCore::step_down(RevokeReason reason, const std::string& why) {
  uint64_t old_token = token_;
  log(reason == RevokeReason::released ? LogLevel::info : LogLevel::warn,
      "stepped down (" + std::string(revoke_reason_name(reason)) + ") from token " +
          std::to_string(old_token) + ": " + why);
  role_ = Role::candidate;
  ++epoch_;
  if (tick_) tick_->cancel();
  if (deadline_) deadline_->cancel();
  {
    std::lock_guard lock(mu_);
    switch (reason) {
      case RevokeReason::lost:
        ++m_.step_downs_lost;
        break;
      case RevokeReason::renew_deadline:
        ++m_.step_downs_renew_deadline;
        break;
      case RevokeReason::backend_error:
        ++m_.step_downs_backend_error;
        break;
      case RevokeReason::released:
        ++m_.step_downs_released;
        break;
      case RevokeReason::stopped:
        ++m_.step_downs_stopped;
        break;
      case RevokeReason::none:
        break;
    }
  }
  // Say so first: the revoked event is queued before anyone else can be handed the lease.
  known_ = false;  // until we read the record again
  publish_status();
  emit(Event{EventType::revoked, old_token, reason, {}, Errc::ok, why});
  if (reason == RevokeReason::released) {
    release_then_retry(old_token);
    return;
  }
  // An involuntary step-down: the application is only now told to stop its work. Keep the lease
  // (neither release nor re-acquire) until it says it has stopped (ack_revoked) or, at most, for
  // the safety margin it was promised, so a successor never starts while our work still drains.
  // A lost lease is handled alike: a backend may make a successor wait for our release (a
  // PostgreSQL session-mode lock that ended with its connection), and the token-checked release
  // is harmless where the lease has moved on already.
  release_held_ = true;
  held_token_ = old_token;
  std::weak_ptr<ElectorCore> weak = shared_from_this();
  hold_timer_ = exec->after(opts.timing.lease_duration - opts.timing.renew_deadline, [weak] {
    if (auto self = weak.lock()) self->release_held_now();
  });
}

void ElectorCore::release_held_now() {
  if (!release_held_ || stopping_) return;
  release_held_ = false;
  if (hold_timer_) hold_timer_->cancel();
  release_then_retry(held_token_);
}

void ElectorCore::ack_revoked() {
  exec->post([self = shared_from_this()] { self->release_held_now(); });
}

void ElectorCore::release_then_retry(uint64_t token) {
  // Give the lease back so a successor need not wait for it to expire. The release compares
  // the token, so it is harmless when the lease already moved on.
  op_in_flight_ = true;
  backend->release(token, [self = shared_from_this(), epoch = epoch_](Result<bool>) {
    self->op_in_flight_ = false;
    if (epoch != self->epoch_ || self->stopping_) {
      if (self->stop_after_op_) self->finish_stop();
      return;
    }
    auto delay =
        std::max<Clock::duration>(self->retry_delay(), self->sit_out_until_ - self->exec->now());
    self->schedule_tick(delay, &ElectorCore::try_acquire);
  });
}

void ElectorCore::do_read() {
  if (stopping_ || op_in_flight_) return;
  op_in_flight_ = true;
  pending_push_ = false;
  backend->read([self = shared_from_this(), epoch = epoch_](Result<LeaseRecord> r) {
    self->on_read(epoch, std::move(r));
  });
}

void ElectorCore::on_read(uint64_t epoch, Result<LeaseRecord> r) {
  op_in_flight_ = false;
  if (stopping_) {
    if (stop_after_op_) finish_stop();
    return;
  }
  if (epoch != epoch_) return;
  if (!r.ok()) {
    report_error(r.status);
  } else {
    last_error_.clear();
    note_contact();
    observe(r.value);
  }
  auto delay = pending_push_ ? Clock::duration(std::chrono::milliseconds(1)) : follower_delay();
  // A holder's lease that runs out may change hands then: look again at that time.
  if (r.ok() && !r.value.holder.empty() && r.value.expires_in_ms >= 0)
    delay = std::min<Clock::duration>(delay, milliseconds(r.value.expires_in_ms + 1));
  pending_push_ = false;
  schedule_tick(delay, &ElectorCore::do_read);
}

void ElectorCore::observe(const LeaseRecord& rec) {
  last_record_ = rec;
  {
    std::lock_guard lock(mu_);
    st_.record = rec;
    bool none = rec.holder.empty();
    auto now = exec->now();
    if (none && !leaderless_) {
      leaderless_ = true;
      leaderless_since_ = now;
    } else if (!none && leaderless_) {
      leaderless_ = false;
      m_.leaderless_ms += to_ms(now - leaderless_since_);
    }
  }
  if (known_ && rec.holder == known_leader_ && (rec.holder.empty() || rec.token == known_token_)) {
    publish_status();
    return;
  }
  known_ = true;
  known_leader_ = rec.holder;
  known_token_ = rec.token;
  publish_status();
  emit(Event{EventType::leader_changed,
             rec.holder.empty() ? 0 : rec.token,
             RevokeReason::none,
             rec.holder,
             Errc::ok,
             {}});
}

void ElectorCore::report_error(const Status& s) {
  std::string key = std::string(errc_name(s.code)) + ": " + s.message;
  if (key == last_error_) return;  // once per distinct error, not once per retry
  last_error_ = key;
  log(LogLevel::warn, std::string(errc_name(s.code)) + ": " + s.message);
  emit(Event{EventType::error, 0, RevokeReason::none, {}, s.code, s.message});
}

void ElectorCore::on_stop() {
  if (stopping_) return;
  stopping_ = true;
  if (tick_) tick_->cancel();
  if (deadline_) deadline_->cancel();
  if (!started_) {
    finish_stop();
    return;
  }
  if (release_held_ && !op_in_flight_) {
    release_held_ = false;
    if (hold_timer_) hold_timer_->cancel();
    release_then_finish_stop(held_token_);
    return;
  }
  if (role_ == Role::leader) {
    uint64_t old = token_;
    role_ = Role::candidate;
    ++epoch_;
    {
      std::lock_guard lock(mu_);
      ++m_.step_downs_stopped;
    }
    publish_status();
    log(LogLevel::info,
        "stepped down (stopped) from token " + std::to_string(old) + ": releasing the lease");
    emit(Event{EventType::revoked, old, RevokeReason::stopped, {}, Errc::ok, "elector stopped"});
    release_then_finish_stop(old);
    return;
  }
  if (!op_in_flight_ || role_ == Role::observer) {
    // An observer's request is a read: nothing to undo, so it is not waited for (its answer is
    // dropped with the closed session).
    finish_stop();
  } else {
    // The running request's completion calls finish_stop (and releases a lease it won).
    stop_after_op_ = true;
    arm_stop_timer();
  }
}

// stop() waits at most stop_timeout for the backend: then it closes the session regardless.
void ElectorCore::arm_stop_timer() {
  std::weak_ptr<ElectorCore> weak = shared_from_this();
  stop_timer_ = exec->after(opts.stop_timeout, [weak] {
    if (auto self = weak.lock()) self->finish_stop();
  });
}

void ElectorCore::release_then_finish_stop(uint64_t token) {
  arm_stop_timer();
  backend->release(token, [self = shared_from_this()](Result<bool>) { self->finish_stop(); });
}

void ElectorCore::finish_stop() {
  if (stopped_) return;
  stopped_ = true;
  if (stop_timer_) stop_timer_->cancel();
  role_ = Role::stopped;
  ++epoch_;
  {
    std::lock_guard lock(mu_);
    if (leaderless_) m_.leaderless_ms += to_ms(exec->now() - leaderless_since_);
    leaderless_ = false;
  }
  publish_status();
  backend->close(exec->now() + opts.stop_timeout,
                 [self = shared_from_this()] { self->stopped_promise_.set_value(); });
}

void ElectorCore::emit(Event e) { events->push(std::move(e)); }

void ElectorCore::publish_status() {
  std::lock_guard lock(mu_);
  st_.role = role_;
  st_.is_leader = role_ == Role::leader;
  st_.token = role_ == Role::leader ? token_ : (known_ ? known_token_ : 0);
  st_.leader = role_ == Role::leader ? opts.identity : (known_ ? known_leader_ : std::string());
  m_.is_leader = st_.is_leader;
  m_.token = role_ == Role::leader ? token_ : 0;
}

void ElectorCore::note_contact() {
  std::lock_guard lock(mu_);
  snap_last_contact_ = exec->now();
}

ElectorStatus ElectorCore::status() const {
  // last_renew_ok_ is strand state; the snapshot is what publish_status copied, plus the age.
  std::lock_guard lock(mu_);
  ElectorStatus s = st_;
  auto now = exec->now();
  if (s.is_leader) s.ms_since_last_renewal = to_ms(now - snap_last_renew_);
  if (snap_last_contact_ != Clock::time_point{})
    s.ms_since_backend_contact = to_ms(now - snap_last_contact_);
  return s;
}

MetricsSnapshot ElectorCore::metrics() const {
  std::lock_guard lock(mu_);
  MetricsSnapshot m = m_;
  m.transitions = st_.record.transitions;
  if (snap_last_contact_ != Clock::time_point{})
    m.ms_since_backend_contact = to_ms(exec->now() - snap_last_contact_);
  if (leaderless_) m.leaderless_ms += to_ms(exec->now() - leaderless_since_);
  return m;
}

// ---------------------------------------------------------------------------------------------
// Ledger (run_once): the strand checks leadership, so a claim can never carry a stale token.

void ElectorCore::ledger_claim(const std::string& key, UnfinishedPolicy policy,
                               Completion<ClaimResult> done) {
  exec->post([self = shared_from_this(), key, policy, done = std::move(done)]() mutable {
    Ledger* ledger = self->backend ? self->backend->ledger() : nullptr;
    if (!ledger) {
      done(make_error(Errc::bad_state, "this backend has no run-once ledger"));
      return;
    }
    if (self->role_ != Role::leader || self->stopping_) {
      done(make_error(Errc::not_leader, "run_once('" + key + "') needs leadership of election '" +
                                            self->opts.election + "'; this elector does not lead"));
      return;
    }
    uint64_t token = self->token_;
    ledger->claim(key, token, self->opts.identity, policy,
                  [token, done = std::move(done)](Result<ClaimResult> r) {
                    if (r.ok()) r.value.token = token;
                    done(std::move(r));
                  });
  });
}

void ElectorCore::ledger_finish(const std::string& key, uint64_t token, bool ok,
                                const std::string& detail, Completion<RunRecord> done) {
  exec->post([self = shared_from_this(), key, token, ok, detail, done = std::move(done)]() mutable {
    Ledger* ledger = self->backend ? self->backend->ledger() : nullptr;
    if (!ledger || self->stopped_) {
      done(make_error(Errc::bad_state, "the elector was stopped before the run could be recorded"));
      return;
    }
    ledger->finish(key, token, ok, detail, std::move(done));
  });
}

void ElectorCore::ledger_read(const std::string& key, Completion<RunRecord> done) {
  exec->post([self = shared_from_this(), key, done = std::move(done)]() mutable {
    Ledger* ledger = self->backend ? self->backend->ledger() : nullptr;
    if (!ledger || self->stopped_) {
      done(make_error(Errc::bad_state, "no ledger available (backend without one, or stopped)"));
      return;
    }
    ledger->read(key, std::move(done));
  });
}

void ElectorCore::ledger_list(const std::string& prefix, size_t limit,
                              Completion<std::vector<RunRecord>> done) {
  exec->post([self = shared_from_this(), prefix, limit, done = std::move(done)]() mutable {
    Ledger* ledger = self->backend ? self->backend->ledger() : nullptr;
    if (!ledger || self->stopped_) {
      done(make_error(Errc::bad_state, "no ledger available (backend without one, or stopped)"));
      return;
    }
    ledger->list(prefix, limit, std::move(done));
  });
}

}  // namespace tenure
