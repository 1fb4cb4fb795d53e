// The elector's state machine against a scripted backend on the fake clock: the lease-store
// path, the renews_itself path and the assigned (Kafka-shaped) path, and every sink event in
// every phase.
#include <gtest/gtest.h>

#include "../support/scripted_backend.hpp"
#include "../support/test_support.hpp"
#include "tenure/elector.hpp"
#include "tenure/manual_executor.hpp"

namespace tenure::testing {
namespace {

using namespace std::chrono_literals;

class StateMachine : public ::testing::Test {
 protected:
  void TearDown() override { finish(); }

  // Stops the elector until its backend is closed, then destroys it. On the fake clock nobody
  // else finishes a stop: an elector dropped mid-stop would stay alive through the completions
  // its backend still holds (a leak under LeakSanitizer).
  void finish() {
    if (elector_ && b_ && !b_->closed()) {
      (void)elector_->stop();  // may already be stopping
      for (int i = 0; i < 1000 && !b_->closed(); ++i) {
        if (b_->pending_releases()) b_->answer_release();
        exec_->advance(10ms);
      }
      EXPECT_TRUE(b_->closed()) << "the stop did not close the backend";
    }
    elector_.reset();
    exec_->run_ready();
    exec_->clear();
  }

  // Creates and starts an elector on a scripted backend with these capabilities.
  ScriptedBackend& start(Capabilities caps, bool observe = false) {
    name_ = unique_name("sm");
    ScriptedBackend::install(name_, caps);
    ElectorOptions o;
    o.backend_url = "scripted://" + name_;
    o.election = "job";
    o.identity = "me";
    o.timing = timing_;
    o.observe_only = observe;
    o.stop_timeout = 2s;
    auto r = Elector::create_with_executor(o, exec_);
    EXPECT_TRUE(r.ok()) << r.status.message;
    elector_ = std::move(r.value);
    b_ = ScriptedBackend::get(name_);
    EXPECT_NE(b_, nullptr);
    EXPECT_TRUE(elector_->start().ok());
    exec_->run_ready();
    return *b_;
  }
  std::vector<Event> drain() { return drain_events(*elector_); }
  static const Event* find(const std::vector<Event>& v, EventType t) { return find_event(v, t); }
  // The lease-store leader: started, acquired with token 7, events drained.
  ScriptedBackend& lead(Capabilities caps = {}) {
    auto& b = start(caps);
    EXPECT_EQ(b.counts.acquire, 1);
    EXPECT_TRUE(b.answer_acquire(ScriptedBackend::won(b.ours(7))));
    exec_->run_ready();
    EXPECT_TRUE(elector_->status().is_leader);
    drain();
    return b;
  }
  // With a ManualExecutor, stop() only starts the stop; the test's clock finishes it.
  void stop_elector() {
    EXPECT_TRUE(elector_->stop().ok());
    for (int i = 0; i < 100 && !b_->closed(); ++i) {
      exec_->advance(10ms);
      if (b_->pending_releases()) b_->answer_release();
    }
    exec_->run_ready();
  }

