// Deterministic state-machine tests: memory backend, ManualExecutor (a fake clock), poll mode.
#include <gtest/gtest.h>

#include "../support/test_support.hpp"
#include "memory/memory_backend.hpp"
#include "tenure/elector.hpp"
#include "tenure/manual_executor.hpp"

namespace tenure::testing {
namespace {

using backends::MemoryFault;
using backends::set_memory_fault;

class ElectorFsm : public ::testing::Test {
 protected:
  void SetUp() override {
    ns_ = unique_name("fsm");
    election_ = "job";
  }
  void TearDown() override {
    set_memory_fault(ns_, election_, MemoryFault::none);
    exec_->run_ready();  // the electors' stops, posted by their destructors
    exec_->clear();
    exec_->clear();  // what the first clear's destroyed captures posted
  }

  std::unique_ptr<Elector> make(const std::string& id, bool observe = false) {
    ElectorOptions o;
    o.backend_url = "memory://" + ns_;
    o.election = election_;
    o.identity = id;
    o.timing = timing_;
    o.observe_only = observe;
    auto r = Elector::create_with_executor(o, exec_);
    EXPECT_TRUE(r.ok()) << r.status.message;
    return std::move(r.value);
  }
  // "a" leads and "b" waits as its standby; the events of getting there are drained.
  std::pair<std::unique_ptr<Elector>, std::unique_ptr<Elector>> leader_and_standby() {
    auto a = make("a");
    auto b = make("b");
    a->start();
    exec_->run_ready();
    b->start();
    exec_->run_ready();
    drain(*a);
    drain(*b);
    return {std::move(a), std::move(b)};
  }
  // All events queued so far.
  static std::vector<Event> drain(Elector& e) { return drain_events(e); }
  static const Event* find(const std::vector<Event>& v, EventType t) { return find_event(v, t); }

  std::shared_ptr<ManualExecutor> exec_ = std::make_shared<ManualExecutor>();
  Timing timing_{milliseconds(3000), milliseconds(2000), milliseconds(500)};
  std::string ns_, election_;
};

TEST_F(ElectorFsm, AcquiresRenewsAndReportsInOrder) {
  auto a = make("a");
  ASSERT_TRUE(a->start().ok());
  exec_->run_ready();
  auto ev = drain(*a);
  ASSERT_EQ(ev.size(), 2u);
  EXPECT_EQ(ev[0].type, EventType::elected);
  EXPECT_EQ(ev[0].token, 1u);
  EXPECT_EQ(ev[1].type, EventType::leader_changed);
  EXPECT_EQ(ev[1].leader, "a");
  EXPECT_TRUE(a->status().is_leader);
  exec_->advance(milliseconds(5000));
  EXPECT_TRUE(a->status().is_leader);
  auto m = a->metrics();
  EXPECT_GE(m.renewals, 9u);
  uint64_t in_buckets = 0;
  for (auto c : m.renew_latency_buckets) in_buckets += c;
  EXPECT_EQ(in_buckets, m.renewals);
  EXPECT_EQ(m.acquisitions, 1u);
  EXPECT_TRUE(drain(*a).empty()) << "renewals must not produce events";
  EXPECT_GE(a->status().ms_since_last_renewal, 0);
  EXPECT_LE(a->status().ms_since_last_renewal, 500);
}

TEST_F(ElectorFsm, SecondCandidateFollows) {
  auto a = make("a");
  auto b = make("b");
  a->start();
  exec_->run_ready();
  b->start();
  exec_->run_ready();
  auto ev = drain(*b);
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].type, EventType::leader_changed);
  EXPECT_EQ(ev[0].leader, "a");
  EXPECT_EQ(ev[0].token, 1u);
  EXPECT_FALSE(b->status().is_leader);
  EXPECT_EQ(b->status().leader, "a");
  EXPECT_EQ(b->status().role, Role::candidate);
}

TEST_F(ElectorFsm, RenewFailuresUpToDeadlineThenStepDownBeforeExpiry) {
  auto a = make("a");
  a->start();
  exec_->run_ready();
  drain(*a);
  auto t_ok = exec_->now();
  set_memory_fault(ns_, election_, MemoryFault::fail);
  // Failures before the deadline: still leader, one error event (not one per retry).
  exec_->advance(milliseconds(1900));
  EXPECT_TRUE(a->status().is_leader);
  auto ev = drain(*a);
  int errors = 0;
  for (auto& e : ev) errors += e.type == EventType::error;
  EXPECT_EQ(errors, 1);
  EXPECT_EQ(find(ev, EventType::revoked), nullptr);
  exec_->advance(milliseconds(200));
  ASSERT_FALSE(a->status().is_leader);
  ev = drain(*a);
  auto* r = find(ev, EventType::revoked);
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->reason, RevokeReason::renew_deadline);
  // It stepped down before the lease (3 s after the last renewal) could expire.
  EXPECT_LT(exec_->now() - t_ok, timing_.lease_duration);
  EXPECT_EQ(a->metrics().step_downs_renew_deadline, 1u);
  // Healed: after the old lease expires it is elected again with a new token.
  set_memory_fault(ns_, election_, MemoryFault::none);
  exec_->advance(milliseconds(4000));
  ev = drain(*a);
  auto* el = find(ev, EventType::elected);
  ASSERT_NE(el, nullptr);
  EXPECT_EQ(el->token, 2u);
}

