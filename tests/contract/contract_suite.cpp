#include "contract_suite.hpp"

#include <atomic>
#include <set>
#include <thread>

#include "../support/backend_sessions.hpp"
#include "../support/test_support.hpp"

namespace tenure::testing {

void BackendContract::SetUp() {
  url_ = GetParam().url();
  if (url_.empty()) {
    std::string msg = GetParam().name + " server not available: " + GetParam().missing_hint;
    if (under_ci()) FAIL() << msg << " (CI=true: a missing server fails)";
    GTEST_SKIP() << msg;
  }
}

std::unique_ptr<Elector> BackendContract::make(const std::string& election,
                                               const std::string& identity, bool observe) {
  ElectorOptions o;
  o.backend_url = url_;
  o.election = election;
  o.identity = identity;
  o.timing = GetParam().timing;
  o.observe_only = observe;
  o.stop_timeout = milliseconds(3000);
  o.backend_options = GetParam().backend_options;
  auto r = Elector::create(o);
  EXPECT_TRUE(r.ok()) << r.status.message;
  return r.ok() ? std::move(r.value) : nullptr;
}

TEST_P(BackendContract, SessionAcquireRenewReleaseRead) {
  auto election = unique_name("session");
  BackendSessions s;
  auto oa = s.open(url_, election, "alice", GetParam().timing, GetParam().backend_options);
  auto ob = s.open(url_, election, "bob", GetParam().timing, GetParam().backend_options);
  ASSERT_TRUE(oa.ok()) << oa.status.message;
  ASSERT_TRUE(ob.ok()) << ob.status.message;
  auto* a = oa.value;
  auto* b = ob.value;

  auto ra = s.acquire(a);
  ASSERT_TRUE(ra.ok()) << ra.status.message;
  ASSERT_TRUE(ra.value.acquired);
  uint64_t t1 = ra.value.record.token;
  EXPECT_GT(t1, 0u);

  auto rb = s.acquire(b);
  ASSERT_TRUE(rb.ok()) << rb.status.message;
  EXPECT_FALSE(rb.value.acquired) << "two holders at once";
  EXPECT_EQ(rb.value.record.holder, "alice");

  auto rd = s.read(b);
  ASSERT_TRUE(rd.ok()) << rd.status.message;
  EXPECT_EQ(rd.value.holder, "alice");
  EXPECT_EQ(rd.value.token, t1);

  EXPECT_TRUE(s.renew(a, t1).ok());
  auto bad_renew = s.renew(b, t1);
  EXPECT_EQ(bad_renew.status.code, Errc::lost)
      << "a non-holder renewed: " << bad_renew.status.message;
  EXPECT_EQ(s.renew(a, t1 + 1000).status.code, Errc::lost) << "renew with a wrong token";
  EXPECT_EQ(s.release(b, t1).status.code, Errc::lost) << "a non-holder released";

  auto rel = s.release(a, t1);
  ASSERT_TRUE(rel.ok()) << rel.status.message;
  EXPECT_EQ(s.renew(a, t1).status.code, Errc::lost) << "renew after release";

  auto rb2 = s.acquire(b);
  ASSERT_TRUE(rb2.ok()) << rb2.status.message;
  ASSERT_TRUE(rb2.value.acquired);
  EXPECT_GT(rb2.value.record.token, t1) << "fencing token did not grow";
}

TEST_P(BackendContract, MutualExclusionUnderContention) {
  auto election = unique_name("contention");
  std::vector<std::unique_ptr<EventLog>> logs;  // outlives the electors that call into it
  std::vector<std::unique_ptr<Elector>> es;
  for (int i = 0; i < 5; ++i) {
    logs.push_back(std::make_unique<EventLog>());
    es.push_back(make(election, "cand-" + std::to_string(i)));
    ASSERT_TRUE(es.back());
    ASSERT_TRUE(es.back()->set_callback(logs.back()->callback()).ok());
  }
  for (auto& e : es) ASSERT_TRUE(e->start().ok());
  ASSERT_TRUE(wait_until([&] { return count_leaders(es) == 1; }, 10s)) << "no leader elected";
  // Sample for a while: never two leaders; then make leaders go away one by one.
  std::set<uint64_t> tokens;
  for (int round = 0; round < 3; ++round) {
    for (int i = 0; i < 50; ++i) {
      ASSERT_LE(count_leaders(es), 1) << "two leaders at once";
      std::this_thread::sleep_for(2ms);
    }
    ASSERT_TRUE(wait_until([&] { return count_leaders(es) == 1; }, 10s)) << "no leader elected";
    for (auto& e : es)
      if (e && e->status().is_leader) {
        auto t = e->status().token;
        EXPECT_TRUE(tokens.empty() || t > *tokens.rbegin()) << "token did not grow: " << t;
        tokens.insert(t);
        EXPECT_TRUE(e->stop().ok());
        e.reset();
        break;
      }
  }
  EXPECT_EQ(tokens.size(), 3u);
  ASSERT_TRUE(wait_until([&] { return count_leaders(es) == 1; }, 10s));
}

TEST_P(BackendContract, ReleaseWakesStandbyWithoutPolling) {
  auto election = unique_name("wake");
  ContractTarget t = GetParam();
  ElectorOptions o;
  // A retry period far longer than the bound below: only a push can make the standby this fast.
  auto mk = [&](const std::string& id) {
    o.backend_url = url_;
    o.election = election;
    o.identity = id;
    o.timing = {milliseconds(30000), milliseconds(20000), milliseconds(10000)};
    o.backend_options = t.backend_options;
    auto r = Elector::create(o);
    EXPECT_TRUE(r.ok()) << r.status.message;
    return std::move(r.value);
  };
  auto a = mk("first");
  EventLog la, lb;
  a->set_callback(la.callback());
  ASSERT_TRUE(a->start().ok());
  ASSERT_TRUE(la.wait_type(EventType::elected, 10s));
  auto b = mk("second");
  b->set_callback(lb.callback());
  ASSERT_TRUE(b->start().ok());
  ASSERT_TRUE(lb.wait_for(
      [](const Event& e) { return e.type == EventType::leader_changed && e.leader == "first"; },
      10s))
      << "standby never saw the leader";
  if (!b->capabilities().push_wakeup) GTEST_SKIP() << "backend has no push wake-up";
  auto t0 = std::chrono::steady_clock::now();
  ASSERT_TRUE(a->stop().ok());
  ASSERT_TRUE(lb.wait_type(EventType::elected, 5s)) << "standby not woken by the release";
  auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0);
  EXPECT_LT(ms.count(), 3000) << "handover took " << ms.count() << " ms: was it a poll?";
}

