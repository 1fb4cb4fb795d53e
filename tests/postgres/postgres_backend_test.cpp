// PostgreSQL backend tests against a real server: both modes, the table an operator reads,
// LISTEN/NOTIFY wake-up, server restart during leadership, kill -9 of a leader, clear errors
// (wrong password, missing database, no CREATE privilege, a port that is not PostgreSQL),
// the ledger, and one shared connection for many lease-mode electors.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <chrono>
#include <cstdlib>
#include <thread>

#include "pg_test_support.hpp"
#include "tenure/elector.hpp"

namespace tenure::testing {
namespace {

using namespace std::chrono_literals;
using Clk = std::chrono::steady_clock;

std::string base_url() { return pg_env("TENURE_TEST_POSTGRES_URL"); }

#define REQUIRE_PG(out) TENURE_REQUIRE_ENV("TENURE_TEST_POSTGRES_URL", out, kPgHint)

struct Running {
  std::unique_ptr<EventLog> log = std::make_unique<EventLog>();  // outlives the elector
  std::unique_ptr<Elector> e;
};

Running start_elector(const std::string& url, const std::string& election,
                      const std::string& identity, Timing t, bool observe = false) {
  ElectorOptions o;
  o.backend_url = url;
  o.election = election;
  o.identity = identity;
  o.timing = t;
  o.observe_only = observe;
  Running r;
  auto e = Elector::create(o);
  EXPECT_TRUE(e.ok()) << e.status.message;
  if (!e.ok()) return r;
  r.e = std::move(e.value);
  r.e->set_callback(r.log->callback());
  EXPECT_TRUE(r.e->start().ok());
  return r;
}

// Every event of an elector, for failure messages.
std::string dump(const Running& r) {
  std::string out = "\nevents:";
  for (const auto& e : r.log->all()) {
    out += std::string("\n  ") + event_type_name(e.type) + " token=" + std::to_string(e.token) +
           " leader=" + e.leader + " " + errc_name(e.code) + " " + e.message;
  }
  return out;
}

Event wait_error(Running& r, std::chrono::milliseconds limit) {
  Event ev;
  EXPECT_TRUE(r.log->wait_type(EventType::error, limit, &ev)) << "no error event";
  return ev;
}

std::string mode_query(bool session) { return session ? "mode=session" : ""; }

class PgModes : public ::testing::TestWithParam<bool> {
 protected:
  void SetUp() override { REQUIRE_PG(base_); }
  std::string url(const std::string& extra = "") const {
    std::string q = mode_query(GetParam());
    if (!extra.empty()) q += (q.empty() ? "" : "&") + extra;
    return with_query(base_, q);
  }
  std::string base_;
};

INSTANTIATE_TEST_SUITE_P(Postgres, PgModes, ::testing::Values(false, true),
                         [](const auto& info) { return info.param ? "Session" : "Lease"; });

// The lease row says who leads, since when and until when; session mode also holds the lock.
TEST_P(PgModes, TableTellsOperatorWhoLeads) {
  const std::string election = unique_name("table");
  auto a = start_elector(url(), election, "alpha", {3000ms, 2000ms, 300ms});
  Event ev;
  ASSERT_TRUE(a.log->wait_type(EventType::elected, 5s, &ev)) << dump(a);
  Pq pq(base_);
  ASSERT_TRUE(pq.ok()) << pq.error();
  auto rows = pq.rows(
      "SELECT holder, token, mode, expires_at > now(), renewed_at <= now(), lease_duration_ms, "
      "holder_pid FROM tenure_leases WHERE election = '" +
      election + "'");
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0][0], "alpha");
  EXPECT_EQ(rows[0][1], std::to_string(ev.token));
  EXPECT_EQ(rows[0][2], GetParam() ? "session" : "lease");
  EXPECT_EQ(rows[0][3], "t");
  EXPECT_EQ(rows[0][4], "t");
  EXPECT_EQ(rows[0][5], "3000");
  if (GetParam()) {
    // The advisory lock is held by exactly the connection recorded in the row.
    auto locks =
        pq.rows("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted AND pid = " +
                rows[0][6]);
    ASSERT_EQ(locks.size(), 1u);
    EXPECT_EQ(locks[0][0], "1");
  }
  ASSERT_TRUE(a.e->stop().ok());
  EXPECT_EQ(pq.one("SELECT holder FROM tenure_leases WHERE election = '" + election + "'"), "");
  // The token stays after release (the last epoch's), and the sequence only grows.
  EXPECT_EQ(pq.one("SELECT token FROM tenure_leases WHERE election = '" + election + "'"),
            std::to_string(ev.token));
}

