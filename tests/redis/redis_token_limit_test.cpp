// The fencing token never wraps or repeats on Redis (issue 14): a counter at 2^63-1 or holding a
// negative or foreign value refuses leadership with an error naming the key, tokens above 2^53
// stay exact (Lua numbers are doubles), and a read never shows a garbage token.
#include "redis_test_support.hpp"

namespace tenure::testing::redis {
namespace {

std::string url() { return env("TENURE_TEST_REDIS_URL"); }
std::string counter(const std::string& election) { return "tenure:{" + election + "}:token"; }

TEST(RedisTokenLimit, CounterAtTheLimitRefusesToLead) {
  TENURE_REQUIRE_REDIS();
  auto election = unique_name("toklimit");
  cli("SET '" + counter(election) + "' 9223372036854775807");
  Sessions ss;
  auto s = ss.open(url(), election, "a");
  ASSERT_TRUE(s.ok()) << s.status.message;
  auto r = ss.acquire(s.value);
  ASSERT_FALSE(r.ok()) << "acquired with token " << r.value.record.token;
  EXPECT_EQ(r.status.code, Errc::backend);
  EXPECT_NE(r.status.message.find("refusing to lead"), std::string::npos) << r.status.message;
  EXPECT_NE(r.status.message.find(counter(election)), std::string::npos) << r.status.message;
  EXPECT_EQ(cli("GET '" + counter(election) + "'"), "9223372036854775807\n");
}

TEST(RedisTokenLimit, NegativeOrForeignCounterRefusesToLead) {
  TENURE_REQUIRE_REDIS();
  for (const char* bad : {"-1", "-9223372036854775808", "007", "1e3"}) {
    auto election = unique_name("tokneg");
    cli("SET '" + counter(election) + "' '" + bad + "'");
    Sessions ss;
    auto s = ss.open(url(), election, "a");
    ASSERT_TRUE(s.ok()) << s.status.message;
    auto r = ss.acquire(s.value);
    ASSERT_FALSE(r.ok()) << bad << ": acquired with token " << r.value.record.token;
    EXPECT_NE(r.status.message.find(counter(election)), std::string::npos) << r.status.message;
    // A reader reports the counter too, instead of showing 2^64-1.
    auto rd = ss.read(s.value);
    if (std::string(bad) == "-1") {
      ASSERT_FALSE(rd.ok()) << "read token " << rd.value.token;
      EXPECT_NE(rd.status.message.find(counter(election)), std::string::npos) << rd.status.message;
    }
  }
}

// Above 2^53 a Lua number cannot tell two neighbouring tokens apart: each acquisition must still
// get a strictly greater token, exactly as the counter holds it.
TEST(RedisTokenLimit, LargeTokensStayExact) {
  TENURE_REQUIRE_REDIS();
  auto election = unique_name("tokbig");
  cli("SET '" + counter(election) + "' 9223372036854775800");
  Sessions ss;
  auto s = ss.open(url(), election, "a");
  ASSERT_TRUE(s.ok()) << s.status.message;
  uint64_t last = 9223372036854775800ULL;
  for (int i = 0; i < 3; ++i) {
    auto r = ss.acquire(s.value);
    ASSERT_TRUE(r.ok()) << r.status.message;
    ASSERT_TRUE(r.value.acquired);
    EXPECT_EQ(r.value.record.token, last + 1);
    last = r.value.record.token;
    auto rel = ss.release(s.value, last);
    ASSERT_TRUE(rel.ok()) << rel.status.message;
  }
  EXPECT_EQ(cli("GET '" + counter(election) + "'"), std::to_string(last) + "\n");
}

}  // namespace
}  // namespace tenure::testing::redis