TEST_P(BackendContract, ObserverSeesChanges) {
  auto election = unique_name("observe");
  auto obs = make(election, "watcher", true);
  EventLog lo;
  obs->set_callback(lo.callback());
  ASSERT_TRUE(obs->start().ok());
  ASSERT_TRUE(lo.wait_type(EventType::leader_changed, 10s));  // first view: none
  auto a = make(election, "leader-a");
  EventLog la;
  a->set_callback(la.callback());
  ASSERT_TRUE(a->start().ok());
  Event e;
  ASSERT_TRUE(lo.wait_for(
      [](const Event& ev) {
        return ev.type == EventType::leader_changed && ev.leader == "leader-a";
      },
      10s, &e));
  EXPECT_GT(e.token, 0u);
  EXPECT_FALSE(obs->status().is_leader);
  EXPECT_EQ(obs->status().role, Role::observer);
  ASSERT_TRUE(a->stop().ok());
  ASSERT_TRUE(lo.wait_for(
      [](const Event& ev) { return ev.type == EventType::leader_changed && ev.leader.empty(); },
      10s))
      << "observer did not see the release";
}

TEST_P(BackendContract, CrashedLeaderIsReplaced) {
  if (!GetParam().cross_process) GTEST_SKIP() << "in-process backend: no other process to kill";
  const char* child = std::getenv("TENURE_TEST_CHILD");
  ASSERT_TRUE(child) << "TENURE_TEST_CHILD must name the tenure_elector_child binary";
  auto election = unique_name("crash");
  auto& t = GetParam().timing;
  std::vector<std::string> argv = {child,
                                   url_,
                                   election,
                                   "doomed",
                                   std::to_string(t.lease_duration.count()),
                                   std::to_string(t.renew_deadline.count()),
                                   std::to_string(t.retry_period.count())};
  for (auto& [k, v] : GetParam().backend_options) argv.push_back("backend." + k + "=" + v);
  ChildProcess leader(argv);
  ASSERT_TRUE(leader.started());
  auto line = leader.wait_line("elected", 20s);
  ASSERT_FALSE(line.empty()) << "child never elected";
  uint64_t old_token = std::stoull(line.substr(8));
  auto b = make(election, "survivor");
  EventLog lb;
  b->set_callback(lb.callback());
  ASSERT_TRUE(b->start().ok());
  ASSERT_TRUE(lb.wait_for(
      [](const Event& e) { return e.type == EventType::leader_changed && e.leader == "doomed"; },
      10s));
  auto t0 = std::chrono::steady_clock::now();
  leader.kill(SIGKILL);
  leader.wait();
  Event el;
  ASSERT_TRUE(lb.wait_type(EventType::elected, t.lease_duration * 2 + 5s, &el));
  EXPECT_GT(el.token, old_token);
  auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0);
  if (b->capabilities().session_bound) EXPECT_LT(ms.count(), 2000) << "session-bound failover slow";
  std::printf("[ info ] %s crash failover: %lld ms\n", GetParam().name.c_str(),
              (long long)ms.count());
}

