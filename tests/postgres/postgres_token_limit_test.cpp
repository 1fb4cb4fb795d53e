// The fencing token never wraps on PostgreSQL (issue 14): the token sequence (bigint, NO CYCLE)
// at its maximum makes acquisition fail with a refusal naming the sequence, and a row holding a
// negative token (a hand edit) is reported, never shown as a huge unsigned token.
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>

#include "pg_test_support.hpp"
#include "tenure/elector.hpp"

namespace tenure::testing {
namespace {

using namespace std::chrono_literals;

#define REQUIRE_PG(out) TENURE_REQUIRE_ENV("TENURE_TEST_POSTGRES_URL", out, kPgHint)

// A table of its own per test, so the sequence is ours to push to its limit.
std::string fresh_table() {
  static std::atomic<int> n{0};
  return "hostile_" + std::to_string(::getpid()) + "_" + std::to_string(n++);
}

struct Candidate {
  std::unique_ptr<EventLog> log = std::make_unique<EventLog>();
  std::unique_ptr<Elector> e;
};

Candidate start(const std::string& url, bool observe = false) {
  ElectorOptions o;
  o.backend_url = url;
  o.election = "limit";
  o.timing = {milliseconds(3000), milliseconds(2000), milliseconds(200)};
  o.observe_only = observe;
  Candidate c;
  auto e = Elector::create(o);
  EXPECT_TRUE(e.ok()) << e.status.message;
  if (!e.ok()) return c;
  c.e = std::move(e.value);
  c.e->set_callback(c.log->callback());
  EXPECT_TRUE(c.e->start().ok());
  return c;
}

TEST(PostgresTokenLimit, SequenceAtItsMaximumRefusesToLead) {
  std::string base;
  REQUIRE_PG(base);
  for (const char* mode : {"lease", "session"}) {
    const std::string table = fresh_table();
    const std::string url = with_query(
        base, "mode=" + std::string(mode) + "&table=" + table + "&runs_table=" + table + "_runs");
    {
      auto first = start(url);
      ASSERT_TRUE(first.log->wait_type(EventType::elected, 10s)) << mode;
      ASSERT_TRUE(first.e->stop().ok());
    }
    Pq pq(base);
    ASSERT_TRUE(pq.ok()) << pq.error();
    std::string err;
    pq.rows("SELECT setval('public." + table + "_token_seq', 9223372036854775807)", &err);
    ASSERT_TRUE(err.empty()) << err;
    auto c = start(url);
    Event ev;
    ASSERT_TRUE(c.log->wait_type(EventType::error, 10s, &ev)) << mode;
    EXPECT_NE(ev.message.find("refusing to lead"), std::string::npos) << ev.message;
    EXPECT_NE(ev.message.find(table + "_token_seq"), std::string::npos) << ev.message;
    EXPECT_FALSE(c.log->wait_type(EventType::elected, 500ms)) << mode;
    EXPECT_EQ(pq.one("SELECT token FROM public." + table + " WHERE election = 'limit'"), "1");
    pq.rows("DROP TABLE public." + table + ", public." + table + "_runs, public." + table +
            "_schema; DROP SEQUENCE public." + table + "_token_seq");
  }
}

TEST(PostgresTokenLimit, NegativeStoredTokenIsReportedNotShownAsHuge) {
  std::string base;
  REQUIRE_PG(base);
  const std::string table = fresh_table();
  const std::string url = with_query(base, "table=" + table + "&runs_table=" + table + "_runs");
  {
    auto first = start(url);
    ASSERT_TRUE(first.log->wait_type(EventType::elected, 10s));
    ASSERT_TRUE(first.e->stop().ok());
  }
  Pq pq(base);
  ASSERT_TRUE(pq.ok()) << pq.error();
  std::string err;
  pq.rows("UPDATE public." + table +
              " SET holder = 'someone', token = -1, expires_at = now() + interval '1 hour' "
              "WHERE election = 'limit'",
          &err);
  ASSERT_TRUE(err.empty()) << err;
  auto observer = start(url, /*observe=*/true);
  Event ev;
  ASSERT_TRUE(observer.log->wait_type(EventType::error, 10s, &ev));
  EXPECT_NE(ev.message.find("lease row of election limit holds the fencing token -1"),
            std::string::npos)
      << ev.message;
  for (const auto& e : observer.log->all())
    EXPECT_NE(e.token, 18446744073709551615ULL) << "a wrapped token was shown";
  observer.e->stop();
  pq.rows("DROP TABLE public." + table + ", public." + table + "_runs, public." + table +
          "_schema; DROP SEQUENCE public." + table + "_token_seq");
}

}  // namespace
}  // namespace tenure::testing