// A graceful stop hands over at once: the standby is woken by NOTIFY (lease mode) or by its
// blocked pg_advisory_lock() returning (session mode), not by its 5 s retry period.
TEST_P(PgModes, GracefulHandoverWakesStandbyWithoutPolling) {
  const std::string election = unique_name("handover");
  const Timing slow{20000ms, 15000ms, 5000ms};
  auto a = start_elector(url(), election, "alpha", slow);
  Event ea;
  ASSERT_TRUE(a.log->wait_type(EventType::elected, 5s, &ea)) << dump(a);
  auto b = start_elector(url(), election, "beta", slow);
  ASSERT_TRUE(b.log->wait_for(
      [](const Event& e) { return e.type == EventType::leader_changed && e.leader == "alpha"; },
      5s))
      << dump(b);
  std::this_thread::sleep_for(100ms);  // beta is now waiting (its next poll is 5 s away)
  const auto t0 = Clk::now();
  ASSERT_TRUE(a.e->stop().ok());
  Event eb;
  ASSERT_TRUE(b.log->wait_type(EventType::elected, 3s, &eb)) << dump(b);
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(Clk::now() - t0).count();
  std::printf("[ handover ] %s mode: standby elected %lld ms after stop()\n",
              GetParam() ? "session" : "lease", static_cast<long long>(ms));
  EXPECT_LT(ms, 2500) << "half the 5 s poll: only the push explains it";
  EXPECT_GT(eb.token, ea.token);
}

// An observer (never a candidate) learns of a new leader by LISTEN/NOTIFY, not by polling.
TEST_P(PgModes, ListenNotifyWakesObserver) {
  const std::string election = unique_name("notify");
  const Timing slow{20000ms, 15000ms, 5000ms};
  auto obs = start_elector(url(), election, "watcher", slow, true);
  ASSERT_TRUE(obs.log->wait_type(EventType::leader_changed, 5s));  // initial: none
  std::this_thread::sleep_for(100ms);
  const auto t0 = Clk::now();
  auto a = start_elector(url(), election, "alpha", slow);
  ASSERT_TRUE(a.log->wait_type(EventType::elected, 5s)) << dump(a);
  ASSERT_TRUE(obs.log->wait_for(
      [](const Event& e) { return e.type == EventType::leader_changed && e.leader == "alpha"; },
      3s))
      << dump(obs);
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(Clk::now() - t0).count();
  EXPECT_LT(ms, 2000) << "the observer polls every 5 s; only a NOTIFY explains seeing it sooner";
}

// Restarting the server while a leader holds the lease never yields two leaders, and some
// elector leads again afterwards.
TEST_P(PgModes, ServerRestartDuringLeadershipNeverTwoLeaders) {
  std::string restart;
  TENURE_REQUIRE_ENV("TENURE_TEST_POSTGRES_RESTART", restart, kPgHint);
  const std::string election = unique_name("restart");
  const Timing t{4000ms, 3000ms, 300ms};
  auto a = start_elector(url(), election, "alpha", t);
  ASSERT_TRUE(a.log->wait_type(EventType::elected, 5s)) << dump(a);
  auto b = start_elector(url(), election, "beta", t);
  ASSERT_TRUE(b.log->wait_type(EventType::leader_changed, 5s)) << dump(b);

  std::atomic<bool> done{false};
  std::atomic<int> both{0};
  std::thread monitor([&] {
    while (!done) {
      if (a.e->status().is_leader && b.e->status().is_leader) ++both;
      std::this_thread::sleep_for(1ms);
    }
  });
  ASSERT_EQ(std::system(restart.c_str()), 0);
  // Someone leads again within the lease duration plus slack.
  const bool led =
      wait_until([&] { return a.e->status().is_leader || b.e->status().is_leader; }, 15s);
  std::this_thread::sleep_for(2s);  // and the situation stays sane for a while
  done = true;
  monitor.join();
  EXPECT_TRUE(led);
  EXPECT_EQ(both.load(), 0) << "two electors believed they led at the same instant";
  // Whoever leads now is what the table says.
  Pq pq(base_);
  const std::string holder =
      pq.one("SELECT holder FROM tenure_leases WHERE election = '" + election + "'");
  if (a.e->status().is_leader) EXPECT_EQ(holder, "alpha");
  if (b.e->status().is_leader) EXPECT_EQ(holder, "beta");
}

