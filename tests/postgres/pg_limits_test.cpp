// PostgreSQL limits: a failed lease-mode acquire spends no token, and session-mode electors beyond
// the server's max_connections get a clear error and back off, without a reconnect storm, while
// the superuser can still connect and stop finishes promptly. The max_connections test starts a
// private server with max_connections=20 (tests/servers/postgres.sh), never the shared one.
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <map>
#include <sstream>

#include "pg_test_support.hpp"
#include "support/backend_sessions.hpp"
#include "tenure/elector.hpp"

namespace tenure::testing {
namespace {

using namespace std::chrono_literals;
using Clk = std::chrono::steady_clock;

#define REQUIRE_PG(out) TENURE_REQUIRE_ENV("TENURE_TEST_POSTGRES_URL", out, kPgHint)

std::string run(const std::string& cmd) { return shell_output(cmd + " 2>&1"); }

// KEY -> value of the `export KEY=value` lines of a postgres.env.
std::map<std::string, std::string> read_env(const std::string& path) {
  std::map<std::string, std::string> env;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("export ", 0) != 0) continue;
    auto eq = line.find('=');
    if (eq == std::string::npos) continue;
    std::string v = line.substr(eq + 1);
    if (v.size() >= 2 && v.front() == '"' && v.back() == '"') v = v.substr(1, v.size() - 2);
    env[line.substr(7, eq - 7)] = v;
  }
  return env;
}

// Lines of the server log from byte offset `from` on that contain one of the needles.
int count_log_lines(const std::string& path, std::streamoff from,
                    const std::vector<std::string>& needles) {
  std::ifstream in(path);
  in.seekg(from);
  std::string line;
  int n = 0;
  while (std::getline(in, line))
    for (auto& x : needles)
      if (line.find(x) != std::string::npos) {
        ++n;
        break;
      }
  return n;
}

std::streamoff file_size(const std::string& path) {
  std::ifstream in(path, std::ios::ate);
  return in ? static_cast<std::streamoff>(in.tellg()) : 0;
}

TEST(PostgresLease, FailedAcquiresSpendNoTokens) {
  std::string base;
  REQUIRE_PG(base);
  // A table (and so a token sequence) of this test's own: nothing else takes tokens from it.
  const std::string table = "tok" + std::to_string(::getpid()) + "_" +
                            std::to_string(Clk::now().time_since_epoch().count() % 1000000);
  const std::string url = with_query(base, "table=" + table + "&runs_table=" + table + "_runs");
  BackendSessions s;
  auto a = s.open(url, "job", "a");
  auto b = s.open(url, "job", "b");
  ASSERT_TRUE(a.ok() && b.ok()) << a.status.message << b.status.message;
  auto won = s.acquire(a.value);
  ASSERT_TRUE(won.ok()) << won.status.message;
  ASSERT_TRUE(won.value.acquired);
  for (int i = 0; i < 10; ++i) {
    auto lost = s.acquire(b.value);
    ASSERT_TRUE(lost.ok()) << lost.status.message;
    EXPECT_FALSE(lost.value.acquired);
    EXPECT_EQ(lost.value.record.token, won.value.record.token);
  }
  ASSERT_TRUE(s.release(a.value, won.value.record.token).ok());
  auto next = s.acquire(b.value);
  ASSERT_TRUE(next.ok() && next.value.acquired) << next.status.message;
  EXPECT_EQ(next.value.record.token, won.value.record.token + 1)
      << "ten failed acquires spent sequence values";
}

// A private server with max_connections=20, stopped and deleted at the end.
class SmallServer {
 public:
  explicit SmallServer(const std::string& ctl) : ctl_(ctl) {
    char tmpl[] = "/tmp/tenure-pglimit-XXXXXX";
    dir_ = ::mkdtemp(tmpl);
    out_ = run("TENURE_PG_MAX_CONNECTIONS=20 bash " + ctl_ + " start " + dir_);
    env_ = read_env(dir_ + "/postgres.env");
  }
  ~SmallServer() {
    run("bash " + ctl_ + " stop " + dir_);
    run("rm -rf " + dir_);
  }
  std::string get(const std::string& k) const {
    auto it = env_.find(k);
    return it == env_.end() ? std::string() : it->second;
  }
  const std::string& output() const { return out_; }

