// Every kind of option mistake gets the same code from the Redis and the PostgreSQL backend
// (tenure/backend_options.hpp): unknown option, malformed value, value out of range, and a
// backend that needs the Asio runtime created on a manual executor. No server is needed: the
// backends refuse these at creation, before connecting.
#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include "support/option_errors.hpp"
#include "tenure/elector.hpp"
#include "tenure/manual_executor.hpp"

namespace tenure {
namespace {

// Nothing listens on port 1: a creation that wrongly succeeded would never connect anyway.
const std::string kRedis = "redis://127.0.0.1:1";
const std::string kPostgres = "postgres://u@127.0.0.1:1/db";

using Case = testing::OptionCase;
using testing::create_status;
using testing::expect_both_ways;

TEST(BackendOptionErrors, UnknownOptionIsUnknownOptionEverywhere) {
  for (const auto& base : {kRedis, kPostgres}) {
    expect_both_ways({base, "nope", "1", Errc::unknown_option, "'nope'"});
    // A typo of a known option: refused, never ignored (sslmod=require would leave TLS off).
    expect_both_ways({base, "sslmod", "require", Errc::unknown_option, "known: "});
  }
  expect_both_ways({kRedis, "prefx", "a:", Errc::unknown_option, "prefix"});
  expect_both_ways({kPostgres, "tabel", "t", Errc::unknown_option, "table"});
}

TEST(BackendOptionErrors, MalformedValueIsInvalidArgumentEverywhere) {
  const std::vector<Case> cases = {
      {kRedis, "timeout_ms", "abc", Errc::invalid_argument, "whole number of milliseconds"},
      {kRedis, "connect_timeout_ms", "1.5", Errc::invalid_argument, "connect_timeout_ms"},
      {kRedis, "restart_guard", "maybe", Errc::invalid_argument, "true or false"},
      {kRedis, "keyspace_events", "2", Errc::invalid_argument, "keyspace_events"},
      {kRedis, "share_connections", "", Errc::invalid_argument, "share_connections"},
      {kRedis, "prefix", "a{b}", Errc::invalid_argument, "prefix"},
      {kPostgres, "takeover_grace_ms", "abc", Errc::invalid_argument,
       "whole number of milliseconds"},
      {kPostgres, "allow_proxy", "maybe", Errc::invalid_argument, "true or false"},
      {kPostgres, "mode", "exclusive", Errc::invalid_argument, "one of lease, session"},
      {kPostgres, "table", "Bad-Name", Errc::invalid_argument, "[a-z_][a-z0-9_]*"},
      {kPostgres, "connect_timeout", "soon", Errc::invalid_argument, "whole number of seconds"},
  };
  for (const auto& c : cases) expect_both_ways(c);
  expect_both_ways(
      {kPostgres, "schema", std::string(23, 's'), Errc::invalid_argument, "at most 22 characters"});
  // TLS options for a plain connection: a value that does not fit the URL.
  expect_both_ways({kRedis, "tls_insecure", "true", Errc::invalid_argument, "rediss://"});
}

TEST(BackendOptionErrors, OutOfRangeIsInvalidArgumentEverywhere) {
  const std::vector<Case> cases = {
      {kRedis, "timeout_ms", "0", Errc::invalid_argument, "out of range"},
      {kRedis, "connect_timeout_ms", "3600001", Errc::invalid_argument, "1 to 3600000"},
      {kPostgres, "takeover_grace_ms", "-1", Errc::invalid_argument, "out of range"},
      {kPostgres, "takeover_grace_ms", "60001", Errc::invalid_argument, "0 to 60000"},
  };
  for (const auto& c : cases) expect_both_ways(c);
  // A timeout that does not fit the timing stays a timing mistake.
  expect_both_ways({kRedis, "timeout_ms", "60000", Errc::invalid_timing, "renew_deadline"});
}

TEST(BackendOptionErrors, GoodOptionsAreAccepted) {
  EXPECT_TRUE(
      create_status(kRedis + "?prefix=app:&restart_guard=off", {{"timeout_ms", "500"}}).ok());
  EXPECT_TRUE(create_status(kPostgres + "?mode=session&takeover_grace_ms=0",
                            {{"sslmode", "disable"}, {"allow_proxy", "yes"}})
                  .ok());
}

TEST(BackendOptionErrors, NeedsTheAsioRuntimeIsUnsupportedBackendEverywhere) {
  auto exec = std::make_shared<ManualExecutor>();
  for (const auto& base : {kRedis, kPostgres}) {
    ElectorOptions o;
    o.backend_url = base;
    o.election = "opts";
    o.identity = "a";
    auto e = Elector::create_with_executor(o, exec);
    ASSERT_FALSE(e.ok()) << base;
    EXPECT_EQ(e.status.code, Errc::unsupported_backend) << e.status.message;
    EXPECT_NE(e.status.message.find("needs the Asio runtime"), std::string::npos)
        << e.status.message;
  }
  exec->run_ready();
}

}  // namespace
}  // namespace tenure