// kill -9 of a leader in another process. Session mode: the server frees the advisory lock as
// the connection closes and the standby takes over at once, long before the lease would expire.
// Lease mode: the standby takes over when the server says the lease expired.
TEST_P(PgModes, KillMinus9Leader) {
  std::string child;
  TENURE_REQUIRE_ENV("TENURE_TEST_CHILD", child, std::string("run the tests through ctest"));
  const std::string election = unique_name("kill9");
  const bool session = GetParam();
  // Session mode: a 10 s lease proves the takeover does not wait for expiry.
  const Timing t = session ? Timing{10000ms, 8000ms, 2000ms} : Timing{1500ms, 1000ms, 200ms};
  ChildProcess leader({child, url(), election, "child", std::to_string(t.lease_duration.count()),
                       std::to_string(t.renew_deadline.count()),
                       std::to_string(t.retry_period.count())});
  ASSERT_TRUE(leader.started());
  ASSERT_FALSE(leader.wait_line("elected", 20s).empty()) << "the child never led";
  auto b = start_elector(url(), election, "standby", t);
  ASSERT_TRUE(b.log->wait_for(
      [](const Event& e) { return e.type == EventType::leader_changed && e.leader == "child"; },
      5s))
      << dump(b);
  std::this_thread::sleep_for(200ms);
  const auto t0 = Clk::now();
  leader.kill(SIGKILL);
  leader.wait();
  ASSERT_TRUE(b.log->wait_type(EventType::elected, 10s)) << dump(b);
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(Clk::now() - t0).count();
  std::printf("[ kill -9 ] %s mode: successor elected %lld ms after SIGKILL\n",
              session ? "session" : "lease", static_cast<long long>(ms));
  if (session) {
    EXPECT_LT(ms, 5000) << "session mode should not wait for the 10 s lease to expire";
  } else {
    EXPECT_LT(ms, t.lease_duration.count() + 3000);
  }
}

// The run-once ledger: a finished job is not run again by the next leader; a finish from an
// older token is refused (fenced).
TEST_P(PgModes, LedgerRunsOnceAcrossLeadersAndFencesOldToken) {
  const std::string election = unique_name("ledger");
  const Timing t{3000ms, 2000ms, 100ms};
  auto a = start_elector(url(), election, "alpha", t);
  ASSERT_TRUE(a.log->wait_type(EventType::elected, 5s)) << dump(a);
  int runs = 0;
  auto r1 = a.e->run_once("job-1", UnfinishedPolicy::retry, [&](uint64_t, std::string& detail) {
    ++runs;
    detail = "done by alpha";
    return true;
  });
  ASSERT_TRUE(r1.ok()) << r1.status.message;
  EXPECT_TRUE(r1.value.ran);
  EXPECT_EQ(r1.value.record.status, RunStatus::finished);
  auto r2 = a.e->run_once("job-1", UnfinishedPolicy::retry, [&](uint64_t, std::string&) {
    ++runs;
    return true;
  });
  ASSERT_TRUE(r2.ok()) << r2.status.message;
  EXPECT_FALSE(r2.value.ran);
  EXPECT_EQ(runs, 1);

  auto b = start_elector(url(), election, "beta", t);
  ASSERT_TRUE(b.log->wait_type(EventType::leader_changed, 5s)) << dump(b);
  // While alpha runs job-2, leadership moves to beta: alpha's finish must be fenced.
  auto r3 = a.e->run_once("job-2", UnfinishedPolicy::retry, [&](uint64_t, std::string&) {
    (void)a.e->resign();
    EXPECT_TRUE(b.log->wait_type(EventType::elected, 5s));
    return true;
  });
  ASSERT_FALSE(r3.ok());
  EXPECT_EQ(r3.status.code, Errc::fenced) << r3.status.message;

  // The new leader sees job-1 finished (not run again) and job-2 started by an older token.
  auto r4 = b.e->run_once("job-1", UnfinishedPolicy::retry, [&](uint64_t, std::string&) {
    ++runs;
    return true;
  });
  ASSERT_TRUE(r4.ok()) << r4.status.message;
  EXPECT_FALSE(r4.value.ran);
  EXPECT_EQ(r4.value.record.detail, "done by alpha");
  EXPECT_EQ(runs, 1);
  auto r5 = b.e->run_once("job-2", UnfinishedPolicy::skip, [&](uint64_t, std::string&) {
    ++runs;
    return true;
  });
  ASSERT_TRUE(r5.ok()) << r5.status.message;
  EXPECT_FALSE(r5.value.ran);
  EXPECT_EQ(r5.value.record.status, RunStatus::started);
  EXPECT_EQ(r5.value.record.holder, "alpha");
  auto r6 = b.e->run_once("job-2", UnfinishedPolicy::retry, [&](uint64_t, std::string&) {
    ++runs;
    return true;
  });
  ASSERT_TRUE(r6.ok()) << r6.status.message;
  EXPECT_TRUE(r6.value.ran);
  EXPECT_EQ(runs, 2);
  Pq pq(base_);
  EXPECT_EQ(pq.one("SELECT status || ':' || holder FROM tenure_runs WHERE election = '" + election +
                   "' AND job_key = 'job-2'"),
            "finished:beta");
}

