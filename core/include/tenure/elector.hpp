// An elector: one candidacy (or observer) in one election. Thread-safe; the state machine runs on
// the shared runtime's I/O thread, events arrive on the runtime's event thread or by poll_event().
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "tenure/backend.hpp"
#include "tenure/errors.hpp"
#include "tenure/events.hpp"
#include "tenure/ledger.hpp"
#include "tenure/metrics.hpp"
#include "tenure/options.hpp"
#include "tenure/shared_queue.hpp"

namespace tenure {

enum class Role : int { stopped = 0, candidate = 1, leader = 2, observer = 3 };
const char* role_name(Role r) noexcept;

struct ElectorStatus {
  Role role = Role::stopped;
  bool is_leader = false;
  uint64_t token = 0;                     // ours while leader, else the last observed leader's
  std::string leader;                     // identity of the known leader, empty when none
  int64_t ms_since_last_renewal = -1;     // leader only; -1 otherwise
  int64_t ms_since_backend_contact = -1;  // since the backend last answered; -1 never
  LeaseRecord record;                     // the last lease record observed
};

using EventCallback = std::function<void(const Event&)>;

class ElectorCore;

class Elector {
 public:
  // Validates options and the URL, picks the backend. Nothing connects before start().
  static Result<std::unique_ptr<Elector>> create(ElectorOptions options);
  // For unit tests: run on a caller-driven executor (ManualExecutor), memory backend only.
  static Result<std::unique_ptr<Elector>> create_with_executor(ElectorOptions options,
                                                               std::shared_ptr<Executor> executor);
  // Stops (bounded by stop_timeout) and frees; events still queued are dropped. Afterwards the
  // callback is not running and is never called again (unless destroyed from inside it).
  ~Elector();

  Elector(const Elector&) = delete;
  Elector& operator=(const Elector&) = delete;

  // Callback delivery (set before start). Without a callback, events queue for poll_event().
  Status set_callback(EventCallback cb);
  // Poll delivery into a queue shared with other electors (set before start, instead of a
  // callback); its events carry `source`. Destroying the elector drops its pending events there.
  Status set_queue(std::shared_ptr<SharedEventQueue> queue, const void* source);
  Status start();
  // Releases the lease if leading (revoked(stopped)), then stops. Blocks up to stop_timeout, except
  // when called from this elector's own callback: then it starts the stop and returns at once.
  Status stop();
  // Leader steps down and releases (revoked(released)), stays a candidate, sits out one retry.
  Status resign();
  // After revoked(lost | renew_deadline | backend_error) the lease is not released at once (and an
  // assigned backend's revoke is not completed): the core
  // holds it (without leading) until the application calls ack_revoked() to say its leader-only
  // work has stopped, or at most lease_duration - renew_deadline. So a successor never starts
  // while this process still drains. A no-op at any other time.
  Status ack_revoked();

  // Poll mode: the next event, waiting up to timeout (0: don't wait). Errc::no_event when none.
  Result<Event> poll_event(std::chrono::milliseconds timeout);
  // An fd that is readable while events wait in the poll queue (eventfd). Owned by the elector.
  int event_fd();

  ElectorStatus status() const;
  MetricsSnapshot metrics() const;
  const ElectorOptions& options() const;
  Capabilities capabilities() const;

  // Runs fn once per job_key across all leaders of this election, recorded in the backend's
  // ledger under our fencing token. Blocks the caller (never call it from an event callback).
  // Returns the run's record: claimed and finished by us, or found already finished/skipped.
  struct RunOnceResult {
    bool ran = false;
    RunRecord record;
  };
  Result<RunOnceResult> run_once(
      const std::string& job_key, UnfinishedPolicy policy,
      const std::function<bool(uint64_t token, std::string& detail)>& fn);
  Result<RunRecord> read_run(const std::string& job_key);
  // The ledger's records whose key starts with prefix (empty: all), in key order, the last
  // `limit` (1 to 100000) when more match. Works for observers and candidates too.
  Result<std::vector<RunRecord>> list_runs(const std::string& prefix, size_t limit = 1000);

  // True while the calling thread runs this elector's event callback.
  bool in_own_callback() const;
  // bad_state, saying why, when the elector was inherited through fork() (inert in the child) or
  // stopped by tenure::shutdown. Every other call checks it first; status() and metrics() do not,
  // so check it before them.
  Status usable() const;

 private:
  explicit Elector(std::shared_ptr<ElectorCore> core);
  void release_core();
  std::shared_ptr<ElectorCore> core_;
  std::atomic<int> lifecycle_{0};  // 0 new, 1 started, 2 stopped: an elector runs once
  uint64_t fork_generation_;       // Runtime::fork_generation() at creation
};

}  // namespace tenure
