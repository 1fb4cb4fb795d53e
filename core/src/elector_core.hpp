// The elector state machine. Everything below "strand state" runs only on the executor; the
// public snapshot (status, metrics) is copied under mu_ for other threads to read.
//
// Files: elector_core.cpp holds the phases, every transition (transition()) and the main step
// (step()); elector_events.cpp what happens on each event (timers, the application's calls, the
// backend's sink); elector_requests.cpp the requests to the backend and their completions;
// elector_snapshot.cpp status, metrics, events and logs; elector_ledger.cpp run_once's ledger.
#pragma once

#include <future>
#include <mutex>
#include <optional>
#include <random>
#include <vector>

#include "event_queue.hpp"
#include "runtime.hpp"
#include "tenure/elector.hpp"
#include "tenure/log.hpp"

namespace tenure {

class ElectorCore : public std::enable_shared_from_this<ElectorCore> {
 public:
  ElectorCore(ElectorOptions opts, std::shared_ptr<Runtime> rt, std::shared_ptr<Executor> exec);

  Status init(boost::asio::any_io_executor io);  // creates the backend
  Status start();
  // Starts a stop; the future is ready when the backend is closed.
  std::shared_future<void> begin_stop();
  void resign();
  void ack_revoked();

  ElectorStatus status() const;
  MetricsSnapshot metrics() const;

  const ElectorOptions opts;
  std::shared_ptr<Runtime> runtime;  // null when driven by a ManualExecutor
  std::shared_ptr<Executor> exec;
  std::shared_ptr<EventQueue> events = std::make_shared<EventQueue>();
  std::unique_ptr<LeaseSink> sink;  // handed to the backend; declared first, so it outlives it
  std::unique_ptr<LeaseBackend> backend;
  Capabilities caps;
  std::string registry_key;            // (backend, election, identity): one live elector per key
  std::atomic<bool> shut_down{false};  // stopped by tenure::shutdown: no runtime to wait for

  // Ledger calls for run_once, executed on the strand; done gets the result.
  void ledger_claim(const std::string& key, UnfinishedPolicy policy, Completion<ClaimResult> done);
  void ledger_finish(const std::string& key, uint64_t token, bool ok, const std::string& detail,
                     Completion<RunRecord> done);
  void ledger_read(const std::string& key, Completion<RunRecord> done);
  void ledger_list(const std::string& prefix, size_t limit,
                   Completion<std::vector<RunRecord>> done);

 private:
  friend class CoreSink;

  // idle: not started. candidate: campaigning (or observing). leader: we lead. holding: stepped
  // down involuntarily; the lease (or the server's revoke) is held until the application acks or
  // the safety margin passes. stopping: giving back what we hold. stopped: the backend is closed.
  enum class Phase { idle, candidate, leader, holding, stopping, stopped };
  enum class Op { acquire, renew, release, read };
  struct Request {
    Op op;
    uint64_t id;  // completions of any other id are stale
  };

  // --- the state machine (elector_core.cpp) ---
  void step();
  void transition(Phase to, RevokeReason why = RevokeReason::none, const std::string& detail = {},
                  const LeaseRecord* won = nullptr, Clock::time_point t0 = {});
  void enter_campaign();
  void enter_leader(Clock::time_point t0, const LeaseRecord& rec);
  void leave_leader(Phase to, RevokeReason why, const std::string& detail);
  void enter_stopping(Phase from);
  void enter_stopped();
  void end_hold();
  // Each ends leadership (holding) and returns true when the leader must not go on.
  bool paused(Clock::duration late);  // the step's timer fired later than the safety margin
  bool overdue();                     // no renewal within renew_deadline

  // --- events (elector_events.cpp) ---
  void on_start();
  void on_stop();
  void on_resign();
  void on_ack();
  void on_wake();  // the step timer
  void on_deadline();
  void on_changed();
  void on_granted(const LeaseRecord& rec);
  void on_revoked(RevokeReason why, const Status& detail, std::function<void()> ack);
  void on_lost(const Status& why);
  void on_renewed(const LeaseRecord& rec);

  // --- requests (elector_requests.cpp) ---
  uint64_t send(Op op);          // marks the request in flight, returns its id
  bool is_current(uint64_t id);  // clears in_flight_ when id is the current request's
  void send_acquire();
  void on_acquired(uint64_t id, Clock::time_point t0, Result<AcquireOutcome> r);
  void send_renew();
  void on_renew_done(uint64_t id, Clock::time_point t0, Result<LeaseRecord> r);
  void send_release(uint64_t token);
  void on_released(uint64_t id);
  void send_read();
  void on_read(uint64_t id, Result<LeaseRecord> r);
  void record_renewal(Clock::time_point t0, const LeaseRecord& rec);
  void wake_at(Clock::time_point due);
  void arm_deadline();
  Clock::duration retry_delay();
  Clock::duration follower_delay();

  // --- snapshot, events, logs (elector_snapshot.cpp) ---
  void observe(const LeaseRecord& rec);
  void report_error(const Status& s);
  void emit(Event e);
  void log(LogLevel level, std::string message) const;
  void publish_status();
  void note_contact();
  void count_step_down(RevokeReason why);
  void note_leaderless_end();

  // --- strand state ---
  Phase phase_ = Phase::idle;
  std::optional<Request> in_flight_;  // one request at a time, except a superseded one
  uint64_t next_request_id_ = 0;
  bool pushed_ = false;           // the backend said the lease may have changed: look again soon
  bool joined_ = false;           // assigned: join() was called
  Clock::time_point next_try_{};  // candidate: when to acquire (or read) next
  Clock::time_point sit_out_until_{};  // after resign: no acquisition before this
  Clock::time_point renew_due_{};      // leader: when to renew next
  Clock::time_point wake_due_{};       // when the step timer is armed for
  Clock::duration fired_late_{};       // how late the step timer fired (this step only)
  uint64_t token_ = 0;                 // leader: ours
  uint64_t release_token_ = 0;         // a lease to give back before anything else (0: none)
  uint64_t held_token_ = 0;            // holding: the lease we keep until ack or margin
  std::vector<std::function<void()>> held_acks_;  // holding, assigned: the server's revokes
  std::optional<LeaseRecord> pending_grant_;      // a grant that came while holding
  Clock::time_point last_renew_ok_{};
  std::shared_ptr<Timer> wake_, deadline_, hold_timer_, stop_timer_;
  bool known_ = false;
  std::string known_leader_;
  uint64_t known_token_ = 0;
  LeaseRecord last_record_;
  std::string last_error_;
  std::string backend_where_;  // the backend URL without secrets, for log records
  std::mt19937_64 rng_{std::random_device{}()};
  std::promise<void> stopped_promise_;
  std::shared_future<void> stopped_future_ = stopped_promise_.get_future().share();

  // --- snapshot for other threads ---
  mutable std::mutex mu_;
  ElectorStatus st_;
  MetricsSnapshot m_;
  bool leaderless_ = false;
  Clock::time_point leaderless_since_{};
  Clock::time_point snap_last_renew_{};
  Clock::time_point snap_last_contact_{};  // the last request the backend answered
};

}  // namespace tenure