 private:
  std::string ctl_, dir_, out_;
  std::map<std::string, std::string> env_;
};

TEST(PostgresLimits, BeyondMaxConnectionsIsClearBacksOffAndStopsPromptly) {
  std::string base;
  REQUIRE_PG(base);
  const std::string ctl = pg_env("TENURE_TEST_POSTGRES_CTL");
  ASSERT_FALSE(ctl.empty()) << "TENURE_TEST_POSTGRES_CTL (postgres.sh) not set: source a "
                               "postgres.env written by the current tests/servers/postgres.sh";
  SmallServer srv(ctl);
  const std::string url = srv.get("TENURE_TEST_POSTGRES_URL");
  const std::string log = srv.get("TENURE_TEST_POSTGRES_LOG");
  ASSERT_FALSE(url.empty()) << srv.output();

  // 40 session-mode electors (TENURE_TEST_PG_LIMIT_ELECTORS for more), one connection each,
  // against 17 slots for non-superusers.
  const std::string n_env = pg_env("TENURE_TEST_PG_LIMIT_ELECTORS");
  const int kElectors = n_env.empty() ? 40 : std::stoi(n_env);
  std::vector<std::unique_ptr<EventLog>> logs;
  std::vector<std::unique_ptr<Elector>> es;
  for (int i = 0; i < kElectors; ++i) {
    ElectorOptions o;
    o.backend_url = with_query(url, "mode=session");
    o.election = "shard-" + std::to_string(i);
    o.identity = "p";
    o.timing = {3000ms, 2000ms, 500ms};
    auto e = Elector::create(o);
    ASSERT_TRUE(e.ok()) << e.status.message;
    logs.push_back(std::make_unique<EventLog>());
    e.value->set_callback(logs.back()->callback());
    ASSERT_TRUE(e.value->start().ok());
    es.push_back(std::move(e.value));
  }
  Event err;
  bool seen = wait_until(
      [&] {
        for (auto& l : logs)
          if (l->wait_for([](const Event& e) { return e.code == Errc::connection_limit; }, 0ms,
                          &err))
            return true;
        return false;
      },
      20s, 50ms);
  ASSERT_TRUE(seen) << "no TENURE_E_CONNECTION_LIMIT error event";
  EXPECT_NE(err.message.find("max_connections"), std::string::npos) << err.message;
  EXPECT_NE(err.message.find("one server connection per elector"), std::string::npos)
      << err.message;
  std::printf("[ info ] %s\n", err.message.c_str());

  // Connection attempts the server refused over 6 s, from its log: with one retry per elector
  // per retry period (26 refused electors, 500 ms) it would be about 300.
  std::this_thread::sleep_for(1s);
  const auto from = file_size(log);
  std::this_thread::sleep_for(6s);
  const int refused = count_log_lines(
      log, from, {"too many clients already", "remaining connection slots are reserved"});
  std::printf("[ info ] %d connections refused by the server in 6 s\n", refused);
  EXPECT_LE(refused, 12);
  int leaders = 0;
  for (auto& e : es) leaders += e->status().is_leader;
  EXPECT_GT(leaders, 0) << "the electors that got a connection lead";
  std::printf("[ info ] %d of %d electors lead\n", leaders, kElectors);

  // The superuser's reserved slots are not taken by connection attempts.
  const std::string psql = "psql -X -At -h " + srv.get("TENURE_TEST_POSTGRES_SOCKETDIR") + " -p " +
                           srv.get("TENURE_TEST_POSTGRES_PORT") +
                           " -U postgres -d postgres -c 'SELECT 42'";
  EXPECT_EQ(run(psql), "42\n");

  auto t0 = Clk::now();
  es.clear();  // destroy = stop each, one after the other, as an application would
  auto stop_ms = std::chrono::duration_cast<std::chrono::milliseconds>(Clk::now() - t0).count();
  std::printf("[ info ] stopping %d electors took %lld ms\n", kElectors, (long long)stop_ms);
  EXPECT_LT(stop_ms, 10000);
}

}  // namespace
}  // namespace tenure::testing