// ---- clear errors ----

TEST(PostgresErrors, WrongPasswordIsAuthFailedWithoutThePassword) {
  std::string base;
  REQUIRE_PG(base);
  const auto at = base.find('@');
  const auto colon = base.rfind(':', at);
  const std::string bad = base.substr(0, colon + 1) + "Wr0ngSecret" + base.substr(at);
  auto a = start_elector(bad, unique_name("auth"), "alpha", {3000ms, 2000ms, 300ms});
  Event ev = wait_error(a, 10s);
  EXPECT_EQ(ev.code, Errc::auth_failed) << ev.message;
  EXPECT_NE(ev.message.find("password"), std::string::npos) << ev.message;
  EXPECT_EQ(ev.message.find("Wr0ngSecret"), std::string::npos)
      << "the password leaked: " << ev.message;
}

TEST(PostgresErrors, MissingDatabaseSaysSo) {
  std::string base;
  REQUIRE_PG(base);
  const std::string bad = base.substr(0, base.rfind('/')) + "/no_such_db";
  auto a = start_elector(bad, unique_name("nodb"), "alpha", {3000ms, 2000ms, 300ms});
  Event ev = wait_error(a, 10s);
  EXPECT_EQ(ev.code, Errc::backend) << ev.message;
  EXPECT_NE(ev.message.find("does not exist"), std::string::npos) << ev.message;
  EXPECT_NE(ev.message.find("CREATE DATABASE \"no_such_db\""), std::string::npos) << ev.message;
}

// A role without CREATE gets the exact DDL to run; once an owner runs it, the role leads.
TEST(PostgresErrors, NoCreatePrivilegeGivesTheExactDdl) {
  std::string base;
  REQUIRE_PG(base);
  std::string nocreate;
  TENURE_REQUIRE_ENV("TENURE_TEST_POSTGRES_NOCREATE_URL", nocreate, kPgHint);
  std::string table = unique_name("nc");
  for (auto& c : table) c = (c == '-') ? '_' : c;
  const std::string q = "table=" + table + "_leases&runs_table=" + table + "_runs";
  auto a = start_elector(with_query(nocreate, q), unique_name("nocreate"), "alpha",
                         {2000ms, 1500ms, 200ms});
  Event ev = wait_error(a, 10s);
  ASSERT_EQ(ev.code, Errc::permission_denied) << ev.message;
  const auto pos = ev.message.find("run once:\n");
  ASSERT_NE(pos, std::string::npos) << ev.message;
  const std::string ddl = ev.message.substr(pos + 10);
  EXPECT_NE(ddl.find("CREATE TABLE IF NOT EXISTS \"public\".\"" + table + "_leases\""),
            std::string::npos)
      << ddl;
  EXPECT_NE(ddl.find("GRANT"), std::string::npos) << ddl;
  // The owner runs exactly that; the unprivileged elector then becomes leader by itself.
  Pq owner(base);
  std::string err;
  owner.rows(ddl, &err);
  ASSERT_TRUE(err.empty()) << err << "\nDDL:\n" << ddl;
  EXPECT_TRUE(a.log->wait_type(EventType::elected, 10s));
}