TEST_F(ElectorFsm, LeaseHeldAfterInvoluntaryStepDownUntilAcknowledged) {
  auto [a, b] = leader_and_standby();
  set_memory_fault(ns_, election_, MemoryFault::fail);
  exec_->advance(milliseconds(2001));
  ASSERT_FALSE(a->status().is_leader);
  set_memory_fault(ns_, election_, MemoryFault::none);
  // a's work may still be draining: a keeps the lease (without leading), b must wait.
  exec_->advance(milliseconds(400));
  EXPECT_FALSE(b->status().is_leader) << "successor started while the old leader drained";
  EXPECT_FALSE(a->status().is_leader) << "a re-acquired while holding for its drain";
  a->ack_revoked();  // the work has stopped: give the lease back now
  exec_->advance(milliseconds(2));
  EXPECT_TRUE(b->status().is_leader) << "ack did not release the held lease";
}

TEST_F(ElectorFsm, HeldLeaseIsReleasedAfterTheMarginWithoutAck) {
  auto a = make("a");
  auto b = make("b");
  a->start();
  exec_->run_ready();
  b->start();
  exec_->run_ready();
  set_memory_fault(ns_, election_, MemoryFault::fail);
  exec_->advance(milliseconds(2001));
  set_memory_fault(ns_, election_, MemoryFault::none);
  exec_->advance(milliseconds(998));
  EXPECT_FALSE(b->status().is_leader);
  // The margin (lease 3000 - deadline 2000) has passed; b takes over at its next retry.
  exec_->advance(milliseconds(700));
  EXPECT_TRUE(b->status().is_leader);
}

// A leader that stepped down while its server was unreachable finds its own previous lease
// still on record when it retries: that is no other elector with its identity.
TEST_F(ElectorFsm, OwnPreviousLeaseIsNotReportedAsIdentityInUse) {
  auto a = make("a");
  a->start();
  exec_->run_ready();
  drain(*a);
  set_memory_fault(ns_, election_, MemoryFault::fail);
  exec_->advance(milliseconds(2001));
  ASSERT_FALSE(a->status().is_leader);
  a->ack_revoked();  // the release is sent and fails: the lease stays ours until it expires
  exec_->advance(milliseconds(5));
  set_memory_fault(ns_, election_, MemoryFault::none);
  exec_->advance(milliseconds(700));  // one retry while the old lease (3 s) still lives
  for (auto& e : drain(*a)) EXPECT_NE(e.code, Errc::identity_in_use) << e.message;
  EXPECT_EQ(a->status().leader, "a");
  exec_->advance(milliseconds(3000));
  EXPECT_TRUE(a->status().is_leader) << "elected again once its old lease expired";
}

TEST_F(ElectorFsm, HungRenewalStillStepsDownAtDeadline) {
  auto a = make("a");
  a->start();
  exec_->run_ready();
  drain(*a);
  set_memory_fault(ns_, election_, MemoryFault::hang);
  exec_->advance(milliseconds(1999));
  EXPECT_TRUE(a->status().is_leader);
  exec_->advance(milliseconds(2));
  EXPECT_FALSE(a->status().is_leader) << "a hung request must not keep leadership";
  auto ev = drain(*a);
  ASSERT_NE(find(ev, EventType::revoked), nullptr);
  EXPECT_EQ(find(ev, EventType::revoked)->reason, RevokeReason::renew_deadline);
}

TEST_F(ElectorFsm, StopReleasesAndStandbyTakesOverAtOnce) {
  auto [a, b] = leader_and_standby();
  a->stop();
  exec_->run_ready();  // no time passes: the push, not a retry, wakes b
  exec_->advance(milliseconds(1));
  auto ea = drain(*a);
  ASSERT_NE(find(ea, EventType::revoked), nullptr);
  EXPECT_EQ(find(ea, EventType::revoked)->reason, RevokeReason::stopped);
  EXPECT_EQ(a->status().role, Role::stopped);
  auto eb = drain(*b);
  ASSERT_NE(find(eb, EventType::elected), nullptr);
  EXPECT_EQ(find(eb, EventType::elected)->token, 2u);
  EXPECT_TRUE(b->status().is_leader);
}