  std::shared_ptr<ManualExecutor> exec_ = std::make_shared<ManualExecutor>();
  // lease 3000, renew_deadline 2000, retry 500: the safety margin is 1000 ms.
  Timing timing_{3000ms, 2000ms, 500ms};
  std::string name_;
  std::unique_ptr<Elector> elector_;
  ScriptedBackend* b_ = nullptr;
};

Capabilities renews_itself() {
  Capabilities c;
  c.renews_itself = true;
  return c;
}
Capabilities assigned() {
  Capabilities c;
  c.assigned = true;
  return c;
}

// ---- lease-store path ----

TEST_F(StateMachine, LeaseStoreAcquiresThenRenewsEveryRetryPeriod) {
  auto& b = lead();
  EXPECT_EQ(b.counts.start, 1);
  EXPECT_EQ(b.counts.renew, 0);
  exec_->advance(499ms);
  EXPECT_EQ(b.counts.renew, 0) << "no renewal before retry_period";
  exec_->advance(1ms);
  EXPECT_EQ(b.counts.renew, 1);
  EXPECT_EQ(b.last_renew_token, 7u);
  EXPECT_TRUE(b.answer_renew(b.ours(7)));
  exec_->advance(100ms);
  EXPECT_EQ(b.counts.renew, 1) << "one request at a time, the next after retry_period";
  exec_->advance(400ms);
  EXPECT_EQ(b.counts.renew, 2);
  EXPECT_EQ(b.counts.join, 0);
}

TEST_F(StateMachine, RetryAtWakesTheFollowerThenNotAtRetryPeriod) {
  auto& b = start({});
  ASSERT_EQ(b.counts.acquire, 1);
  // The holder's lease can move in 120 ms: the core wakes then, not after retry_period.
  b.answer_acquire(
      ScriptedBackend::not_won(ScriptedBackend::held_by("other", 3), exec_->now() + 120ms));
  exec_->run_ready();
  exec_->advance(119ms);
  EXPECT_EQ(b.counts.acquire, 1);
  exec_->advance(1ms);
  EXPECT_EQ(b.counts.acquire, 2) << "woken at retry_at";
  // A retry_at beyond the follower delay is capped by it (retry_period plus up to 20% jitter).
  b.answer_acquire(
      ScriptedBackend::not_won(ScriptedBackend::held_by("other", 3), exec_->now() + 10s));
  exec_->run_ready();
  exec_->advance(499ms);
  EXPECT_EQ(b.counts.acquire, 2);
  exec_->advance(101ms);
  EXPECT_EQ(b.counts.acquire, 3) << "retry_period (with jitter) caps a later retry_at";
  // A retry_at in the past means now.
  b.answer_acquire(
      ScriptedBackend::not_won(ScriptedBackend::held_by("other", 3), exec_->now() - 1s));
  exec_->run_ready();
  exec_->advance(0ms);
  EXPECT_EQ(b.counts.acquire, 4);
}

TEST_F(StateMachine, ChangedWakesACandidateAtOnce) {
  auto& b = start({});
  b.answer_acquire(ScriptedBackend::not_won(ScriptedBackend::held_by("other", 3)));
  exec_->run_ready();
  EXPECT_EQ(b.counts.acquire, 1);
  b.sink().changed();
  exec_->run_ready();
  EXPECT_EQ(b.counts.acquire, 2) << "a push needs no timer";
  // A push while the acquire is out: look again right after its answer.
  b.sink().changed();
  exec_->run_ready();
  EXPECT_EQ(b.counts.acquire, 2);
  b.answer_acquire(ScriptedBackend::not_won(ScriptedBackend::held_by("other", 3)));
  exec_->advance(1ms);
  EXPECT_EQ(b.counts.acquire, 3);
}

TEST_F(StateMachine, LostRenewalHoldsTheLeaseUntilAckRevoked) {
  auto& b = lead();
  exec_->advance(500ms);
  ASSERT_EQ(b.counts.renew, 1);
  b.answer_renew(make_error(Errc::lost, "someone else holds it"));
  exec_->run_ready();
  auto ev = drain();
  auto* rev = find(ev, EventType::revoked);
  ASSERT_NE(rev, nullptr);
  EXPECT_EQ(rev->reason, RevokeReason::lost);
  EXPECT_FALSE(elector_->status().is_leader);
  exec_->advance(900ms);
  EXPECT_EQ(b.counts.release, 0) << "held until ack_revoked or the margin";
  EXPECT_EQ(b.counts.acquire, 1) << "no acquisition while holding";
  elector_->ack_revoked();
  exec_->run_ready();
  ASSERT_EQ(b.counts.release, 1) << "ack_revoked gives the lease back at once";
  EXPECT_EQ(b.released_tokens.back(), 7u);
  b.answer_release();
  exec_->advance(700ms);
  EXPECT_EQ(b.counts.acquire, 2) << "a candidate again after the release";
}

TEST_F(StateMachine, AHeldLeaseGoesBackAfterTheSafetyMarginWithoutAck) {
  auto& b = lead();
  b.sink().lost(make_error(Errc::lost, "the server says TTL 0"));
  exec_->run_ready();
  auto ev = drain();
  ASSERT_NE(find(ev, EventType::revoked), nullptr) << "lost steps down at once";
  EXPECT_EQ(find(ev, EventType::revoked)->reason, RevokeReason::lost);
  exec_->advance(999ms);
  EXPECT_EQ(b.counts.release, 0);
  exec_->advance(1ms);
  EXPECT_EQ(b.counts.release, 1) << "released at lease_duration - renew_deadline";
}

TEST_F(StateMachine, ABackendFailureEndingLeadershipIsBackendError) {
  auto& b = lead();
  b.sink().lost(make_error(Errc::unreachable, "the keep-alive stream broke"));
  exec_->run_ready();
  auto ev = drain();
  ASSERT_NE(find(ev, EventType::revoked), nullptr);
  EXPECT_EQ(find(ev, EventType::revoked)->reason, RevokeReason::backend_error);
  EXPECT_EQ(elector_->metrics().step_downs_backend_error, 1u);
  EXPECT_EQ(b.counts.release, 0) << "held like any involuntary step-down";
}

TEST_F(StateMachine, FailingRenewalsEndAtRenewDeadline) {
  auto& b = lead();
  for (int i = 0; i < 60 && elector_->status().is_leader; ++i) {
    exec_->advance(50ms);
    if (b.pending_renews()) b.answer_renew(make_error(Errc::unreachable, "down"));
  }
  EXPECT_FALSE(elector_->status().is_leader);
  auto ev = drain();
  ASSERT_NE(find(ev, EventType::revoked), nullptr);
  EXPECT_EQ(find(ev, EventType::revoked)->reason, RevokeReason::renew_deadline);
  EXPECT_GE(b.counts.renew, 3) << "retried at retry_period / 2";
}

TEST_F(StateMachine, AHungRenewalEndsAtRenewDeadline) {
  auto& b = lead();
  exec_->advance(500ms);
  ASSERT_EQ(b.pending_renews(), 1u);
  exec_->advance(1499ms);
  EXPECT_TRUE(elector_->status().is_leader);
  exec_->advance(1ms);
  EXPECT_FALSE(elector_->status().is_leader) << "the watchdog runs while the renewal is out";
  // Its late answer changes nothing.
  b.answer_renew(b.ours(7));
  exec_->run_ready();
  EXPECT_FALSE(elector_->status().is_leader);
}

TEST_F(StateMachine, APausedProcessStepsDown) {
  auto& b = lead();
  exec_->jump(1600ms);  // the renew timer fires 1100 ms late: more than the margin
  exec_->advance(0ms);
  EXPECT_FALSE(elector_->status().is_leader);
  EXPECT_EQ(b.counts.renew, 0) << "no renewal from a process that may have lost its lease";
}

TEST_F(StateMachine, ResignReleasesAtOnceAndSitsOut) {
  auto& b = lead();
  elector_->resign();
  exec_->run_ready();
  ASSERT_EQ(b.counts.release, 1);
  auto ev = drain();
  EXPECT_EQ(find(ev, EventType::revoked)->reason, RevokeReason::released);
  b.answer_release();
  exec_->advance(499ms);
  EXPECT_EQ(b.counts.acquire, 1) << "sits out one retry_period";
  exec_->advance(101ms);
  EXPECT_EQ(b.counts.acquire, 2);
}

TEST_F(StateMachine, StopReleasesThenClosesWithADeadline) {
  auto& b = lead();
  const auto t0 = exec_->now();
  stop_elector();
  EXPECT_EQ(b.counts.release, 1);
  EXPECT_EQ(b.counts.close, 1);
  EXPECT_GE(b.close_deadline, t0 + 2s) << "close may work until stop_timeout";
}

TEST_F(StateMachine, StopWaitsForAnAcquireThenGivesBackWhatItWon) {
  auto& b = start({});
  ASSERT_EQ(b.pending_acquires(), 1u);
  ASSERT_TRUE(elector_->stop().ok());
  for (int i = 0; i < 50; ++i) exec_->advance(1ms);
  EXPECT_FALSE(b.closed()) << "the acquire is waited for";
  b.answer_acquire(ScriptedBackend::won(b.ours(9)));
  for (int i = 0; i < 50 && !b.closed(); ++i) {
    exec_->advance(1ms);
    if (b.pending_releases()) b.answer_release();
  }
  ASSERT_EQ(b.released_tokens.size(), 1u);
  EXPECT_EQ(b.released_tokens[0], 9u);
  EXPECT_TRUE(b.closed());
  EXPECT_EQ(find(drain(), EventType::elected), nullptr) << "never elected while stopping";
}

// ---- renews_itself path (etcd-shaped) ----

TEST_F(StateMachine, RenewsItselfArmsNoRenewTickAndRenewedFeedsTheWatchdog) {
  auto& b = lead(renews_itself());
  for (int i = 0; i < 6; ++i) {
    exec_->advance(500ms);
    b.sink().renewed(b.ours(7));
    exec_->run_ready();
  }
  EXPECT_TRUE(elector_->status().is_leader) << "renewed() keeps it alive for 3 s";
  EXPECT_EQ(b.counts.renew, 0) << "the core never renews a backend that renews itself";
  EXPECT_EQ(elector_->metrics().renewals, 6u);
  exec_->advance(1999ms);
  EXPECT_TRUE(elector_->status().is_leader);
  exec_->advance(1ms);
  EXPECT_FALSE(elector_->status().is_leader) << "no renewed() within renew_deadline";
  EXPECT_EQ(find(drain(), EventType::revoked)->reason, RevokeReason::renew_deadline);
}

TEST_F(StateMachine, RenewsItselfLostStepsDownAtOnce) {
  auto& b = lead(renews_itself());
  b.sink().lost(make_error(Errc::lost, "keep-alive answered TTL 0"));
  exec_->run_ready();
  EXPECT_FALSE(elector_->status().is_leader);
  EXPECT_EQ(find(drain(), EventType::revoked)->reason, RevokeReason::lost);
  elector_->ack_revoked();
  exec_->run_ready();
  EXPECT_EQ(b.counts.release, 1);
}

// ---- assigned path (Kafka-shaped) ----

TEST_F(StateMachine, AssignedJoinsAndLeadsOnGrantNeverAcquires) {
  auto& b = start(assigned());
  EXPECT_EQ(b.counts.join, 1);
  exec_->advance(5s);
  EXPECT_EQ(b.counts.acquire, 0);
  EXPECT_EQ(b.counts.join, 1) << "joined once";
  b.sink().granted(b.ours(42));
  exec_->run_ready();
  EXPECT_TRUE(elector_->status().is_leader);
  auto ev = drain();
  ASSERT_NE(find(ev, EventType::elected), nullptr);
  EXPECT_EQ(find(ev, EventType::elected)->token, 42u);
  exec_->advance(10s);
  EXPECT_TRUE(elector_->status().is_leader) << "no renew deadline: the server decides";
  EXPECT_EQ(b.counts.acquire + b.counts.renew + b.counts.release, 0);
}

TEST_F(StateMachine, ARevokeCompletesOnlyAfterAckRevoked) {
  auto& b = start(assigned());
  b.sink().granted(b.ours(42));
  exec_->run_ready();
  drain();
  int acks = 0;
  b.sink().revoked(RevokeReason::lost, make_error(Errc::lost, "rebalance"), [&acks] { ++acks; });
  exec_->run_ready();
  EXPECT_FALSE(elector_->status().is_leader) << "revoked steps down at once";
  EXPECT_EQ(find(drain(), EventType::revoked)->reason, RevokeReason::lost);
  exec_->advance(500ms);
  EXPECT_EQ(acks, 0) << "the server waits for the application";
  elector_->ack_revoked();
  exec_->run_ready();
  EXPECT_EQ(acks, 1);
  elector_->ack_revoked();
  exec_->advance(2s);
  EXPECT_EQ(acks, 1) << "exactly once";
  EXPECT_EQ(b.counts.release, 0) << "an assigned backend releases nothing";
}

TEST_F(StateMachine, ARevokeCompletesAfterTheSafetyMarginWithoutAck) {
  auto& b = start(assigned());
  b.sink().granted(b.ours(42));
  exec_->run_ready();
  int acks = 0;
  b.sink().revoked(RevokeReason::lost, make_error(Errc::lost, "rebalance"), [&acks] { ++acks; });
  exec_->run_ready();
  exec_->advance(999ms);
  EXPECT_EQ(acks, 0);
  exec_->advance(1ms);
  EXPECT_EQ(acks, 1) << "ack at lease_duration - renew_deadline";
}

TEST_F(StateMachine, AGrantWhileHoldingLeadsOnlyAfterTheAck) {
  auto& b = start(assigned());
  b.sink().granted(b.ours(42));
  exec_->run_ready();
  int acks = 0;
  b.sink().revoked(RevokeReason::lost, Status{}, [&acks] { ++acks; });
  b.sink().granted(b.ours(43));
  exec_->run_ready();
  EXPECT_FALSE(elector_->status().is_leader) << "the old work has not drained";
  drain();
  elector_->ack_revoked();
  exec_->run_ready();
  EXPECT_EQ(acks, 1);
  EXPECT_TRUE(elector_->status().is_leader);
  EXPECT_EQ(find(drain(), EventType::elected)->token, 43u);
}

TEST_F(StateMachine, AssignedStopLeavesAndRunsAHeldAck) {
  auto& b = start(assigned());
  b.sink().granted(b.ours(42));
  exec_->run_ready();
  int acks = 0;
  b.sink().revoked(RevokeReason::lost, Status{}, [&acks] { ++acks; });
  exec_->run_ready();
  stop_elector();
  EXPECT_EQ(acks, 1);
  EXPECT_EQ(b.counts.leave, 1);
  EXPECT_EQ(b.counts.close, 1);
}

TEST_F(StateMachine, AssignedResignLeavesThenJoinsAfterTheSitOut) {
  auto& b = start(assigned());
  b.sink().granted(b.ours(42));
  exec_->run_ready();
  elector_->resign();
  exec_->run_ready();
  EXPECT_FALSE(elector_->status().is_leader);
  EXPECT_EQ(b.counts.leave, 1);
  exec_->advance(499ms);
  EXPECT_EQ(b.counts.join, 1);
  exec_->advance(1ms);
  EXPECT_EQ(b.counts.join, 2);
}

// ---- every sink event in every phase ----

// Pushes each event in each phase; none may crash, lead by mistake, or complete an ack twice.
TEST_F(StateMachine, EverySinkEventInEveryPhase) {
  enum class At { candidate, leader, holding, stopping };
  for (At at : {At::candidate, At::leader, At::holding, At::stopping}) {
    for (int ev = 0; ev < 7; ++ev) {
      SCOPED_TRACE("phase " + std::to_string(int(at)) + " event " + std::to_string(ev));
      auto& b = start({});
      if (at != At::candidate) {
        b.answer_acquire(ScriptedBackend::won(b.ours(5)));
        exec_->run_ready();
      }
      if (at == At::holding) {
        b.sink().lost(make_error(Errc::lost, "gone"));
        exec_->run_ready();
      }
      if (at == At::stopping) {
        ASSERT_TRUE(elector_->stop().ok());
        while (!b.pending_releases()) exec_->advance(1ms);
      }
      drain();
      const bool was_leader = elector_->status().is_leader;
      int acks = 0;
      switch (ev) {
        case 0:
          b.sink().changed();
          break;
        case 1:
          b.sink().granted(b.ours(99));
          break;
        case 2:
          b.sink().revoked(RevokeReason::lost, Status{}, [&acks] { ++acks; });
          break;
        case 3:
          b.sink().lost(make_error(Errc::lost, "gone"));
          break;
        case 4:
          b.sink().renewed(b.ours(5));
          break;
        case 5:
          b.sink().leader_changed(ScriptedBackend::held_by("x", 6));
          break;
        case 6:
          b.sink().report(make_error(Errc::backend, "degraded"));
          break;
      }
      exec_->run_ready();
      auto evs = drain();
      EXPECT_EQ(find(evs, EventType::elected), nullptr) << "a lease store never leads by grant";
      if (ev == 1 && at == At::candidate)
        EXPECT_NE(find(evs, EventType::error), nullptr) << "a grant to a lease store is a bug";
      if (ev == 6 && at != At::stopping) EXPECT_NE(find(evs, EventType::error), nullptr);
      if ((ev == 2 || ev == 3) && at == At::leader) {
        EXPECT_FALSE(elector_->status().is_leader);
        EXPECT_NE(find(evs, EventType::revoked), nullptr);
      } else if (ev != 1) {
        EXPECT_EQ(elector_->status().is_leader, was_leader);
      }
      if (at == At::stopping) {
        while (!b.closed()) {
          if (b.pending_releases()) b.answer_release();
          exec_->advance(1ms);
        }
      }
      exec_->advance(2s);
      if (ev == 2) EXPECT_EQ(acks, 1) << "every revoke's ack runs exactly once";
      finish();
    }
  }
}

TEST_F(StateMachine, ObserverReadsAndWakesAtTheHoldersExpiry) {
  auto& b = start({}, /*observe=*/true);
  EXPECT_EQ(b.counts.acquire, 0);
  ASSERT_EQ(b.counts.read, 1);
  auto rec = ScriptedBackend::held_by("other", 3);
  rec.expires_in_ms = 100;
  b.answer_read(rec);
  exec_->run_ready();
  EXPECT_EQ(elector_->status().leader, "other");
  exec_->advance(101ms);
  EXPECT_EQ(b.counts.read, 2) << "woken at the holder's expiry";
}

}  // namespace
}  // namespace tenure::testing
