// The election's phases, every transition between them, and the main step. Events (timers, the
// application's calls, the backend's sink, request completions) change a little state and call
// step(), which decides what to do now, top-down.
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
  CoreSink(std::weak_ptr<ElectorCore> core, std::shared_ptr<Executor> exec)
      : core_(std::move(core)), exec_(std::move(exec)) {}
  void changed() override {
    on_strand([](ElectorCore& c) { c.on_changed(); });
  }
  void granted(LeaseRecord rec) override {
    on_strand([rec](ElectorCore& c) { c.on_granted(rec); });
  }
  void revoked(RevokeReason why, Status detail, std::function<void()> ack) override {
    on_strand([why, detail, ack](ElectorCore& c) { c.on_revoked(why, detail, ack); });
  }
  void lost(Status why) override {
    on_strand([why](ElectorCore& c) { c.on_lost(why); });
  }
  void renewed(LeaseRecord rec) override {
    on_strand([rec](ElectorCore& c) { c.on_renewed(rec); });
  }
  void leader_changed(LeaseRecord rec) override {
    on_strand([rec](ElectorCore& c) {
      if (c.phase_ != ElectorCore::Phase::stopped) c.observe(rec);
    });
  }
  void report(Status s) override {
    on_strand([s](ElectorCore& c) {
      if (c.phase_ != ElectorCore::Phase::stopped) c.report_error(s);
    });
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
  auto made = (*factory)(ctx);
  if (!made.ok()) return made.status;
  backend = std::move(made.value);
  caps = backend->capabilities();
  if (caps.ledger != (backend->ledger() != nullptr))
    return make_error(Errc::internal, "the " + url.value.scheme +
                                          " backend's capabilities().ledger does not match its "
                                          "ledger(): a bug in the backend");
  backend_where_ = url.value.redacted();
  registry_key = url.value.scheme + "://";
  for (const auto& hp : url.value.hosts)
    registry_key += hp.host + ":" + std::to_string(hp.port) + ",";
  registry_key += url.value.path + "|" + opts.election + "|" + opts.identity;
  publish_status();
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
  exec->post([self = shared_from_this()] { self->on_resign(); });
}

void ElectorCore::ack_revoked() {
  exec->post([self = shared_from_this()] { self->on_ack(); });
}

// ---------------------------------------------------------------------------------------------
// The main step (strand only). Called after every event; does at most one thing.

void ElectorCore::step() {
  // 1. Before start, after the stop, or while a request is out (its completion steps again),
  //    there is nothing to decide.
  if (phase_ == Phase::idle || phase_ == Phase::stopped || in_flight_) return;
  const auto now = exec->now();
  const auto late = std::exchange(fired_late_, Clock::duration::zero());  // this step's timer
  switch (phase_) {
    case Phase::stopping:
      // 2. Stopping: give back a lease we hold (lease stores), then close the backend.
      if (release_token_ != 0 && !caps.assigned) return send_release(release_token_);
      return transition(Phase::stopped);

    case Phase::holding:
      // 3. Holding after an involuntary step-down: nothing happens until the application's
      //    ack_revoked() or the safety margin (end_hold), so no successor starts while our
      //    leader-only work still drains.
      return;

    case Phase::leader:
      // 4. Leading by assignment: the server decides; nothing to do until it revokes.
      if (caps.assigned) return;
      // 5. A paused process, or no renewal within renew_deadline, ends leadership at once.
      if (paused(late) || overdue()) return;
      // 6. The backend keeps the lease alive itself: the deadline watchdog (fed by renewed())
      //    is all that runs.
      if (caps.renews_itself) return;
      // 7. Renew when due.
      if (now >= renew_due_) return send_renew();
      return wake_at(renew_due_);

    case Phase::candidate: {
      // 8. A lease we gave up (resigned, or held until ack) goes back first.
      if (release_token_ != 0) return send_release(release_token_);
      // 9. Assigned leadership: join once; the server grants and revokes through the sink.
      if (caps.assigned) {
        if (joined_ || opts.observe_only) return;
        if (now < sit_out_until_) return wake_at(sit_out_until_);
        joined_ = true;
        return backend->join();
      }
      // 10. Look (observer) or try to acquire (candidate) when due, or at once when the
      //     backend pushed a change; a resigned leader sits out one retry_period first.
      auto due = std::max(next_try_, sit_out_until_);
      if (pushed_ && now >= sit_out_until_) due = now;
      if (now < due) return wake_at(due);
      pushed_ = false;
      return opts.observe_only ? send_read() : send_acquire();
    }

    case Phase::idle:
    case Phase::stopped:
      return;
  }
}

// ---------------------------------------------------------------------------------------------
// Every phase change happens here; the enter_* helpers are its parts and are called from nowhere
// else. `won`: the record when entering leader.