// A port where something else listens (here: an HTTP-ish server) gives a clear error.
TEST(PostgresErrors, NonPostgresPortIsUnreachableWithReason) {
  boost::asio::io_context io;
  boost::asio::ip::tcp::acceptor acc(io, {boost::asio::ip::make_address("127.0.0.1"), 0});
  const int port = acc.local_endpoint().port();
  std::atomic<bool> stop{false};
  std::thread srv([&] {
    acc.non_blocking(true);
    while (!stop) {
      boost::system::error_code ec;
      boost::asio::ip::tcp::socket s(io);
      acc.accept(s, ec);
      if (ec) {
        std::this_thread::sleep_for(5ms);
        continue;
      }
      s.non_blocking(false);
      std::this_thread::sleep_for(20ms);
      boost::asio::write(s, boost::asio::buffer(std::string("HTTP/1.0 400 Bad Request\r\n\r\n")),
                         ec);
      s.close(ec);
    }
  });
  const std::string url = "postgres://tenure:pw@127.0.0.1:" + std::to_string(port) + "/tenure";
  auto a = start_elector(url, unique_name("notpg"), "alpha", {3000ms, 2000ms, 300ms});
  Event ev = wait_error(a, 10s);
  stop = true;
  srv.join();
  EXPECT_EQ(ev.code, Errc::unreachable) << ev.message;
  EXPECT_NE(ev.message.find("does not speak the PostgreSQL protocol"), std::string::npos)
      << ev.message;
}

TEST(PostgresErrors, UnknownParameterAndBadValuesAreRefused) {
  ElectorOptions o;
  o.election = "x";
  o.identity = "alpha";
  o.backend_url = "postgres://u:p@127.0.0.1:1/db?sslmod=require";
  auto e = Elector::create(o);
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.status.code, Errc::unknown_option);
  EXPECT_NE(e.status.message.find("sslmod"), std::string::npos) << e.status.message;
  o.backend_url = "postgres://u:p@127.0.0.1:1/db?mode=exclusive";
  e = Elector::create(o);
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.status.code, Errc::invalid_argument);
  o.backend_url = "postgres://u:p@127.0.0.1:1/db?table=Bad-Name";
  e = Elector::create(o);
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.status.code, Errc::invalid_argument);
  // Every libpq parameter passes through.
  o.backend_url =
      "postgresql://u:p@127.0.0.1:1/db?sslmode=disable&connect_timeout=3&target_session_attrs=any";
  e = Elector::create(o);
  EXPECT_TRUE(e.ok()) << e.status.message;
}

// Session mode through pgbouncer in transaction pooling (postgres.sh starts one): refused with a
// clear error, because a session-level advisory lock would silently belong to whichever client
// uses the server connection next. Detected by the backend pid: the pooler's key data differs
// from the server's pg_backend_pid().
TEST(PostgresPooler, SessionModeRefusesTransactionPooler) {
  std::string url;
  TENURE_REQUIRE_ENV("TENURE_TEST_PGBOUNCER_URL", url, kPgHint);
  auto a = start_elector(with_query(url, "mode=session"), unique_name("pool"), "alpha",
                         {3000ms, 2000ms, 300ms});
  Event ev = wait_error(a, 10s);
  EXPECT_EQ(ev.code, Errc::backend) << ev.message;
  EXPECT_NE(ev.message.find("connection pooler"), std::string::npos) << ev.message;
  EXPECT_NE(ev.message.find("mode=lease"), std::string::npos) << ev.message;
  EXPECT_FALSE(a.log->wait_type(EventType::elected, 1s)) << dump(a);
}

// Lease mode needs no session state and works through the same pooler; a graceful handover
// still completes (LISTEN is not reliable behind transaction pooling; polling covers it).
TEST(PostgresPooler, LeaseModeWorksThroughTransactionPooler) {
  std::string url;
  TENURE_REQUIRE_ENV("TENURE_TEST_PGBOUNCER_URL", url, kPgHint);
  const std::string election = unique_name("poollease");
  auto a = start_elector(url, election, "alpha", {3000ms, 2000ms, 300ms});
  Event ea;
  ASSERT_TRUE(a.log->wait_type(EventType::elected, 5s, &ea)) << dump(a);
  auto b = start_elector(url, election, "beta", {3000ms, 2000ms, 300ms});
  ASSERT_TRUE(b.log->wait_type(EventType::leader_changed, 5s)) << dump(b);
  ASSERT_TRUE(a.e->stop().ok());
  Event eb;
  ASSERT_TRUE(b.log->wait_type(EventType::elected, 5s, &eb)) << dump(b);
  EXPECT_GT(eb.token, ea.token);
}

