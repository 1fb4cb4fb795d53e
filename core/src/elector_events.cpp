// What each event does to the state machine: the application's calls, the timers and the
// backend's sink. Each changes a little state (phases change only in transition()) and steps.
#include <algorithm>

#include "elector_core.hpp"

namespace tenure {

void ElectorCore::on_start() {
  if (phase_ != Phase::idle) return;
  transition(Phase::candidate);
  step();
}

void ElectorCore::on_stop() {
  if (phase_ == Phase::stopping || phase_ == Phase::stopped) return;
  if (phase_ == Phase::idle) return transition(Phase::stopped);
  transition(Phase::stopping, RevokeReason::stopped, "elector stopped; releasing the lease");
  step();
}

void ElectorCore::on_resign() {
  if (phase_ != Phase::leader) return;
  sit_out_until_ = exec->now() + opts.timing.retry_period;
  transition(Phase::candidate, RevokeReason::released, "resigned on request");
  if (caps.assigned) {
    // The server assigned leadership: leave the group; step() joins again after the sit-out.
    backend->leave();
    joined_ = false;
  }
  step();
}

void ElectorCore::on_ack() { end_hold(); }

void ElectorCore::on_wake() {
  fired_late_ = exec->now() - wake_due_;
  if (fired_late_ < Clock::duration::zero()) fired_late_ = Clock::duration::zero();
  step();
  fired_late_ = Clock::duration::zero();
}

// The renew_deadline watchdog: it runs while a renewal is out (step() waits for it), and on its
// own for backends that renew themselves. It re-arms itself when it finds the deadline moved.
void ElectorCore::on_deadline() {
  if (phase_ != Phase::leader || caps.assigned) return;
  if (!overdue()) arm_deadline();
}

void ElectorCore::on_changed() {
  if (phase_ != Phase::candidate) return;  // a leader renews anyway; holding waits for its ack
  pushed_ = true;
  step();
}

void ElectorCore::on_granted(const LeaseRecord& rec) {
  if (phase_ == Phase::idle || phase_ == Phase::stopped) return;
  if (!caps.assigned || opts.observe_only) {
    report_error(make_error(Errc::internal,
                            "the backend granted leadership to an elector that does not take "
                            "assignments (capabilities().assigned is false, or observe_only): a "
                            "bug in the backend"));
    return;
  }
  switch (phase_) {
    case Phase::candidate:
      transition(Phase::leader, RevokeReason::none, {}, &rec, exec->now());
      return step();
    case Phase::holding:
      pending_grant_ = rec;  // leads once the revoked work has drained
      return;
    case Phase::leader:
      if (rec.token != token_) observe(rec);
      return;
    case Phase::idle:
    case Phase::stopping:
    case Phase::stopped:
      return;  // the backend is being closed: its leave() ends this grant
  }
}

void ElectorCore::on_revoked(RevokeReason why, const Status& detail, std::function<void()> ack) {
  if (phase_ == Phase::leader) {
    if (ack) held_acks_.push_back(std::move(ack));
    if (why == RevokeReason::none) why = RevokeReason::lost;
    transition(Phase::holding, why,
               detail.message.empty() ? "the backend revoked leadership" : detail.message);
    return;
  }
  if (phase_ == Phase::holding) {
    if (ack) held_acks_.push_back(std::move(ack));
    return;
  }
  pending_grant_.reset();
  if (ack) ack();  // nothing of ours runs under it
}

void ElectorCore::on_lost(const Status& why) {
  if (phase_ != Phase::leader) return;
  // Someone else holds it (lost, fenced) is a lost race; anything else is the backend failing
  // under us (a broken keep-alive stream, an invalidated server session).
  const bool race = why.code == Errc::lost || why.code == Errc::fenced || why.code == Errc::ok;
  transition(Phase::holding, race ? RevokeReason::lost : RevokeReason::backend_error, why.message);
}

void ElectorCore::on_renewed(const LeaseRecord& rec) {
  if (phase_ != Phase::leader || !caps.renews_itself) return;
  // The keep-alive's send time is not known here: its answer's arrival is (a little later). The
  // safety margin (lease_duration - renew_deadline) covers that one-way delay.
  record_renewal(exec->now(), rec);
}

}  // namespace tenure