TEST_P(BackendContract, RunOnceNeverRunsTwice) {
  auto election = unique_name("ledger");
  auto a = make(election, "ledger-a");
  EventLog la;
  a->set_callback(la.callback());
  ASSERT_TRUE(a->start().ok());
  ASSERT_TRUE(la.wait_type(EventType::elected, 10s));
  if (!a->capabilities().ledger) GTEST_SKIP() << "backend has no ledger";
  int runs = 0;
  auto job = [&](uint64_t token, std::string& detail) {
    ++runs;
    detail = "ran under " + std::to_string(token);
    return true;
  };
  auto r1 = a->run_once("report:2026-11-26", UnfinishedPolicy::retry, job);
  ASSERT_TRUE(r1.ok()) << r1.status.message;
  EXPECT_TRUE(r1.value.ran);
  EXPECT_EQ(r1.value.record.status, RunStatus::finished);
  auto r2 = a->run_once("report:2026-11-26", UnfinishedPolicy::retry, job);
  ASSERT_TRUE(r2.ok()) << r2.status.message;
  EXPECT_FALSE(r2.value.ran);
  EXPECT_EQ(runs, 1);

  // A job the old leader started and never finished: the new leader sees it and retries.
  auto r3 = a->run_once("half-done", UnfinishedPolicy::retry, [&](uint64_t, std::string&) {
    // Leadership ends while the job runs: the finish must be refused as fenced.
    a->resign();
    wait_until([&] { return !a->status().is_leader; }, 5s);
    return true;
  });
  EXPECT_EQ(r3.status.code, Errc::fenced)
      << "finish after losing leadership: " << r3.status.message;
  a->stop();
  a.reset();

  auto b = make(election, "ledger-b");
  EventLog lb;
  b->set_callback(lb.callback());
  ASSERT_TRUE(b->start().ok());
  ASSERT_TRUE(lb.wait_type(EventType::elected, 10s));
  auto r4 = b->run_once("report:2026-11-26", UnfinishedPolicy::retry, job);
  ASSERT_TRUE(r4.ok()) << r4.status.message;
  EXPECT_FALSE(r4.value.ran) << "new leader re-ran a finished job";
  EXPECT_EQ(r4.value.record.holder, "ledger-a");
  auto skip = b->run_once("half-done", UnfinishedPolicy::skip, job);
  ASSERT_TRUE(skip.ok()) << skip.status.message;
  EXPECT_FALSE(skip.value.ran);
  EXPECT_EQ(skip.value.record.status, RunStatus::started);
  EXPECT_EQ(skip.value.record.holder, "ledger-a");
  auto retry = b->run_once("half-done", UnfinishedPolicy::retry, job);
  ASSERT_TRUE(retry.ok()) << retry.status.message;
  EXPECT_TRUE(retry.value.ran);
  EXPECT_EQ(runs, 2);
}

