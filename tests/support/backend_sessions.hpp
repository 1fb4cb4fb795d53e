// Direct access to backend sessions, below the state machine: open sessions on the shared
// runtime and call their operations synchronously. Used by the contract suite and backend tests.
#pragma once

#include <chrono>
#include <future>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "asio_executor.hpp"
#include "runtime.hpp"
#include "tenure/backend.hpp"

namespace tenure::testing {

class BackendSessions {
 public:
  BackendSessions() : rt_(Runtime::get()) {}
  ~BackendSessions() {
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

}  // namespace tenure::testing
