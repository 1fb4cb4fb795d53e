// Helpers for the etcd tests: the test servers' environment (tests/servers/etcd.sh) and a tiny
// JSON-gateway client over curl for checks from outside tenure.
#pragma once

#include <gtest/gtest.h>

#include <string>

#include "support/test_support.hpp"

namespace tenure::testing::etcd {

inline const char* kStartHint =
    "start the test servers with `bash tests/servers/etcd.sh start /tmp/tenure-etcd && "
    "source /tmp/tenure-etcd/etcd.env`";

#define TENURE_REQUIRE_ETCD()                                             \
  do {                                                                    \
    std::string url_;                                                     \
    TENURE_REQUIRE_ENV("TENURE_TEST_ETCD_URL", url_,                      \
                       std::string(::tenure::testing::etcd::kStartHint)); \
  } while (0)

// Runs a shell command; returns its stdout (trailing newline removed).
inline std::string sh(const std::string& cmd) {
  std::string out = shell_output(cmd);
  while (!out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

// "127.0.0.1:PORT" of an etcd:// URL with one host.
inline std::string host_port(const std::string& url) {
  auto p = url.find("://");
  return p == std::string::npos ? url : url.substr(p + 3);
}

// POST a JSON body to the single test server's gateway; returns the answer.
inline std::string post(const std::string& path, const std::string& body,
                        const std::string& url = env("TENURE_TEST_ETCD_URL")) {
  return sh("curl -s -m 5 -X POST http://" + host_port(url) + "/v3/" + path + " -d '" + body + "'");
}

inline std::string ctl(const std::string& args) {
  return sh(env("TENURE_TEST_ETCD_CTL") + " " + args + " " + env("TENURE_TEST_ETCD_STATE") +
            " 2>&1");
}

}  // namespace tenure::testing::etcd
