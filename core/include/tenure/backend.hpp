// The backend interface: what a store must offer to hold leases. One BackendSession per elector;
// a backend registers a factory under its URL scheme(s). Backends only fill this in.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "tenure/errors.hpp"
#include "tenure/executor.hpp"
#include "tenure/ledger.hpp"
#include "tenure/options.hpp"
#include "tenure/url.hpp"

namespace tenure {

struct LeaseRecord {
  std::string holder;  // empty: no one holds it
  uint64_t token = 0;  // fencing token of the holder's epoch (last epoch when none holds it)
  milliseconds lease_duration{0};
  int64_t acquired_unix_ms = 0;  // wall clock, for people; never used to judge expiry
  int64_t renewed_unix_ms = 0;
  uint64_t transitions = 0;    // how many times leadership changed hands
  int64_t expires_in_ms = -1;  // as judged by the backend (server TTL); -1 when unknown
};

struct Capabilities {
  bool session_bound = false;       // a crashed holder loses the lease when its session closes
  bool push_wakeup = false;         // watch() reports releases and acquisitions without polling
  bool server_side_expiry = false;  // the server enforces lease_duration
  bool ledger = false;              // ledger() returns a run-once ledger
};

struct AcquireOutcome {
  bool acquired = false;
  LeaseRecord record;  // acquired: ours, with the new token; else the current holder's
  // Not acquired: when the backend knows the lease can change hands (the holder's lease expires),
  // try again after at most this long rather than after the usual follower delay. Negative: none.
  milliseconds retry_in{-1};
};

// Contract for every method: the completion runs later (never inline) on the session's executor,
// exactly once, unless close() was called first. Requests must time out below renew_deadline.
// renew/release with a token that is not the current holder's fail with Errc::lost.
// Requests may overlap (a release can be issued while a renew is still out): a backend whose
// client runs one request at a time queues them.
class BackendSession {
 public:
  virtual ~BackendSession() = default;
  virtual Capabilities capabilities() const = 0;
  virtual void acquire(Completion<AcquireOutcome> done) = 0;
  virtual void renew(uint64_t token, Completion<LeaseRecord> done) = 0;
  virtual void release(uint64_t token, Completion<bool> done) = 0;
  virtual void read(Completion<LeaseRecord> done) = 0;
  // Push wake-up: call on_change (on the session's executor) whenever the lease may have changed
  // hands or expired. Called at most once, before the first acquire/read.
  virtual void watch(std::function<void()> on_change) = 0;
  // Cancel outstanding work and free resources; done runs on the executor when nothing of the
  // session will run any more. Pending completions are dropped.
  virtual void close(std::function<void()> done) = 0;
  virtual Ledger* ledger() { return nullptr; }
};

// What a backend factory is given for one elector.
struct BackendContext {
  Url url;
  std::string election;
  std::string identity;
  Timing timing;
  std::map<std::string, std::string> options;  // backend.<key> options, without the prefix
  std::shared_ptr<Executor> executor;          // the elector's serial executor
  // The Asio executor of the elector's strand for sockets and timers; empty when the elector runs
  // on a ManualExecutor (unit tests), which only the memory backend supports.
  boost::asio::any_io_executor io;
  // Reports trouble that is not a failed request (a degraded mode, a fallback to polling): the
  // elector turns it into an `error` event. Call it from any thread, once per distinct problem.
  std::function<void(Status)> report;
  // Says the lease may have been lost under a leader (a session-bound lock's connection dropped):
  // the elector renews at once instead of at its next retry_period, so a leader whose lock a
  // standby may already hold finds out within milliseconds. Call it from any thread.
  std::function<void()> recheck;
};

using BackendFactory =
    std::function<Result<std::unique_ptr<BackendSession>>(const BackendContext&)>;

// Registry by URL scheme. Backends register from core/backends/builtin.cpp.
void register_backend(const std::string& scheme, BackendFactory factory);
const BackendFactory* find_backend(const std::string& scheme);
std::vector<std::string> registered_schemes();

}  // namespace tenure

namespace tenure {
// Defined in core/backends/builtin.cpp; the registry calls it once before the first lookup.
void register_builtin_backends();
}  // namespace tenure
