// The backend contract: one parameterised suite that every backend passes against its real
// server. A backend's test folder instantiates it:
//
//   INSTANTIATE_TEST_SUITE_P(Redis, BackendContract, ::testing::Values(redis_target()),
//                            [](auto& info) { return info.param.name; });
//
// Kill -9 tests run the elector in a separate process (tenure_elector_child, path in
// TENURE_TEST_CHILD): never fork() a test process that already runs tenure's threads.
#pragma once

#include <gtest/gtest.h>

#include <functional>
#include <map>
#include <string>

#include "tenure/elector.hpp"

namespace tenure::testing {

struct ContractTarget {
  std::string name;  // test name suffix: letters and digits only
  // A backend URL; called once per test. Returns "" when the server is not available: the test
  // then fails under CI=true and skips otherwise, printing `missing_hint`.
  std::function<std::string()> url;
  std::string missing_hint;
  std::map<std::string, std::string> backend_options;  // set as backend.<key>
  // Short timings so expiry tests finish fast; must satisfy the timing rule.
  Timing timing{milliseconds(1500), milliseconds(1000), milliseconds(200)};
  // Restarts the server (blocking until it accepts connections again); empty: test skipped
  // with a message, never counted as passed.
  std::function<void()> restart_server;
  // False for memory://, whose leases live in one process: kill -9 tests then do not apply.
  bool cross_process = true;
  // A URL whose credentials are wrong (empty: the backend has no credentials).
  std::function<std::string()> bad_credentials_url;
};

// gtest prints the parameter as its name rather than as bytes.
inline void PrintTo(const ContractTarget& t, std::ostream* os) { *os << t.name; }

class BackendContract : public ::testing::TestWithParam<ContractTarget> {
 protected:
  void SetUp() override;
  std::unique_ptr<Elector> make(const std::string& election, const std::string& identity,
                                bool observe = false);
  std::string url_;
};

}  // namespace tenure::testing
