// What other threads see (status, metrics), the events the application gets, and log records.
#include "elector_core.hpp"

namespace tenure {

namespace {
using std::chrono::duration_cast;
int64_t to_ms(Clock::duration d) { return duration_cast<milliseconds>(d).count(); }
}  // namespace

void ElectorCore::log(LogLevel level, std::string message) const {
  tenure::log(level, "core", std::move(message), opts.election, opts.identity);
}

void ElectorCore::emit(Event e) { events->push(std::move(e)); }

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

void ElectorCore::count_step_down(RevokeReason why) {
  std::lock_guard lock(mu_);
  switch (why) {
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

void ElectorCore::note_leaderless_end() {
  std::lock_guard lock(mu_);
  if (leaderless_) m_.leaderless_ms += to_ms(exec->now() - leaderless_since_);
  leaderless_ = false;
}

void ElectorCore::publish_status() {
  const bool leading = phase_ == Phase::leader;
  Role role = Role::stopped;
  switch (phase_) {
    case Phase::idle:
    case Phase::stopped:
      role = Role::stopped;
      break;
    case Phase::leader:
      role = Role::leader;
      break;
    case Phase::candidate:
    case Phase::holding:
    case Phase::stopping:
      role = opts.observe_only ? Role::observer : Role::candidate;
      break;
  }
  std::lock_guard lock(mu_);
  st_.role = role;
  st_.is_leader = leading;
  st_.token = leading ? token_ : (known_ ? known_token_ : 0);
  st_.leader = leading ? opts.identity : (known_ ? known_leader_ : std::string());
  m_.is_leader = leading;
  m_.token = leading ? token_ : 0;
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

}  // namespace tenure
