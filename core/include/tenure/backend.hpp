// The backend interface: what a store must offer to hold leases. One LeaseBackend per elector;
// a backend registers a factory under its URL scheme(s). docs/backends.md explains how to write
// one. The core pulls (acquire, renew, release, read) and the backend pushes (LeaseSink).
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "tenure/completion.hpp"
#include "tenure/errors.hpp"
#include "tenure/events.hpp"
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

// What the core reads to choose a driver mode and its timers.
struct Capabilities {
  // A crashed holder loses the lease when its session closes. With push_wakeup, followers need
  // no polling (a slow safety-net read still runs).
  bool session_bound = false;
  bool push_wakeup = false;  // the backend calls sink.changed() on releases and acquisitions
  // The server ends a lease nobody renews (after lease_duration), so a crashed holder never
  // blocks the election for longer. The core does not act on it (retry_at tells it when a lease
  // can move); applications read it (C ABI: TENURE_CAP_SERVER_SIDE_EXPIRY).
  bool server_side_expiry = false;
  bool ledger = false;  // ledger() returns a run-once ledger (the core checks it at start)
  // Leadership is granted and revoked by the server (a Kafka consumer group): the core calls
  // join()/leave() and never acquire/renew/release; grants and revokes come through the sink.
  bool assigned = false;
  // The backend keeps its lease alive on its own stream (etcd keep-alive): the core arms no
  // renew tick; the backend calls sink.renewed() after each success and sink.lost() on loss.
  // The core's renew_deadline watchdog is fed by renewed().
  bool renews_itself = false;

  // The shape of a lease on a server (Redis, PostgreSQL lease mode, etcd): followers are woken by
  // the server, the server expires an unrenewed lease, and a run-once ledger is kept there.
  static Capabilities server_lease() {
    Capabilities c;
    c.push_wakeup = true;
    c.server_side_expiry = true;
    c.ledger = true;
    return c;
  }
};

struct AcquireOutcome {
  bool acquired = false;
  LeaseRecord record;  // acquired: ours, with the new token; else the current holder's
  // Not acquired: the earliest time (the core's executor clock, ctx.executor->now()) at which the
  // lease can change hands, e.g. the holder's expiry. The core wakes then, or after the usual
  // follower delay, whichever is sooner. The core owns every wake-up timer.
  std::optional<Clock::time_point> retry_at;
};

// What a backend pushes into the core. Callable from any thread; the core moves each call onto
// the elector's executor. Valid from start() until close()'s done runs.
class LeaseSink {
 public:
  virtual ~LeaseSink() = default;
  virtual void changed() = 0;                 // the lease may have changed hands: look again
  virtual void granted(LeaseRecord rec) = 0;  // assigned backends: we lead now (rec.token)
  // The server takes leadership away and waits: the backend must not let go (e.g. Kafka's
  // unassign) until ack runs. The core runs ack once, on the executor, after the application's
  // ack_revoked() or after lease_duration - renew_deadline, whichever comes first.
  virtual void revoked(RevokeReason why, Status detail, std::function<void()> ack) = 0;
  // Leadership is already gone (TTL 0, session invalidated, lock connection ended). A status
  // with code lost or fenced is reported as RevokeReason::lost, any other as backend_error.
  virtual void lost(Status why) = 0;
  virtual void renewed(LeaseRecord rec) = 0;         // renews_itself: a keep-alive succeeded
  virtual void leader_changed(LeaseRecord rec) = 0;  // observed holder changed (assigned)
  virtual void report(Status s) = 0;  // degraded or trouble that is not a failed request
};

// Contract for every request: the completion runs later (never inline) on the elector's
// executor, exactly once, unless close() was called first. Lease requests time out within
// BackendContext::request_timeout. renew/release with a token that is not the current
// holder's fail with Errc::lost. Requests may overlap (a release can be issued while a renew is
// still out): a backend whose client runs one request at a time queues them.
class LeaseBackend {
 public:
  virtual ~LeaseBackend() = default;
  virtual Capabilities capabilities() const = 0;
  // Once, on the executor, before any other call (push wake-ups start here).
  virtual void start(LeaseSink& sink) = 0;
  // Lease-store path (capabilities().assigned == false):
  virtual void acquire(Completion<AcquireOutcome> done) = 0;
  // Not called when renews_itself or assigned. The default completes with Errc::internal at
  // once (it is a bug in the core to reach it).
  virtual void renew(uint64_t token, Completion<LeaseRecord> done);
  virtual void release(uint64_t token, Completion<bool> done) = 0;
  virtual void read(Completion<LeaseRecord> done) = 0;
  // Assigned path (capabilities().assigned == true); never called otherwise. The defaults do
  // nothing.
  virtual void join();   // start campaigning: grants and revokes arrive through the sink
  virtual void leave();  // stop campaigning (a held leadership ends through revoked/ack)
  // Graceful end: may do bounded network work (delete a candidate key, revoke a server lease,
  // destroy a session) until `deadline` (executor clock), then cancels what is left. done runs
  // on the executor once nothing of the backend will run any more. Pending completions are
  // dropped; the sink is not called after done.
  virtual void close(Clock::time_point deadline, std::function<void()> done) = 0;
  virtual Ledger* ledger() { return nullptr; }
};

// What a backend factory is given for one elector.
struct BackendContext {
  Url url;
  std::string election;
  std::string identity;
  Timing timing;
  std::map<std::string, std::string> options;  // backend.<key> options, without the prefix
  // The elector's serial executor. Its clock is the only clock a backend uses for expiry logic,
  // so the fake-clock tests reach it.
  std::shared_ptr<Executor> executor;
  // The Asio executor of the elector's strand for sockets; empty when the elector runs on a
  // ManualExecutor (unit tests), which only the memory backend and test fakes support.
  boost::asio::any_io_executor io;
  // How long one lease request may take: request_timeout_for(timing), computed by the core.
  milliseconds request_timeout{0};
};

// The one request-timeout rule: a renewal goes out retry_period after the last success; if it
// hangs, it times out halfway between then and renew_deadline, leaving as long again for a
// retry on a fresh connection. The renew_deadline/4 floor keeps retry_period close to
// renew_deadline workable. Always below renew_deadline.
milliseconds request_timeout_for(const Timing& t);

using BackendFactory = std::function<Result<std::unique_ptr<LeaseBackend>>(const BackendContext&)>;

// Registry by URL scheme. Backends register from core/backends/builtin.cpp.
void register_backend(const std::string& scheme, BackendFactory factory);
const BackendFactory* find_backend(const std::string& scheme);
std::vector<std::string> registered_schemes();

// Defined in core/backends/builtin.cpp; the registry calls it once before the first lookup.
void register_builtin_backends();

}  // namespace tenure
