#include "memory_backend.hpp"

#include "tenure/delivery.hpp"
#include "tenure/fencing.hpp"

#include <atomic>
#include <chrono>
#include <map>
#include <mutex>

namespace tenure::backends {

namespace {

using namespace std::chrono;

struct Watcher {
  Delivery delivery;  // the watching backend's: nothing reaches it after its close()
  LeaseSink* sink;
};

struct ElectionState {
  std::string holder;
  uint64_t token = 0;  // last issued; never goes back
  milliseconds lease_duration{0};
  Clock::time_point renewed{};
  int64_t acquired_unix = 0, renewed_unix = 0;
  uint64_t transitions = 0;
  std::string last_holder;
  MemoryFault fault = MemoryFault::none;
  std::map<uint64_t, Watcher> watchers;
  std::map<std::string, RunRecord> runs;
  std::vector<std::function<void()>> hung;  // completions held back by MemoryFault::hang
};

// Never destroyed: runtime threads may still touch it while the process exits.
struct Store {
  std::mutex mu;
  std::map<std::string, ElectionState> elections;  // key: namespace + '/' + election
  uint64_t next_watcher = 1;
};
Store& store() {
  static Store* s = new Store();
  return *s;
}

void wake(const Watcher& w) {
  w.delivery.post([sink = w.sink] { sink->changed(); });
}

int64_t unix_ms() {
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

bool live(const ElectionState& s, Clock::time_point now) {
  return !s.holder.empty() && now - s.renewed < s.lease_duration;
}

LeaseRecord record_of(const ElectionState& s, Clock::time_point now) {
  LeaseRecord r;
  r.token = s.token;
  r.transitions = s.transitions;
  if (live(s, now)) {
    r.holder = s.holder;
    r.lease_duration = s.lease_duration;
    r.acquired_unix_ms = s.acquired_unix;
    r.renewed_unix_ms = s.renewed_unix;
    r.expires_in_ms = duration_cast<milliseconds>(s.lease_duration - (now - s.renewed)).count();
  }
  return r;
}

class MemoryBackend : public LeaseBackend, public Ledger {
 public:
  explicit MemoryBackend(const BackendContext& ctx)
      : key_(ctx.url.host + "/" + ctx.election),
        identity_(ctx.identity),
        timing_(ctx.timing),
        exec_(ctx.executor),
        delivery_(ctx.executor) {}

  Capabilities capabilities() const override {
    return {
        .session_bound = false, .push_wakeup = true, .server_side_expiry = true, .ledger = true};
  }

  void acquire(Completion<AcquireOutcome> done) override {
    run(
        [this](ElectionState& s, Clock::time_point now) -> Result<AcquireOutcome> {
          AcquireOutcome out;
          if (live(s, now)) {
            out.record = record_of(s, now);
            out.retry_at = s.renewed + s.lease_duration;  // when this holder's lease runs out
            return out;
          }
          if (s.token >= kMaxFencingToken)
            return token_exhausted("the memory:// election " + key_, s.token);
          if (s.last_holder != identity_) ++s.transitions;
          s.holder = s.last_holder = identity_;
          ++s.token;
          s.lease_duration = timing_.lease_duration;
          s.renewed = now;
          s.acquired_unix = s.renewed_unix = unix_ms();
          out.acquired = true;
          out.record = record_of(s, now);
          notify(s);
          return out;
        },
        std::move(done));
  }

  void renew(uint64_t token, Completion<LeaseRecord> done) override {
    run(
        [this, token](ElectionState& s, Clock::time_point now) -> Result<LeaseRecord> {
          if (!live(s, now) || s.holder != identity_ || s.token != token)
            return make_error(Errc::lost, "the lease is no longer ours (expired or taken over)");
          s.renewed = now;
          s.renewed_unix = unix_ms();
          return record_of(s, now);
        },
        std::move(done));
  }

  void release(uint64_t token, Completion<bool> done) override {
    run(
        [this, token](ElectionState& s, Clock::time_point now) -> Result<bool> {
          if (!live(s, now) || s.holder != identity_ || s.token != token)
            return make_error(Errc::lost, "the lease is no longer ours; nothing to release");
          s.holder.clear();
          notify(s);
          return true;
        },
        std::move(done));
  }

  void read(Completion<LeaseRecord> done) override {
    run([](ElectionState& s,
           Clock::time_point now) -> Result<LeaseRecord> { return record_of(s, now); },
        std::move(done));
  }

  void start(LeaseSink& sink) override {
    std::lock_guard lock(store().mu);
    watcher_id_ = store().next_watcher++;
    store().elections[key_].watchers.insert_or_assign(watcher_id_, Watcher{delivery_, &sink});
  }

  void close(Clock::time_point, std::function<void()> done) override {
    {
      std::lock_guard lock(store().mu);
      store().elections[key_].watchers.erase(watcher_id_);
      delivery_.close();
    }
    exec_->post(std::move(done));
  }

  Ledger* ledger() override { return this; }

  void claim(const std::string& job, uint64_t token, const std::string& holder,
             UnfinishedPolicy policy, Completion<ClaimResult> done) override {
    run(
        [this, job, token, holder, policy](ElectionState& s,
                                           Clock::time_point now) -> Result<ClaimResult> {
          if (auto f = fenced(s, now, token); !f.ok()) return f;
          ClaimResult out;
          auto it = s.runs.find(job);
          if (it != s.runs.end()) out.previous = it->second;
          if (!may_claim(out.previous, token, policy)) return out;
          s.runs[job] = started_run(job, token, holder);
          out.claimed = true;
          return out;
        },
        std::move(done));
  }

  void finish(const std::string& job, uint64_t token, bool success, const std::string& detail,
              Completion<RunRecord> done) override {
    run(
        [this, job, token, success, detail](ElectionState& s,
                                            Clock::time_point now) -> Result<RunRecord> {
          if (auto f = fenced(s, now, token); !f.ok()) return f;
          auto it = s.runs.find(job);
          if (it == s.runs.end() || it->second.token != token)
            return make_error(Errc::fenced, "job '" + job + "' was claimed under another token");
          it->second.status = success ? RunStatus::finished : RunStatus::failed;
          it->second.finished_unix_ms = unix_ms();
          it->second.detail = detail;
          return it->second;
        },
        std::move(done));
  }

  void read(const std::string& job, Completion<RunRecord> done) override {
    run(
        [job](ElectionState& s, Clock::time_point) -> Result<RunRecord> {
          auto it = s.runs.find(job);
          if (it == s.runs.end()) {
            RunRecord r;
            r.job_key = job;
            return r;
          }
          return it->second;
        },
        std::move(done));
  }

  void list(const std::string& prefix, size_t limit,
            Completion<std::vector<RunRecord>> done) override {
    run(
        [prefix, limit](ElectionState& s, Clock::time_point) -> Result<std::vector<RunRecord>> {
          if (auto st = validate_job_prefix(prefix); !st.ok()) return st;
          std::vector<RunRecord> out;
          for (auto it = s.runs.lower_bound(prefix);
               it != s.runs.end() && it->first.compare(0, prefix.size(), prefix) == 0; ++it)
            out.push_back(it->second);
          keep_last(out, limit);
          return out;
        },
        std::move(done));
  }

 private:
  Status fenced(const ElectionState& s, Clock::time_point now, uint64_t token) const {
    if (!live(s, now) || s.holder != identity_ || s.token != token)
      return make_error(Errc::fenced, "token " + std::to_string(token) +
                                          " is not the current leadership token (" +
                                          std::to_string(s.token) + ")");
    return {};
  }

  // Runs op atomically on the election's state, then completes on our executor (never inline).
  template <class T, class Op>
  void run(Op op, Completion<T> done) {
    std::lock_guard lock(store().mu);
    ElectionState& s = store().elections[key_];
    if (s.fault == MemoryFault::fail) {
      delivery_.complete<T>(std::move(done),
                            make_error(Errc::unreachable, "memory backend: injected failure"));
      return;
    }
    Result<T> r = op(s, exec_->now());
    auto complete = [d = delivery_, done = std::move(done), r = std::move(r)]() mutable {
      d.complete<T>(std::move(done), std::move(r));
    };
    if (s.fault == MemoryFault::hang) {
      // The request reached the server but its answer is stuck (a hung connection).
      s.hung.push_back(std::move(complete));
      return;
    }
    complete();
  }

  void notify(ElectionState& s) {
    for (auto& [id, w] : s.watchers)
      if (id != watcher_id_) wake(w);
  }

  std::string key_, identity_;
  Timing timing_;
  std::shared_ptr<Executor> exec_;
  Delivery delivery_;
  uint64_t watcher_id_ = 0;
};

}  // namespace

Result<std::unique_ptr<LeaseBackend>> make_memory_backend(const BackendContext& ctx) {
  if (!ctx.url.path.empty() && ctx.url.path != "/")
    return make_error(Errc::bad_url, "memory backend URL '" + ctx.url.redacted() +
                                         "' has a path; use memory://NAMESPACE");
  return std::unique_ptr<LeaseBackend>(new MemoryBackend(ctx));
}

void set_memory_fault(const std::string& ns, const std::string& election, MemoryFault fault) {
  std::vector<std::function<void()>> release;
  {
    std::lock_guard lock(store().mu);
    auto& s = store().elections[ns + "/" + election];
    s.fault = fault;
    if (fault != MemoryFault::hang) release.swap(s.hung);
  }
  for (auto& f : release) f();
}

void set_memory_token(const std::string& ns, const std::string& election, uint64_t token) {
  std::lock_guard lock(store().mu);
  store().elections[ns + "/" + election].token = token;
}

void steal_memory_lease(const std::string& ns, const std::string& election,
                        const std::string& new_holder) {
  std::lock_guard lock(store().mu);
  auto& s = store().elections[ns + "/" + election];
  s.holder = s.last_holder = new_holder;
  ++s.token;
  ++s.transitions;
  // Held "forever" in both real and fake clock domains.
  s.lease_duration = duration_cast<milliseconds>(std::chrono::hours(24 * 365 * 100));
  s.renewed = Clock::time_point{};
  for (auto& [id, w] : s.watchers) wake(w);
}

}  // namespace tenure::backends