// TLS parameters pass through to libpq: verify-full against the test server's own CA works (and
// the server says the session is encrypted); the wrong CA is a clear error.
TEST(PostgresTls, VerifyFullPassesThroughAndWrongCaIsClear) {
  std::string base;
  REQUIRE_PG(base);
  std::string ca;
  TENURE_REQUIRE_ENV("TENURE_TEST_POSTGRES_CA", ca, kPgHint);
  const std::string app = "tenure_tls_" + std::to_string(::getpid());
  auto a = start_elector(
      with_query(base, "sslmode=verify-full&sslrootcert=" + ca + "&application_name=" + app),
      unique_name("tls"), "alpha", {3000ms, 2000ms, 300ms});
  ASSERT_TRUE(a.log->wait_type(EventType::elected, 5s)) << dump(a);
  Pq pq(base);
  EXPECT_EQ(pq.one("SELECT bool_and(s.ssl)::text || count(*) FROM pg_stat_ssl s JOIN "
                   "pg_stat_activity a USING "
                   "(pid) WHERE a.application_name LIKE '" +
                   app + " #%'"),
            "true1");
  // A CA that did not sign the server's certificate (a fresh self-signed one: the test's own).
  char dir[] = "/tmp/tenure-tls-XXXXXX";
  ASSERT_NE(::mkdtemp(dir), nullptr);
  const std::string other = std::string(dir) + "/other.crt";
  const std::string cmd =
      "openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=other -keyout " +
      std::string(dir) + "/other.key -out " + other + " >/dev/null 2>&1";
  ASSERT_EQ(std::system(cmd.c_str()), 0);
  auto b = start_elector(with_query(base, "sslmode=verify-full&sslrootcert=" + other),
                         unique_name("tls"), "beta", {3000ms, 2000ms, 300ms});
  Event ev = wait_error(b, 10s);
  EXPECT_EQ(ev.code, Errc::unreachable) << ev.message;
  EXPECT_NE(ev.message.find("certificate"), std::string::npos) << ev.message;
  std::system(("rm -rf " + std::string(dir)).c_str());
}

// A server that stops answering (the backend process of the leader's connection paused with
// SIGSTOP): the renewal times out below renew_deadline with TENURE_E_TIMEOUT (never a hang), the
// connection is reset, and the elector leads again over a new connection once the server answers.
TEST(PostgresFaults, PausedServerBackendTimesOutAndRecovers) {
  std::string base;
  REQUIRE_PG(base);
  const std::string election = unique_name("pause");
  const std::string app = "tenure_pause_" + std::to_string(::getpid());
  auto a = start_elector(with_query(base, "application_name=" + app), election, "alpha",
                         {4000ms, 3000ms, 300ms});
  ASSERT_TRUE(a.log->wait_type(EventType::elected, 5s)) << dump(a);
  Pq pq(base);
  const std::string pid =
      pq.one("SELECT holder_pid FROM tenure_leases WHERE election = '" + election + "'");
  ASSERT_FALSE(pid.empty());
  const pid_t backend = static_cast<pid_t>(std::stol(pid));
  ASSERT_EQ(::kill(backend, SIGSTOP), 0);
  struct Resume {
    pid_t p;
    ~Resume() { ::kill(p, SIGCONT); }
  } resume{backend};
  Event ev;
  const auto t0 = Clk::now();
  ASSERT_TRUE(a.log->wait_type(EventType::error, 8s, &ev)) << dump(a);
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(Clk::now() - t0).count();
  EXPECT_EQ(ev.code, Errc::timeout) << ev.message;
  // Request timeout max((3000 - 300) / 2, 750) = 1350 ms after a renewal sent <= 300 ms in.
  EXPECT_LT(ms, 2500) << "the request timeout must leave room for a retry before renew_deadline";
  // The retry on a new connection keeps the leadership while the old server process is paused.
  std::this_thread::sleep_for(2s);
  EXPECT_TRUE(a.e->status().is_leader) << dump(a);
  ::kill(backend, SIGCONT);
  EXPECT_TRUE(wait_until([&] { return a.e->status().is_leader; }, 10s)) << dump(a);
  EXPECT_TRUE(wait_until(
      [&] {
        return pq.one("SELECT holder_pid FROM tenure_leases WHERE election = '" + election + "'") !=
               pid;
      },
      5s))
      << "the lease should be renewed over a new connection";
}

