// Direct access to backends (LeaseBackend), below the state machine: open them on the shared
// runtime and call their operations synchronously. Used by the contract suite and backend tests.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "asio_executor.hpp"
#include "runtime.hpp"
#include "tenure/backend.hpp"

namespace tenure::testing {

// A sink for tests that drive a backend by hand: changed() calls on_changed, the rest is counted.
class CallbackSink : public LeaseSink {
 public:
  explicit CallbackSink(std::function<void()> on_changed) : on_changed_(std::move(on_changed)) {}
  void changed() override {
    if (on_changed_) on_changed_();
  }
  void granted(LeaseRecord) override { ++granted_; }
  void revoked(RevokeReason, Status, std::function<void()> ack) override {
    ++revoked_;
    if (ack) ack();
  }
  void lost(Status) override { ++lost_; }
  void renewed(LeaseRecord) override { ++renewed_; }
  void leader_changed(LeaseRecord) override {}
  void report(Status) override { ++reports_; }
  std::atomic<int> granted_{0}, revoked_{0}, lost_{0}, renewed_{0}, reports_{0};

 private:
  std::function<void()> on_changed_;
};

class BackendSessions {
 public:
  BackendSessions() : rt_(Runtime::get()) {}
  ~BackendSessions() {
    for (auto& [s, ex] : sessions_) {
      auto p = std::make_shared<std::promise<void>>();
      auto* sp = s.get();
      ex->post([sp, p, ex] { sp->close(ex->now(), [p] { p->set_value(); }); });
      p->get_future().wait_for(std::chrono::seconds(5));
    }
  }
  Result<LeaseBackend*> open(const std::string& url_text, const std::string& election,
                             const std::string& identity, Timing timing = default_timing(),
                             std::map<std::string, std::string> options = {}) {
    auto url = parse_url(url_text);
    if (!url.ok()) return url.status;
    auto exec = std::make_shared<AsioExecutor>(rt_->io());
    BackendContext ctx{url.value, election, identity,       timing,
                       options,   exec,     exec->strand(), request_timeout_for(timing)};
    const BackendFactory* f = find_backend(url.value.scheme);
    if (!f) return make_error(Errc::unsupported_backend, "no backend for " + url.value.scheme);
    auto r = (*f)(ctx);
    if (!r.ok()) return r.status;
    sessions_.emplace_back(std::move(r.value), exec);
    return sessions_.back().first.get();
  }
  // Starts the backend (on its executor) with a sink whose changed() calls on_changed.
  void start(LeaseBackend* s, std::function<void()> on_changed) {
    sinks_.push_back(std::make_unique<CallbackSink>(std::move(on_changed)));
    auto* sink = sinks_.back().get();
    auto p = std::make_shared<std::promise<void>>();
    executor(s)->post([s, sink, p] {
      s->start(*sink);
      p->set_value();
    });
    p->get_future().wait();
  }
  std::shared_ptr<Executor> executor(LeaseBackend* s) {
    for (auto& [p, e] : sessions_)
      if (p.get() == s) return e;
    return nullptr;
  }
  template <class T>
  Result<T> call(LeaseBackend* s, std::function<void(LeaseBackend*, Completion<T>)> op) {
    auto ex = executor(s);
    auto prom = std::make_shared<std::promise<Result<T>>>();
    auto fut = prom->get_future();
    ex->post([s, op, prom] { op(s, [prom](Result<T> r) { prom->set_value(std::move(r)); }); });
    if (fut.wait_for(std::chrono::seconds(15)) != std::future_status::ready)
      return make_error(Errc::timeout, "backend call did not complete in 15 s");
    return fut.get();
  }
  Result<AcquireOutcome> acquire(LeaseBackend* s) {
    return call<AcquireOutcome>(s, [](LeaseBackend* b, auto done) { b->acquire(done); });
  }
  Result<LeaseRecord> renew(LeaseBackend* s, uint64_t token) {
    return call<LeaseRecord>(s, [token](LeaseBackend* b, auto done) { b->renew(token, done); });
  }
  Result<bool> release(LeaseBackend* s, uint64_t token) {
    return call<bool>(s, [token](LeaseBackend* b, auto done) { b->release(token, done); });
  }
  Result<LeaseRecord> read(LeaseBackend* s) {
    return call<LeaseRecord>(s, [](LeaseBackend* b, auto done) { b->read(done); });
  }
  Result<ClaimResult> claim(LeaseBackend* s, const std::string& job, uint64_t token,
                            const std::string& holder, UnfinishedPolicy p) {
    return call<ClaimResult>(
        s, [=](LeaseBackend* b, auto done) { b->ledger()->claim(job, token, holder, p, done); });
  }
  Result<RunRecord> finish(LeaseBackend* s, const std::string& job, uint64_t token, bool ok,
                           const std::string& detail) {
    return call<RunRecord>(
        s, [=](LeaseBackend* b, auto done) { b->ledger()->finish(job, token, ok, detail, done); });
  }
  Result<RunRecord> read_run(LeaseBackend* s, const std::string& job) {
    return call<RunRecord>(s, [=](LeaseBackend* b, auto done) { b->ledger()->read(job, done); });
  }
  static Timing default_timing() {
    return Timing{milliseconds(1500), milliseconds(1000), milliseconds(200)};
  }

 private:
  std::shared_ptr<Runtime> rt_;
  std::vector<std::unique_ptr<CallbackSink>> sinks_;  // outlive the backends (declared first)
  std::vector<std::pair<std::unique_ptr<LeaseBackend>, std::shared_ptr<Executor>>> sessions_;
};

}  // namespace tenure::testing