void ElectorCore::transition(Phase to, RevokeReason why, const std::string& detail,
                             const LeaseRecord* won, Clock::time_point t0) {
  const Phase from = phase_;
  if (from == to || from == Phase::stopped) return;
  // Leaving leadership: say so first (the revoked event is queued before anyone else can be
  // handed the lease), and drop a renewal that is still out (its answer is stale now).
  if (from == Phase::leader) leave_leader(to, why, detail);
  phase_ = to;
  switch (to) {
    case Phase::candidate:
      if (from == Phase::idle) enter_campaign();
      if (from == Phase::holding) {
        // The hold ended: a lease store gets the lease back (the release compares the token, so
        // it is harmless when the lease has moved on); an assigned backend may now let go.
        if (!caps.assigned) release_token_ = held_token_;
        for (auto& ack : std::exchange(held_acks_, {})) ack();
        next_try_ = exec->now() + retry_delay();
      }
      break;
    case Phase::leader:
      return enter_leader(t0, *won);
    case Phase::holding: {
      held_token_ = token_;
      std::weak_ptr<ElectorCore> weak = shared_from_this();
      hold_timer_ = exec->after(opts.timing.lease_duration - opts.timing.renew_deadline, [weak] {
        if (auto self = weak.lock()) self->end_hold();
      });
      break;
    }
    case Phase::stopping:
      enter_stopping(from);
      break;
    case Phase::stopped:
      return enter_stopped();
    case Phase::idle:
      break;
  }
  publish_status();
}

void ElectorCore::enter_campaign() {
  log(LogLevel::info, std::string(opts.observe_only ? "observing" : "running for leadership") +
                          " on " + backend_where_);
  {
    std::lock_guard lock(mu_);
    leaderless_ = true;
    leaderless_since_ = exec->now();
  }
  backend->start(*sink);
}

void ElectorCore::enter_leader(Clock::time_point t0, const LeaseRecord& rec) {
  token_ = rec.token;
  // The lease began no earlier than the request was sent: count from there (conservative).
  last_renew_ok_ = t0;
  renew_due_ = exec->now() + opts.timing.retry_period;
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
  if (!caps.assigned) arm_deadline();
}

void ElectorCore::leave_leader(Phase to, RevokeReason why, const std::string& detail) {
  if (wake_) std::exchange(wake_, nullptr)->cancel();
  if (deadline_) deadline_->cancel();
  if (in_flight_ && in_flight_->op == Op::renew) in_flight_.reset();
  count_step_down(why);
  log(why == RevokeReason::released || why == RevokeReason::stopped ? LogLevel::info
                                                                    : LogLevel::warn,
      "stepped down (" + std::string(revoke_reason_name(why)) + ") from token " +
          std::to_string(token_) + ": " + detail);
  known_ = false;  // until we read the record again
  phase_ = to;
  publish_status();
  emit(Event{EventType::revoked, token_, why, {}, Errc::ok, detail});
  // A voluntary end gives the lease back at once; an involuntary one holds it (see holding).
  if (!caps.assigned && (to == Phase::candidate || to == Phase::stopping)) release_token_ = token_;
}

void ElectorCore::enter_stopping(Phase from) {
  if (wake_) std::exchange(wake_, nullptr)->cancel();
  if (deadline_) deadline_->cancel();
  if (from == Phase::holding) {
    if (hold_timer_) hold_timer_->cancel();
    if (!caps.assigned) release_token_ = held_token_;
    for (auto& ack : std::exchange(held_acks_, {})) ack();
  }
  if (caps.assigned && joined_) backend->leave();
  // An observer's read has nothing to undo; a candidate's acquire may win and is waited for
  // (bounded by stop_timeout), so a lease it won is released.
  if (in_flight_ && in_flight_->op == Op::read) in_flight_.reset();
  std::weak_ptr<ElectorCore> weak = shared_from_this();
  stop_timer_ = exec->after(opts.stop_timeout, [weak] {
    if (auto self = weak.lock()) self->transition(Phase::stopped);
  });
}

void ElectorCore::enter_stopped() {
  in_flight_.reset();
  for (auto* t : {&wake_, &deadline_, &hold_timer_, &stop_timer_})
    if (*t) (*t)->cancel();
  note_leaderless_end();
  publish_status();
  auto done = [self = shared_from_this()] { self->stopped_promise_.set_value(); };
  if (!backend) return done();
  backend->close(exec->now() + opts.stop_timeout, std::move(done));
}

// Holding ends: the application acknowledged, or the safety margin it was promised passed.
void ElectorCore::end_hold() {
  if (phase_ != Phase::holding) return;
  if (hold_timer_) hold_timer_->cancel();
  transition(Phase::candidate);
  if (pending_grant_) {  // the server granted again while we held: lead now
    LeaseRecord g = *std::exchange(pending_grant_, std::nullopt);
    transition(Phase::leader, RevokeReason::none, {}, &g, exec->now());
  }
  step();
}

bool ElectorCore::paused(Clock::duration late) {
  // Lateness of the step timer itself, measured when it fires: a request's round trip never
  // counts, so a slow renewal gets every retry its request timeout allows (overdue() judges it).
  const auto margin = opts.timing.lease_duration - opts.timing.renew_deadline;
  if (late <= margin) return false;
  transition(Phase::holding, RevokeReason::renew_deadline,
             "timers fired " + std::to_string(to_ms(late)) +
                 " ms late, more than the safety margin of " + std::to_string(margin.count()) +
                 " ms (lease_duration - renew_deadline): the process was paused, so the lease "
                 "may have expired");
  return true;
}

bool ElectorCore::overdue() {
  const auto since = exec->now() - last_renew_ok_;
  if (since < opts.timing.renew_deadline) return false;
  transition(Phase::holding, RevokeReason::renew_deadline,
             "no successful renewal for " + std::to_string(to_ms(since)) + " ms (renew_deadline " +
                 std::to_string(opts.timing.renew_deadline.count()) + " ms)" +
                 (last_error_.empty() ? "" : "; last error: " + last_error_));
  return true;
}

}  // namespace tenure
