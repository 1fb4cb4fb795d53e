// Helpers for the Redis tests: the test server's environment, redis-cli, and direct access to
// backend sessions on the shared runtime.
#pragma once

#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <future>
#include <memory>
#include <string>
#include <vector>

#include "asio_executor.hpp"
#include "runtime.hpp"
#include "support/test_support.hpp"
#include "tenure/backend.hpp"

namespace tenure::testing::redis {

inline const char* kStartHint =
    "start a test server with `bash tests/servers/redis.sh start /tmp/tenure-redis && "
    "source /tmp/tenure-redis/redis.env`";

inline std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

// Fails (CI=true) or skips the current test when the Redis test server is not configured.
#define TENURE_REQUIRE_REDIS()                                             \
  do {                                                                     \
    std::string url_;                                                      \
    TENURE_REQUIRE_ENV("TENURE_TEST_REDIS_URL", url_,                      \
                       std::string(::tenure::testing::redis::kStartHint)); \
  } while (0)

// Runs redis-cli against the plain test server; returns its stdout.
inline std::string cli(const std::string& args) {
  std::string cmd =
      "redis-cli -h 127.0.0.1 -p " + env("TENURE_TEST_REDIS_PORT") + " " + args + " 2>&1";
  std::string out;
  if (FILE* p = ::popen(cmd.c_str(), "r")) {
    char buf[4096];
    size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
    ::pclose(p);
  }
  return out;
}

// Runs `redis.sh VERB STATEDIR` (start/restart/down/up) on the test server.
inline int ctl(const std::string& verb) {
  std::string cmd =
      env("TENURE_TEST_REDIS_CTL") + " " + verb + " " + env("TENURE_TEST_REDIS_STATE");
  return std::system(cmd.c_str());
}

// Backend sessions driven directly, each on its own strand of the shared runtime.
class Sessions {
 public:
  Sessions() : rt_(Runtime::get()) {}
  ~Sessions() {
    for (auto& [s, ex] : sessions_) {
      auto p = std::make_shared<std::promise<void>>();
      auto* sp = s.get();
      ex->post([sp, p] { sp->close([p] { p->set_value(); }); });
      p->get_future().wait_for(std::chrono::seconds(5));
    }
  }
  Result<BackendSession*> open(const std::string& url_text, const std::string& election,
                               const std::string& identity, Timing timing = default_timing(),
                               std::map<std::string, std::string> options = {}) {
    auto url = parse_url(url_text);
    if (!url.ok()) return url.status;
    auto exec = std::make_shared<AsioExecutor>(rt_->io());
    BackendContext ctx{url.value, election, identity, timing, options, exec, exec->strand()};
    const BackendFactory* f = find_backend(url.value.scheme);
    if (!f) return make_error(Errc::unsupported_backend, "no backend for " + url.value.scheme);
    auto r = (*f)(ctx);
    if (!r.ok()) return r.status;
    sessions_.emplace_back(std::move(r.value), exec);
    return sessions_.back().first.get();
  }
  std::shared_ptr<Executor> executor(BackendSession* s) {
    for (auto& [p, e] : sessions_)
      if (p.get() == s) return e;
    return nullptr;
  }
  template <class T>
  Result<T> call(BackendSession* s, std::function<void(BackendSession*, Completion<T>)> op) {
    auto ex = executor(s);
    auto prom = std::make_shared<std::promise<Result<T>>>();
    auto fut = prom->get_future();
    ex->post([s, op, prom] { op(s, [prom](Result<T> r) { prom->set_value(std::move(r)); }); });
    if (fut.wait_for(std::chrono::seconds(15)) != std::future_status::ready)
      return make_error(Errc::timeout, "backend call did not complete in 15 s");
    return fut.get();
  }
  Result<AcquireOutcome> acquire(BackendSession* s) {
    return call<AcquireOutcome>(s, [](BackendSession* b, auto done) { b->acquire(done); });
  }
  Result<LeaseRecord> renew(BackendSession* s, uint64_t token) {
    return call<LeaseRecord>(s, [token](BackendSession* b, auto done) { b->renew(token, done); });
  }
  Result<bool> release(BackendSession* s, uint64_t token) {
    return call<bool>(s, [token](BackendSession* b, auto done) { b->release(token, done); });
  }
  Result<LeaseRecord> read(BackendSession* s) {
    return call<LeaseRecord>(s, [](BackendSession* b, auto done) { b->read(done); });
  }
  Result<ClaimResult> claim(BackendSession* s, const std::string& job, uint64_t token,
                            const std::string& holder, UnfinishedPolicy p) {
    return call<ClaimResult>(
        s, [=](BackendSession* b, auto done) { b->ledger()->claim(job, token, holder, p, done); });
  }
  Result<RunRecord> finish(BackendSession* s, const std::string& job, uint64_t token, bool ok,
                           const std::string& detail) {
    return call<RunRecord>(s, [=](BackendSession* b, auto done) {
      b->ledger()->finish(job, token, ok, detail, done);
    });
  }
  Result<RunRecord> read_run(BackendSession* s, const std::string& job) {
    return call<RunRecord>(s, [=](BackendSession* b, auto done) { b->ledger()->read(job, done); });
  }
  static Timing default_timing() {
    return Timing{milliseconds(1500), milliseconds(1000), milliseconds(200)};
  }

 private:
  std::shared_ptr<Runtime> rt_;
  std::vector<std::pair<std::unique_ptr<BackendSession>, std::shared_ptr<Executor>>> sessions_;
};

}  // namespace tenure::testing::redis
