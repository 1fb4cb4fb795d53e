// Session mode under faults (issue 8): never two leaders when the leader's lock session is slow,
// ended by the server or frozen, and failover bounded by the lease when the old holder's session
// lives on. Each test fails on the design before the fix: a renewal timeout reset the lock
// connection (freeing the lock under a leader that had not stepped down), a standby took the row
// of an ended session at once, and a frozen holder kept the lock for as long as it was frozen.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <mutex>
#include <thread>

#include "pg_test_support.hpp"
#include "tenure/elector.hpp"

namespace tenure::testing {
namespace {

using Clk = std::chrono::steady_clock;

#define REQUIRE_PG(out) TENURE_REQUIRE_ENV("TENURE_TEST_POSTGRES_URL", out, kPgHint)

// An in-process elector whose events are logged with the time they arrived.
struct Timed {
  std::unique_ptr<EventLog> log = std::make_unique<EventLog>();
  std::unique_ptr<Elector> e;
  std::shared_ptr<std::mutex> mu = std::make_shared<std::mutex>();
  std::shared_ptr<std::vector<std::pair<Clk::time_point, Event>>> seen =
      std::make_shared<std::vector<std::pair<Clk::time_point, Event>>>();

  // When the first event of type t arrived, or nullopt.
  std::optional<Clk::time_point> first(EventType t) const {
    std::lock_guard lock(*mu);
    for (auto& [at, ev] : *seen)
      if (ev.type == t) return at;
    return std::nullopt;
  }
  std::string dump() const {
    std::lock_guard lock(*mu);
    std::string out = "\nevents:";
    for (auto& [at, ev] : *seen)
      out += std::string("\n  ") + event_type_name(ev.type) + " token=" + std::to_string(ev.token) +
             " leader=" + ev.leader + " " + errc_name(ev.code) + " " + ev.message;
    return out;
  }
};

Timed start(const std::string& url, const std::string& election, const std::string& identity,
            Timing t) {
  ElectorOptions o;
  o.backend_url = url;
  o.election = election;
  o.identity = identity;
  o.timing = t;
  Timed r;
  auto e = Elector::create(o);
  EXPECT_TRUE(e.ok()) << e.status.message;
  if (!e.ok()) return r;
  r.e = std::move(e.value);
  auto cb = r.log->callback();
  r.e->set_callback([cb, mu = r.mu, seen = r.seen](const Event& ev) {
    {
      std::lock_guard lock(*mu);
      seen->emplace_back(Clk::now(), ev);
    }
    cb(ev);
  });
  EXPECT_TRUE(r.e->start().ok());
  return r;
}

std::string lock_backend_pid(Pq& pq, const std::string& election) {
  return pq.one("SELECT holder_pid FROM tenure_leases WHERE election = '" + election + "'");
}

struct Resume {  // SIGCONT on every path out of a test
  pid_t p;
  ~Resume() { ::kill(p, SIGCONT); }
};

// The server stops answering the leader's lock connection for longer than a request timeout but
// less than renew_deadline (a reply blip): the leader keeps its lock session, and so its office.
TEST(PostgresSessionFaults, ReplyBlipShorterThanRenewDeadlineKeepsTheLeader) {
  std::string base;
  REQUIRE_PG(base);
  const std::string url = with_query(base, "mode=session");
  const std::string election = unique_name("blip");
  const Timing t{4000ms, 3000ms, 300ms};  // request timeout 1350 ms
  auto a = start(url, election, "alpha", t);
  Event ea;
  ASSERT_TRUE(a.log->wait_type(EventType::elected, 5s, &ea)) << a.dump();
  auto b = start(url, election, "beta", t);
  ASSERT_TRUE(b.log->wait_type(EventType::leader_changed, 5s)) << b.dump();
  std::this_thread::sleep_for(300ms);  // beta waits in pg_advisory_lock()
  Pq pq(base);
  ASSERT_TRUE(pq.ok()) << pq.error();
  const std::string pid = lock_backend_pid(pq, election);
  ASSERT_FALSE(pid.empty());
  const pid_t backend = static_cast<pid_t>(std::stol(pid));
  {
    ASSERT_EQ(::kill(backend, SIGSTOP), 0);
    Resume resume{backend};
    std::this_thread::sleep_for(2000ms);
  }
  std::this_thread::sleep_for(3000ms);  // past the renew deadline, counted from the blip's start
  EXPECT_TRUE(a.e->status().is_leader) << a.dump();
  EXPECT_FALSE(a.first(EventType::revoked)) << a.dump();
  EXPECT_FALSE(b.first(EventType::elected)) << b.dump();
  EXPECT_EQ(a.e->status().token, ea.token);
}

// The lock connection stays silent past renew_deadline: the leader steps down on its own, and
// only then (after its application acknowledged) can the standby lead.
TEST(PostgresSessionFaults, SilentLockConnectionHandsOverOnlyAfterTheStepDown) {
  std::string base;
  REQUIRE_PG(base);
  const std::string url = with_query(base, "mode=session");
  const std::string election = unique_name("silent");
  const Timing t{3000ms, 2000ms, 300ms};
  auto a = start(url, election, "alpha", t);
  Event ea;
  ASSERT_TRUE(a.log->wait_type(EventType::elected, 5s, &ea)) << a.dump();
  auto b = start(url, election, "beta", t);
  ASSERT_TRUE(b.log->wait_type(EventType::leader_changed, 5s)) << b.dump();
  std::this_thread::sleep_for(300ms);
  Pq pq(base);
  ASSERT_TRUE(pq.ok()) << pq.error();
  const std::string pid = lock_backend_pid(pq, election);
  ASSERT_FALSE(pid.empty());
  const pid_t backend = static_cast<pid_t>(std::stol(pid));
  ASSERT_EQ(::kill(backend, SIGSTOP), 0);
  Resume resume{backend};
  Event rev;
  ASSERT_TRUE(a.log->wait_type(EventType::revoked, 5s, &rev)) << a.dump();
  EXPECT_EQ(rev.reason, RevokeReason::renew_deadline) << rev.message;
  EXPECT_EQ(rev.message.find("paused"), std::string::npos) << "a slow server is not a pause";
  a.e->ack_revoked();  // the application's leader-only work has stopped
  std::this_thread::sleep_for(500ms);
  ::kill(backend, SIGCONT);  // the old session now sees its closed socket and ends
  Event eb;
  ASSERT_TRUE(b.log->wait_type(EventType::elected, 5s, &eb)) << b.dump() << a.dump();
  EXPECT_GT(eb.token, ea.token);
  EXPECT_LT(*a.first(EventType::revoked), *b.first(EventType::elected));
}

// An operator ends every session of the leader's process: the leader hears it and steps down,
// and the standby is elected only after that.
TEST(PostgresSessionFaults, TerminatedLeaderStepsDownBeforeTheSuccessorIsElected) {
  std::string base, child;
  REQUIRE_PG(base);
  TENURE_REQUIRE_ENV("TENURE_TEST_CHILD", child, std::string("run the tests through ctest"));
  const std::string election = unique_name("term");
  const std::string app = "tenure_term_" + std::to_string(::getpid());
  const Timing t{5000ms, 4000ms, 1000ms};
  ChildProcess leader({child, with_query(base, "mode=session&application_name=" + app), election,
                       "child", "5000", "4000", "1000"});
  ASSERT_TRUE(leader.started());
  ASSERT_FALSE(leader.wait_line("elected", 20s).empty()) << "the child never led";
  auto b = start(with_query(base, "mode=session"), election, "beta", t);
  ASSERT_TRUE(b.log->wait_for(
      [](const Event& e) { return e.type == EventType::leader_changed && e.leader == "child"; },
      5s))
      << b.dump();
  std::this_thread::sleep_for(300ms);
  Pq pq(base);
  ASSERT_TRUE(pq.ok()) << pq.error();
  ASSERT_NE(pq.one("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE "
                   "application_name LIKE '" +
                   app + " #%'"),
            "0");
  ASSERT_FALSE(leader.wait_line("revoked", 3s).empty()) << "the old leader never stepped down";
  const auto revoked_seen = Clk::now();  // no earlier than the child's revoked
  ASSERT_TRUE(b.log->wait_type(EventType::elected, t.lease_duration + 3s)) << b.dump();
  EXPECT_LT(revoked_seen, *b.first(EventType::elected))
      << "the successor was elected before the old leader stepped down";
  leader.kill(SIGTERM);
  leader.wait();
}

// A frozen leader process (SIGSTOP, as a frozen pod) keeps its lock session open: once its lease
// has expired by the server's clock the standby ends that session and leads. Thawed, the old
// leader steps down and stays a follower.
TEST(PostgresSessionFaults, FrozenLeaderIsReplacedAfterItsLease) {
  std::string base, child;
  REQUIRE_PG(base);
  TENURE_REQUIRE_ENV("TENURE_TEST_CHILD", child, std::string("run the tests through ctest"));
  const std::string election = unique_name("frozen");
  const Timing t{1500ms, 1000ms, 200ms};
  ChildProcess leader(
      {child, with_query(base, "mode=session"), election, "child", "1500", "1000", "200"});
  ASSERT_TRUE(leader.started());
  ASSERT_FALSE(leader.wait_line("elected", 20s).empty()) << "the child never led";
  auto b = start(with_query(base, "mode=session"), election, "beta", t);
  ASSERT_TRUE(b.log->wait_for(
      [](const Event& e) { return e.type == EventType::leader_changed && e.leader == "child"; },
      5s))
      << b.dump();
  std::this_thread::sleep_for(300ms);
  const auto t0 = Clk::now();
  ASSERT_EQ(::kill(leader.pid(), SIGSTOP), 0);
  Resume resume{leader.pid()};
  ASSERT_TRUE(b.log->wait_type(EventType::elected, 8s))
      << "the standby waited for the frozen holder" << b.dump();
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(Clk::now() - t0).count();
  std::printf("[ frozen ] session mode: successor elected %lld ms after SIGSTOP (lease 1500 ms)\n",
              static_cast<long long>(ms));
  EXPECT_GE(ms, 1000) << "the successor must not lead before the old lease can have expired";
  ::kill(leader.pid(), SIGCONT);
  ASSERT_FALSE(leader.wait_line("revoked", 3s).empty()) << "the thawed leader never stepped down";
  std::this_thread::sleep_for(1500ms);
  EXPECT_TRUE(b.e->status().is_leader) << b.dump();
  leader.kill(SIGTERM);
  leader.wait();
}

TEST(PostgresSessionFaults, BadTakeoverGraceIsRefusedClearly) {
  for (const char* bad : {"abc", "-1", "99999999", ""}) {
    ElectorOptions o;
    o.backend_url =
        std::string("postgres://u@127.0.0.1:1/db?mode=session&takeover_grace_ms=") + bad;
    o.election = "e";
    auto e = Elector::create(o);
    ASSERT_FALSE(e.ok()) << bad;
    EXPECT_EQ(e.status.code, Errc::invalid_argument) << e.status.message;
    EXPECT_NE(e.status.message.find("takeover_grace_ms"), std::string::npos) << e.status.message;
  }
}

}  // namespace
}  // namespace tenure::testing
