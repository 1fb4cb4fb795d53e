// The backend contract suite on a real Redis, plain (redis://) and TLS (rediss://).
#include <cstdlib>

#include "contract/contract_suite.hpp"
#include "redis_test_support.hpp"

namespace tenure::testing {
namespace {

void restart_redis() {
  std::string cmd = env("TENURE_TEST_REDIS_RESTART");
  ASSERT_FALSE(cmd.empty()) << "TENURE_TEST_REDIS_RESTART not set: " << redis::kStartHint;
  ASSERT_EQ(std::system(cmd.c_str()), 0) << "restart failed: " << cmd;
}

ContractTarget redis_target() {
  ContractTarget t;
  t.name = "Redis";
  t.url = [] { return env("TENURE_TEST_REDIS_URL"); };
  t.missing_hint = redis::kStartHint;
  t.restart_server = restart_redis;
  t.bad_credentials_url = [] {
    return "redis://tenure-nobody:not-the-password@127.0.0.1:" + env("TENURE_TEST_REDIS_PORT");
  };
  return t;
}

ContractTarget rediss_target() {
  ContractTarget t;
  t.name = "RedisTls";
  t.url = [] { return env("TENURE_TEST_REDISS_URL"); };
  t.missing_hint = redis::kStartHint;
  if (!env("TENURE_TEST_REDIS_CA").empty())
    t.backend_options["tls_ca"] = env("TENURE_TEST_REDIS_CA");
  t.restart_server = restart_redis;
  t.bad_credentials_url = [] {
    return "rediss://tenure-nobody:not-the-password@127.0.0.1:" + env("TENURE_TEST_REDIS_TLS_PORT");
  };
  return t;
}

INSTANTIATE_TEST_SUITE_P(Redis, BackendContract, ::testing::Values(redis_target(), rediss_target()),
                         [](const auto& info) { return info.param.name; });

}  // namespace
}  // namespace tenure::testing