TEST_F(ElectorFsm, TokensGrowAcrossHandovers) {
  std::vector<std::unique_ptr<Elector>> es;
  for (int i = 0; i < 4; ++i) {
    es.push_back(make("c" + std::to_string(i)));
    es.back()->start();
  }
  exec_->run_ready();
  uint64_t last = 0;
  for (int round = 0; round < 4; ++round) {
    exec_->advance(milliseconds(2));
    int leaders = 0;
    for (auto& e : es) {
      if (!e || !e->status().is_leader) continue;
      ++leaders;
      EXPECT_GT(e->status().token, last);
      last = e->status().token;
    }
    ASSERT_EQ(leaders, 1);
    for (auto& e : es)
      if (e && e->status().is_leader) {
        e->stop();
        exec_->run_ready();
        e.reset();
        break;
      }
  }
}

TEST_F(ElectorFsm, ObserverReportsLeaderChanges) {
  auto o = make("watcher", true);
  o->start();
  exec_->run_ready();
  auto ev = drain(*o);
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].type, EventType::leader_changed);
  EXPECT_EQ(ev[0].leader, "");
  auto a = make("a");
  a->start();
  exec_->advance(milliseconds(1));
  ev = drain(*o);
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].leader, "a");
  EXPECT_EQ(o->status().role, Role::observer);
  EXPECT_FALSE(o->status().is_leader);
  a->stop();
  exec_->advance(milliseconds(1));
  ev = drain(*o);
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].leader, "");
}

TEST_F(ElectorFsm, PausedLeaderStepsDownBeforeAnythingElse) {
  auto a = make("a");
  a->start();
  exec_->run_ready();
  drain(*a);
  exec_->advance(milliseconds(600));
  // The process sleeps (SIGSTOP, GC, VM freeze) longer than the 1 s safety margin.
  exec_->jump(milliseconds(1500));
  exec_->advance(milliseconds(0));
  auto ev = drain(*a);
  ASSERT_FALSE(ev.empty());
  EXPECT_EQ(ev[0].type, EventType::revoked) << "the first thing after a pause is the step-down";
  EXPECT_EQ(ev[0].reason, RevokeReason::renew_deadline);
  EXPECT_NE(ev[0].message.find("paused"), std::string::npos) << ev[0].message;
}

TEST_F(ElectorFsm, SlowRenewalIsNotReadAsAPause) {
  auto a = make("a");
  a->start();
  exec_->run_ready();
  drain(*a);
  // The renewal sent at 500 ms answers after 1200 ms, more than the 1 s safety margin but well
  // within renew_deadline: the round trip is not timer lateness, so a keeps leading.
  exec_->advance(milliseconds(499));
  set_memory_fault(ns_, election_, MemoryFault::hang);
  exec_->advance(milliseconds(2));
  exec_->advance(milliseconds(1200));
  set_memory_fault(ns_, election_, MemoryFault::none);
  exec_->advance(milliseconds(1));
  EXPECT_TRUE(a->status().is_leader);
  auto* r = find(drain(*a), EventType::revoked);
  EXPECT_EQ(r, nullptr) << r->message;
  exec_->advance(milliseconds(3000));
  EXPECT_TRUE(a->status().is_leader) << "renewals go on after the slow one";
  EXPECT_EQ(a->metrics().step_downs_renew_deadline, 0u);
}

TEST_F(ElectorFsm, RenewalHungPastTheDeadlineStepsDownForTheDeadline) {
  auto a = make("a");
  a->start();
  exec_->run_ready();
  drain(*a);
  set_memory_fault(ns_, election_, MemoryFault::hang);
  exec_->advance(milliseconds(2100));
  auto ev = drain(*a);
  auto* r = find(ev, EventType::revoked);
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->reason, RevokeReason::renew_deadline);
  EXPECT_NE(r->message.find("no successful renewal"), std::string::npos) << r->message;
  EXPECT_EQ(r->message.find("paused"), std::string::npos) << r->message;
  set_memory_fault(ns_, election_, MemoryFault::none);
}

TEST_F(ElectorFsm, ResignHandsOverAndSitsOut) {
  auto [a, b] = leader_and_standby();
  a->resign();
  exec_->advance(milliseconds(2));
  auto ea = drain(*a);
  ASSERT_NE(find(ea, EventType::revoked), nullptr);
  EXPECT_EQ(find(ea, EventType::revoked)->reason, RevokeReason::released);
  EXPECT_TRUE(b->status().is_leader);
  EXPECT_FALSE(a->status().is_leader);
  EXPECT_EQ(a->status().role, Role::candidate);
  EXPECT_EQ(a->metrics().step_downs_released, 1u);
}

