// Requests to the backend and what their answers do, plus the timers that schedule the step.
// One request is out at a time; a phase change may supersede it (its answer is then stale: only
// a lease a stale acquire won is given back).
#include <algorithm>

#include "elector_core.hpp"

namespace tenure {

namespace {
using std::chrono::duration_cast;
int64_t to_ms(Clock::duration d) { return duration_cast<milliseconds>(d).count(); }
}  // namespace

uint64_t ElectorCore::send(Op op) {
  in_flight_ = Request{op, ++next_request_id_};
  return next_request_id_;
}

bool ElectorCore::is_current(uint64_t id) {
  if (!in_flight_ || in_flight_->id != id) return false;
  in_flight_.reset();
  return true;
}

// ---- acquire ----

void ElectorCore::send_acquire() {
  const uint64_t id = send(Op::acquire);
  backend->acquire([self = shared_from_this(), id, t0 = exec->now()](Result<AcquireOutcome> r) {
    self->on_acquired(id, t0, std::move(r));
  });
}

void ElectorCore::on_acquired(uint64_t id, Clock::time_point t0, Result<AcquireOutcome> r) {
  const bool current = is_current(id);
  if (!current || phase_ != Phase::candidate) {
    // We stopped (or the request was superseded) while it was out: give back a lease it won.
    if (r.ok() && r.value.acquired && phase_ != Phase::stopped) {
      if (current && phase_ == Phase::stopping) {
        release_token_ = r.value.record.token;
      } else {
        backend->release(r.value.record.token, [](Result<bool>) {});
      }
    }
    return step();
  }
  const auto now = exec->now();
  if (!r.ok()) {
    report_error(r.status);
    next_try_ = now + retry_delay();
    return step();
  }
  last_error_.clear();
  note_contact();
  if (r.value.acquired) {
    transition(Phase::leader, RevokeReason::none, {}, &r.value.record, t0);
    return step();
  }
  observe(r.value.record);
  // Our identity on the record is another elector's only if it is not the lease we held last:
  // after an involuntary step-down whose release did not get through (a partition), the server
  // keeps our own previous lease (or session lock) until it ends, and no one else is involved.
  if (r.value.record.holder == opts.identity && r.value.record.token != token_) {
    report_error(make_error(Errc::identity_in_use,
                            "the lease of election '" + opts.election +
                                "' is held under our identity '" + opts.identity +
                                "' by another elector or process; give every candidate its own "
                                "identity"));
  }
  // Look again after the follower delay, sooner when the backend said when the lease can move
  // (retry_at) or pushed a change meanwhile.
  auto next = now + (pushed_ ? Clock::duration(milliseconds(1)) : follower_delay());
  if (r.value.retry_at) next = std::clamp(*r.value.retry_at, now, next);
  pushed_ = false;
  next_try_ = next;
  step();
}

// ---- renew ----

void ElectorCore::send_renew() {
  const uint64_t id = send(Op::renew);
  backend->renew(token_, [self = shared_from_this(), id, t0 = exec->now()](Result<LeaseRecord> r) {
    self->on_renew_done(id, t0, std::move(r));
  });
}

void ElectorCore::on_renew_done(uint64_t id, Clock::time_point t0, Result<LeaseRecord> r) {
  if (!is_current(id) || phase_ != Phase::leader) return step();
  const auto now = exec->now();
  if (r.ok()) {
    record_renewal(t0, r.value);
    if (overdue()) return step();
    renew_due_ = now + opts.timing.retry_period;
    return step();
  }
  {
    std::lock_guard lock(mu_);
    ++m_.renew_failures;
  }
  if (r.status.code == Errc::lost || r.status.code == Errc::fenced) {
    transition(Phase::holding, RevokeReason::lost, r.status.message);
    return step();
  }
  report_error(r.status);
  if (overdue()) return step();
  renew_due_ = now + opts.timing.retry_period / 2;
  step();
}

void ElectorCore::record_renewal(Clock::time_point t0, const LeaseRecord& rec) {
  const auto now = exec->now();
  const auto prev = last_renew_ok_;
  last_renew_ok_ = t0;
  last_error_.clear();
  std::lock_guard lock(mu_);
  ++m_.renewals;
  snap_last_renew_ = t0;
  snap_last_contact_ = now;
  auto us = duration_cast<std::chrono::microseconds>(now - t0).count();
  m_.renew_latency_sum_us += us;
  for (size_t i = 0; i < kRenewBucketsUs.size(); ++i)
    if (us <= kRenewBucketsUs[i]) {
      ++m_.renew_latency_buckets[i];
      break;
    }
  int64_t slack = opts.timing.renew_deadline.count() - to_ms(now - prev);
  m_.last_renew_slack_ms = slack;
  if (m_.min_renew_slack_ms < 0 || slack < m_.min_renew_slack_ms) m_.min_renew_slack_ms = slack;
  st_.record = rec;
}

// ---- release ----

void ElectorCore::send_release(uint64_t token) {
  release_token_ = 0;
  const uint64_t id = send(Op::release);
  backend->release(token, [self = shared_from_this(), id](Result<bool>) { self->on_released(id); });
}

void ElectorCore::on_released(uint64_t id) {
  if (!is_current(id)) return step();
  // The release compares the token, so its answer changes nothing: a candidate tries again
  // after the usual delay (a resigned one after its sit-out), a stopping elector closes.
  if (phase_ == Phase::candidate) next_try_ = exec->now() + retry_delay();
  step();
}

// ---- read (observers) ----

void ElectorCore::send_read() {
  const uint64_t id = send(Op::read);
  backend->read(
      [self = shared_from_this(), id](Result<LeaseRecord> r) { self->on_read(id, std::move(r)); });
}

void ElectorCore::on_read(uint64_t id, Result<LeaseRecord> r) {
  if (!is_current(id) || phase_ != Phase::candidate) return step();
  const auto now = exec->now();
  if (!r.ok()) {
    report_error(r.status);
  } else {
    last_error_.clear();
    note_contact();
    observe(r.value);
  }
  auto next = now + (pushed_ ? Clock::duration(milliseconds(1)) : follower_delay());
  // A holder's lease that runs out may change hands then: look again at that time.
  if (r.ok() && !r.value.holder.empty() && r.value.expires_in_ms >= 0)
    next = std::min(next, now + milliseconds(r.value.expires_in_ms + 1));
  pushed_ = false;
  next_try_ = next;
  step();
}

// ---- timers ----

// The one step timer: re-armed only when the due time changes.
void ElectorCore::wake_at(Clock::time_point due) {
  if (wake_ && wake_due_ == due) return;
  if (wake_) std::exchange(wake_, nullptr)->cancel();
  wake_due_ = due;
  std::weak_ptr<ElectorCore> weak = shared_from_this();
  wake_ = exec->after(std::max(due - exec->now(), Clock::duration::zero()), [weak] {
    if (auto self = weak.lock()) {
      self->wake_.reset();
      self->on_wake();
    }
  });
}

void ElectorCore::arm_deadline() {
  if (deadline_) deadline_->cancel();
  auto delay = last_renew_ok_ + opts.timing.renew_deadline - exec->now();
  std::weak_ptr<ElectorCore> weak = shared_from_this();
  deadline_ = exec->after(std::max(delay, Clock::duration::zero()), [weak] {
    if (auto self = weak.lock()) self->on_deadline();
  });
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

}  // namespace tenure
