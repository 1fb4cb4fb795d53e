// Helpers for the Redis tests: the test server's environment, redis-cli, and direct access to
// backend sessions on the shared runtime.
#pragma once

#include <gtest/gtest.h>

#include <cstdlib>
#include <future>
#include <memory>
#include <string>
#include <vector>

#include "asio_executor.hpp"
#include "runtime.hpp"
#include "support/backend_sessions.hpp"
#include "support/test_support.hpp"
#include "tenure/backend.hpp"

namespace tenure::testing::redis {

inline const char* kStartHint =
    "start a test server with `bash tests/servers/redis.sh start /tmp/tenure-redis && "
    "source /tmp/tenure-redis/redis.env`";

// Fails (CI=true) or skips the current test when the Redis test server is not configured.
#define TENURE_REQUIRE_REDIS()                                             \
  do {                                                                     \
    std::string url_;                                                      \
    TENURE_REQUIRE_ENV("TENURE_TEST_REDIS_URL", url_,                      \
                       std::string(::tenure::testing::redis::kStartHint)); \
  } while (0)

// Runs redis-cli against the plain test server; returns its stdout.
inline std::string cli(const std::string& args) {
  return shell_output("redis-cli -h 127.0.0.1 -p " + env("TENURE_TEST_REDIS_PORT") + " " + args +
                      " 2>&1");
}

// Runs `redis.sh VERB STATEDIR` (start/restart/down/up) on the test server.
inline int ctl(const std::string& verb) {
  std::string cmd =
      env("TENURE_TEST_REDIS_CTL") + " " + verb + " " + env("TENURE_TEST_REDIS_STATE");
  return std::system(cmd.c_str());
}

// Backend sessions driven directly, each on its own strand of the shared runtime.
using Sessions = ::tenure::testing::BackendSessions;

}  // namespace tenure::testing::redis