// A process with many lease-mode electors on one URL uses one server connection.
TEST(PostgresShared, ManyLeaseElectorsShareOneConnection) {
  std::string base;
  REQUIRE_PG(base);
  const std::string app = "tenure_share_" + std::to_string(::getpid());
  const std::string url = with_query(base, "application_name=" + app);
  std::vector<Running> es;
  for (int i = 0; i < 50; ++i)
    es.push_back(start_elector(url, unique_name("shard"), "alpha", {3000ms, 2000ms, 300ms}));
  for (auto& r : es) ASSERT_TRUE(r.log->wait_type(EventType::elected, 10s)) << dump(r);
  Pq pq(base);
  EXPECT_EQ(
      pq.one("SELECT count(*) FROM pg_stat_activity WHERE application_name LIKE '" + app + " #%'"),
      "1");
}

// Session mode: a stopped elector's lock connection serves the next elector of the process (no new
// TCP, TLS and authentication), without any advisory lock left over; a standby's connection,
// blocked in pg_advisory_lock(), is closed rather than reused.
TEST(PostgresShared, SessionLockConnectionIsReusedWithoutStaleLocks) {
  std::string base;
  REQUIRE_PG(base);
  const std::string app = "tenure_reuse_" + std::to_string(::getpid());
  const std::string url = with_query(base, "mode=session&application_name=" + app);
  Pq pq(base);
  ASSERT_TRUE(pq.ok()) << pq.error();
  auto count = [&](const std::string& what) {
    return pq.one("SELECT count(*) FROM pg_stat_activity WHERE application_name LIKE '" + app +
                  " #%'" + what);
  };
  auto advisory_locks = [&] {
    return pq.one(
        "SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a USING (pid) WHERE "
        "l.locktype = 'advisory' AND l.granted AND a.application_name LIKE '" +
        app + " #%'");
  };
  const Timing t{3000ms, 2000ms, 300ms};
  const std::string x = unique_name("reuse");
  auto a = start_elector(url, x, "alpha", t);
  ASSERT_TRUE(a.log->wait_type(EventType::elected, 5s)) << dump(a);
  auto b = start_elector(url, x, "beta", t);  // standby: blocked in pg_advisory_lock()
  ASSERT_TRUE(b.log->wait_type(EventType::leader_changed, 5s)) << dump(b);
  EXPECT_TRUE(wait_until([&] { return count("") == "3"; }, 5s)) << count("");  // hub + 2 locks
  ASSERT_TRUE(b.e->stop().ok());
  EXPECT_TRUE(wait_until([&] { return count("") == "2"; }, 5s))
      << "the standby's blocked connection must be closed, not reused: " << count("");
  ASSERT_TRUE(a.e->stop().ok());
  EXPECT_TRUE(wait_until([&] { return advisory_locks() == "0"; }, 5s)) << advisory_locks();
  EXPECT_EQ(pq.one("SELECT holder FROM tenure_leases WHERE election = '" + x + "'"), "");

  // A new elector on another election gets the idle connection: no third server connection.
  const std::string y = unique_name("reuse");
  auto c = start_elector(url, y, "gamma", t);
  ASSERT_TRUE(c.log->wait_type(EventType::elected, 5s)) << dump(c);
  EXPECT_EQ(count(""), "2");
  EXPECT_EQ(advisory_locks(), "1");  // y's lock only
  // x is free for anyone: an elector with its own connections (another URL) takes it at once.
  auto d = start_elector(with_query(base, "mode=session"), x, "delta", t);
  EXPECT_TRUE(d.log->wait_type(EventType::elected, 5s)) << dump(d);
}