TEST_P(BackendContract, LedgerListsRecordsByPrefix) {
  auto election = unique_name("list");
  auto a = make(election, "list-a");
  EventLog la;
  a->set_callback(la.callback());
  ASSERT_TRUE(a->start().ok());
  ASSERT_TRUE(la.wait_type(EventType::elected, 10s));
  if (!a->capabilities().ledger) GTEST_SKIP() << "backend has no ledger";
  auto empty = a->list_runs("job@");
  ASSERT_TRUE(empty.ok()) << empty.status.message;
  EXPECT_TRUE(empty.value.empty());
  auto ok = [](uint64_t, std::string& d) {
    d = "done";
    return true;
  };
  // Keys with characters that are special in globs and LIKE patterns would be refused as keys;
  // '_' and '-' are legal and must be matched literally.
  for (const char* k : {"job@2026-01-10T02:00:00Z", "job@2026-01-10T01:00:00Z",
                        "job@2026-01-11T01:00:00Z", "jobx@2026-01-10T01:00:00Z", "jo_@1", "other"})
    ASSERT_TRUE(a->run_once(k, UnfinishedPolicy::retry, ok).ok()) << k;
  auto all = a->list_runs("job@");
  ASSERT_TRUE(all.ok()) << all.status.message;
  ASSERT_EQ(all.value.size(), 3u);
  EXPECT_EQ(all.value[0].job_key, "job@2026-01-10T01:00:00Z");
  EXPECT_EQ(all.value[2].job_key, "job@2026-01-11T01:00:00Z");
  EXPECT_EQ(all.value[0].status, RunStatus::finished);
  EXPECT_EQ(all.value[0].holder, "list-a");
  EXPECT_EQ(all.value[0].detail, "done");
  EXPECT_GT(all.value[0].token, 0u);
  auto last = a->list_runs("job@", 2);
  ASSERT_TRUE(last.ok());
  ASSERT_EQ(last.value.size(), 2u);
  EXPECT_EQ(last.value[0].job_key, "job@2026-01-10T02:00:00Z");
  auto every = a->list_runs("");
  ASSERT_TRUE(every.ok());
  EXPECT_EQ(every.value.size(), 6u);
  auto under = a->list_runs("jo_");
  ASSERT_TRUE(under.ok());
  ASSERT_EQ(under.value.size(), 1u);
  EXPECT_EQ(under.value[0].job_key, "jo_@1");
  EXPECT_FALSE(a->list_runs("bad key").ok());
  // Anyone may list: an observer too.
  auto o = make(election, "list-o", true);
  ASSERT_TRUE(o->start().ok());
  auto seen = o->list_runs("job@");
  ASSERT_TRUE(seen.ok()) << seen.status.message;
  EXPECT_EQ(seen.value.size(), 3u);
}

TEST_P(BackendContract, ServerRestartNeverTwoLeaders) {
  if (!GetParam().restart_server) GTEST_SKIP() << "no restart hook: the server is in-process";
  auto election = unique_name("restart");
  std::vector<std::unique_ptr<Elector>> es;
  for (int i = 0; i < 3; ++i) {
    es.push_back(make(election, "r-" + std::to_string(i)));
    ASSERT_TRUE(es.back()->start().ok());
  }
  ASSERT_TRUE(wait_until([&] { return count_leaders(es) == 1; }, 10s));
  OneLeaderSampler sampler(es);
  GetParam().restart_server();
  bool back = wait_until([&] { return count_leaders(es) == 1; }, 30s);
  std::this_thread::sleep_for(GetParam().timing.lease_duration);
  EXPECT_TRUE(sampler.finish()) << "two leaders at once across a server restart";
  EXPECT_TRUE(back) << "no leader after the server restart";
}

TEST_P(BackendContract, BadCredentialsGiveClearError) {
  if (!GetParam().bad_credentials_url) GTEST_SKIP() << "backend has no credentials";
  ElectorOptions o;
  o.backend_url = GetParam().bad_credentials_url();
  o.election = unique_name("auth");
  o.timing = GetParam().timing;
  o.backend_options = GetParam().backend_options;
  auto r = Elector::create(o);
  if (!r.ok()) {
    EXPECT_EQ(r.status.code, Errc::auth_failed) << r.status.message;
    return;
  }
  EventLog l;
  r.value->set_callback(l.callback());
  ASSERT_TRUE(r.value->start().ok());
  Event e;
  ASSERT_TRUE(l.wait_type(EventType::error, 10s, &e)) << "no error event for bad credentials";
  EXPECT_EQ(e.code, Errc::auth_failed) << e.message;
  auto parsed = parse_url(o.backend_url);
  if (parsed.ok() && !parsed.value.password.empty())
    EXPECT_EQ(e.message.find(parsed.value.password), std::string::npos) << "password leaked";
  EXPECT_FALSE(r.value->status().is_leader);
}

}  // namespace tenure::testing