TEST_F(ElectorFsm, LostLeaseIsReportedAsLost) {
  auto a = make("a");
  a->start();
  exec_->run_ready();
  drain(*a);
  backends::steal_memory_lease(ns_, election_, "intruder");
  exec_->advance(milliseconds(600));
  EXPECT_FALSE(a->status().is_leader);
  auto ev = drain(*a);
  auto* r = find(ev, EventType::revoked);
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->reason, RevokeReason::lost);
  EXPECT_EQ(a->metrics().step_downs_lost, 1u);
}

TEST_F(ElectorFsm, IdentityInUseInProcess) {
  auto a = make("same");
  auto b = make("same");
  ASSERT_TRUE(a->start().ok());
  auto s = b->start();
  EXPECT_EQ(s.code, Errc::identity_in_use);
  EXPECT_NE(s.message.find("same"), std::string::npos);
  b.reset();  // the refused elector must not unregister the running one
  auto c = make("same");
  EXPECT_EQ(c->start().code, Errc::identity_in_use);
  EXPECT_EQ(a->start().code, Errc::bad_state) << "started twice";
  a->stop();
  exec_->run_ready();
  EXPECT_EQ(a->start().code, Errc::bad_state) << "restarted after stop";
  EXPECT_TRUE(c->start().ok()) << "the identity is free once its elector stopped";
}

TEST_F(ElectorFsm, InvalidOptionsAreRefusedWithReasons) {
  ElectorOptions o;
  o.backend_url = "memory://x";
  o.election = "ok";
  o.timing = {milliseconds(1000), milliseconds(1000), milliseconds(100)};
  auto r = Elector::create_with_executor(o, exec_);
  EXPECT_EQ(r.status.code, Errc::invalid_timing);
  EXPECT_NE(r.status.message.find("lease_duration must be greater than renew_deadline"),
            std::string::npos);
  o.timing = {};
  o.election = "";
  EXPECT_EQ(Elector::create_with_executor(o, exec_).status.code, Errc::invalid_name);
  o.election = "has space";
  EXPECT_EQ(Elector::create_with_executor(o, exec_).status.code, Errc::invalid_name);
  o.election = "ok";
  o.identity = "bad id";
  EXPECT_EQ(Elector::create_with_executor(o, exec_).status.code, Errc::invalid_name);
  o.identity = "";
  o.backend_url = "nosuch://x";
  r = Elector::create_with_executor(o, exec_);
  EXPECT_EQ(r.status.code, Errc::unsupported_backend);
  EXPECT_NE(r.status.message.find("file://"), std::string::npos) << r.status.message;
  o.backend_url = "not a url";
  EXPECT_EQ(Elector::create_with_executor(o, exec_).status.code, Errc::bad_url);
}

// Callbacks need the real runtime (the event thread).
TEST(ElectorCallbacks, StopAndDestroyFromInsideOwnCallback) {
  ElectorOptions o;
  o.backend_url = "memory://" + unique_name("cb");
  o.election = "e";
  o.timing = {milliseconds(3000), milliseconds(2000), milliseconds(100)};
  auto r = Elector::create(o);
  ASSERT_TRUE(r.ok());
  std::unique_ptr<Elector> e = std::move(r.value);
  std::atomic<int> stop_rc{-1};
  std::atomic<bool> destroyed{false};
  std::promise<void> done;
  e->set_callback([&](const Event& ev) {
    if (ev.type == EventType::elected) {
      stop_rc = static_cast<int>(e->stop().code);  // must not wait for itself
    } else if (ev.type == EventType::revoked) {
      e.reset();  // destroying from inside the callback must not deadlock
      destroyed = true;
      done.set_value();
    }
  });
  ASSERT_TRUE(e->start().ok());
  ASSERT_EQ(done.get_future().wait_for(std::chrono::seconds(10)), std::future_status::ready)
      << "deadlock: stop/destroy from the callback";
  EXPECT_EQ(stop_rc.load(), 0);
  EXPECT_TRUE(destroyed.load());
}

TEST(ElectorCallbacks, SlowCallbackDoesNotDelayRenewals) {
  ElectorOptions o;
  o.backend_url = "memory://" + unique_name("slow");
  o.election = "e";
  o.timing = {milliseconds(600), milliseconds(400), milliseconds(50)};
  auto r = Elector::create(o);
  ASSERT_TRUE(r.ok());
  std::atomic<bool> elected{false};
  r.value->set_callback([&](const Event& ev) {
    if (ev.type == EventType::elected) {
      elected = true;
      std::this_thread::sleep_for(std::chrono::milliseconds(1500));  // blocks the event thread
    }
  });
  ASSERT_TRUE(r.value->start().ok());
  ASSERT_TRUE(wait_until([&] { return elected.load(); }, 5s));
  std::this_thread::sleep_for(std::chrono::milliseconds(1000));
  EXPECT_TRUE(r.value->status().is_leader) << "renewals stalled behind a slow callback";
  EXPECT_GE(r.value->metrics().renewals, 10u);
  r.value->stop();
}

}  // namespace
}  // namespace tenure::testing