// Session mode: a standby waits inside pg_advisory_lock(), and a running statement holds a
// snapshot that holds back VACUUM. The wait is queued again every lock_timeout (here the 1 s
// lease), so the standby's transaction is never older than that; the handover still works.
TEST(PostgresSession, StandbyWaitNeverHoldsAnOldSnapshot) {
  std::string base;
  REQUIRE_PG(base);
  const std::string app = "tenure_xmin_" + std::to_string(::getpid());
  const std::string election = unique_name("xmin");
  const Timing t{1000ms, 700ms, 250ms};
  auto a = start_elector(with_query(base, "mode=session"), election, "alpha", t);
  ASSERT_TRUE(a.log->wait_type(EventType::elected, 5s)) << dump(a);
  auto b =
      start_elector(with_query(base, "mode=session&application_name=" + app), election, "beta", t);
  ASSERT_TRUE(b.log->wait_type(EventType::leader_changed, 5s)) << dump(b);
  Pq pq(base);
  ASSERT_TRUE(pq.ok()) << pq.error();
  double oldest = 0;
  int waiting_seen = 0;
  for (auto until = Clk::now() + 3500ms; Clk::now() < until;) {
    auto rows = pq.rows(
        "SELECT extract(epoch FROM clock_timestamp() - xact_start) FROM pg_stat_activity WHERE "
        "application_name LIKE '" +
        app + " #%' AND wait_event_type = 'Lock' AND backend_xmin IS NOT NULL");
    for (auto& r : rows) {
      ++waiting_seen;
      oldest = std::max(oldest, std::stod(r[0]));
    }
    std::this_thread::sleep_for(50ms);
  }
  EXPECT_GT(waiting_seen, 10) << "the standby should be seen waiting for the lock";
  EXPECT_LT(oldest, 2.0) << "the standby's wait held a snapshot for " << oldest << " s";
  for (const auto& e : b.log->all()) EXPECT_NE(e.type, EventType::error) << dump(b);
  ASSERT_TRUE(a.e->stop().ok());
  EXPECT_TRUE(b.log->wait_type(EventType::elected, 2s)) << dump(b);
}

// Session mode: the leader's lock connection is ended while the leader lives (an operator's
// pg_terminate_backend). The waiting standby gets the lock at once and takes the row; the old
// leader must step down at once too, not at its next renewal (5 s away here).
TEST(PostgresSession, LeaderWhoseSessionIsTerminatedStepsDownAtOnce) {
  std::string base;
  REQUIRE_PG(base);
  const std::string election = unique_name("terminate");
  const Timing t{10000ms, 8000ms, 5000ms};
  auto a = start_elector(with_query(base, "mode=session"), election, "alpha", t);
  Event ea;
  ASSERT_TRUE(a.log->wait_type(EventType::elected, 5s, &ea)) << dump(a);
  auto b = start_elector(with_query(base, "mode=session"), election, "beta", t);
  ASSERT_TRUE(b.log->wait_type(EventType::leader_changed, 5s)) << dump(b);
  std::this_thread::sleep_for(200ms);  // beta waits in pg_advisory_lock()
  Pq pq(base);
  ASSERT_TRUE(pq.ok()) << pq.error();
  const std::string pid =
      pq.one("SELECT holder_pid FROM tenure_leases WHERE election = '" + election + "'");
  ASSERT_FALSE(pid.empty());
  ASSERT_EQ(pq.one("SELECT pg_terminate_backend(" + pid + ")"), "t");
  // Sample both until alpha has stepped down: how long were both leaders?
  const auto t0 = Clk::now();
  Clk::time_point first_both{}, last_both{};
  while (Clk::now() - t0 < 4s) {
    const bool la = a.e->status().is_leader, lb = b.e->status().is_leader;
    if (la && lb) {
      if (first_both == Clk::time_point{}) first_both = Clk::now();
      last_both = Clk::now();
    }
    if (!la && lb) break;
    std::this_thread::sleep_for(1ms);
  }
  Event rev;
  ASSERT_TRUE(a.log->wait_type(EventType::revoked, 100ms, &rev))
      << "alpha must step down well before its next renewal" << dump(a);
  EXPECT_EQ(rev.reason, RevokeReason::lost) << rev.message;
  Event eb;
  ASSERT_TRUE(b.log->wait_type(EventType::elected, 2s, &eb)) << dump(b);
  EXPECT_GT(eb.token, ea.token);
  const auto overlap =
      std::chrono::duration_cast<std::chrono::milliseconds>(last_both - first_both).count();
  // Reconnecting and asking the server takes tens of milliseconds; before the recheck it was the
  // renewal period (5 s).
  EXPECT_LT(overlap, 1000) << "both led for " << overlap << " ms";
}

}  // namespace
}  // namespace tenure::testing
