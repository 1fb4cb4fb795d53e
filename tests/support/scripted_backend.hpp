// A scripted fake backend for state-machine tests (never in production headers). Registered as
// scripted://NAME; a test takes the instance with ScriptedBackend::get(NAME) after the elector is
// created. It counts every call, keeps each request's completion until the test answers it (the
// answer is posted, never inline), and gives the test the core's sink so it can push grant,
// revoke, lost, renewed, leader_changed, report and changed in any phase. Meant for the
// ManualExecutor: everything runs on the test's thread inside run_ready()/advance().
#pragma once

#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "tenure/backend.hpp"

namespace tenure::testing {

class ScriptedBackend final : public LeaseBackend {
 public:
  struct Counts {
    int start = 0, acquire = 0, renew = 0, release = 0, read = 0, join = 0, leave = 0, close = 0;
  };

  // Registers the scheme once; the elector's factory call makes the instance for NAME.
  static void install(const std::string& name, Capabilities caps) {
    static std::once_flag once;
    std::call_once(once, [] {
      register_backend(
          "scripted", [](const BackendContext& ctx) -> Result<std::unique_ptr<LeaseBackend>> {
            auto& slot = registry()[ctx.url.host];
            auto b = std::unique_ptr<ScriptedBackend>(new ScriptedBackend(ctx, slot.caps));
            slot.live = b.get();
            return std::unique_ptr<LeaseBackend>(std::move(b));
          });
    });
    registry()[name] = Slot{caps, nullptr};
  }
  static ScriptedBackend* get(const std::string& name) { return registry()[name].live; }

  ~ScriptedBackend() override {
    for (auto& [name, slot] : registry())
      if (slot.live == this) slot.live = nullptr;
  }

  Capabilities capabilities() const override { return caps_; }
  void start(LeaseSink& sink) override {
    ++counts.start;
    sink_ = &sink;
  }
  void acquire(Completion<AcquireOutcome> done) override {
    ++counts.acquire;
    acquires_.push_back(std::move(done));
  }
  void renew(uint64_t token, Completion<LeaseRecord> done) override {
    ++counts.renew;
    last_renew_token = token;
    renews_.push_back(std::move(done));
  }
  void release(uint64_t token, Completion<bool> done) override {
    ++counts.release;
    released_tokens.push_back(token);
    releases_.push_back(std::move(done));
  }
  void read(Completion<LeaseRecord> done) override {
    ++counts.read;
    reads_.push_back(std::move(done));
  }
  void join() override { ++counts.join; }
  void leave() override { ++counts.leave; }
  void close(Clock::time_point deadline, std::function<void()> done) override {
    ++counts.close;
    close_deadline = deadline;
    closed_ = true;
    *closed_flag_ = true;
    acquires_.clear();
    renews_.clear();
    releases_.clear();
    reads_.clear();
    exec_->post(std::move(done));
  }

  // What the test does. Each answers the oldest request of its kind; false when none is out.
  bool answer_acquire(Result<AcquireOutcome> r) { return answer(acquires_, std::move(r)); }
  bool answer_renew(Result<LeaseRecord> r) { return answer(renews_, std::move(r)); }
  bool answer_release(Result<bool> r = true) { return answer(releases_, std::move(r)); }
  bool answer_read(Result<LeaseRecord> r) { return answer(reads_, std::move(r)); }
  size_t pending_acquires() const { return acquires_.size(); }
  size_t pending_renews() const { return renews_.size(); }
  size_t pending_releases() const { return releases_.size(); }
  size_t pending_reads() const { return reads_.size(); }
  LeaseSink& sink() { return *sink_; }
  bool started() const { return sink_ != nullptr; }
  bool closed() const { return closed_; }

  // Records for answers.
  LeaseRecord ours(uint64_t token) const {
    LeaseRecord r;
    r.holder = identity_;
    r.token = token;
    r.lease_duration = timing_.lease_duration;
    return r;
  }
  static LeaseRecord held_by(const std::string& holder, uint64_t token) {
    LeaseRecord r;
    r.holder = holder;
    r.token = token;
    return r;
  }
  static AcquireOutcome won(LeaseRecord rec) { return AcquireOutcome{true, std::move(rec), {}}; }
  static AcquireOutcome not_won(LeaseRecord rec, std::optional<Clock::time_point> retry_at = {}) {
    return AcquireOutcome{false, std::move(rec), retry_at};
  }

  Counts counts;
  uint64_t last_renew_token = 0;
  std::vector<uint64_t> released_tokens;
  Clock::time_point close_deadline{};

 private:
  struct Slot {
    Capabilities caps;
    ScriptedBackend* live = nullptr;
  };
  static std::map<std::string, Slot>& registry() {
    static std::map<std::string, Slot> r;
    return r;
  }
  ScriptedBackend(const BackendContext& ctx, Capabilities caps)
      : caps_(caps), exec_(ctx.executor), identity_(ctx.identity), timing_(ctx.timing) {}

  template <class T>
  bool answer(std::deque<Completion<T>>& q, Result<T> r) {
    if (q.empty() || closed_) return false;
    auto done = std::move(q.front());
    q.pop_front();
    exec_->post([closed = closed_flag_, done = std::move(done), r = std::move(r)]() mutable {
      if (!*closed) done(std::move(r));  // nothing completes after close()
    });
    return true;
  }

  Capabilities caps_;
  std::shared_ptr<Executor> exec_;
  std::string identity_;
  Timing timing_;
  LeaseSink* sink_ = nullptr;
  bool closed_ = false;
  std::shared_ptr<bool> closed_flag_ = std::make_shared<bool>(false);
  std::deque<Completion<AcquireOutcome>> acquires_;
  std::deque<Completion<LeaseRecord>> renews_;
  std::deque<Completion<bool>> releases_;
  std::deque<Completion<LeaseRecord>> reads_;
};

}  // namespace tenure::testing
