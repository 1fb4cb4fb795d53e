// The elector state machine. Everything below "strand state" runs only on the executor; the
// public snapshot (status, metrics) is copied under mu_ for other threads to read.
#pragma once

#include <future>
#include <mutex>
#include <random>

#include "event_queue.hpp"
#include "runtime.hpp"
#include "tenure/elector.hpp"
#include "tenure/log.hpp"

namespace tenure {

class ElectorCore : public std::enable_shared_from_this<ElectorCore> {
 public:
  ElectorCore(ElectorOptions opts, std::shared_ptr<Runtime> rt, std::shared_ptr<Executor> exec);

  Status init(boost::asio::any_io_executor io);  // creates the backend session
  Status start();
  // Starts a stop; the future is ready when the backend session is closed.
  std::shared_future<void> begin_stop();
  void resign();
  void ack_revoked();

  ElectorStatus status() const;
  MetricsSnapshot metrics() const;

  const ElectorOptions opts;
  std::shared_ptr<Runtime> runtime;  // null when driven by a ManualExecutor
  std::shared_ptr<Executor> exec;
  std::shared_ptr<EventQueue> events = std::make_shared<EventQueue>();
  std::unique_ptr<LeaseSink> sink;  // handed to the backend; outlives it
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
  // --- strand state machine ---
  void on_start();
  void on_push();
  void try_acquire();
  void on_acquired(uint64_t epoch, Clock::time_point t0, Result<AcquireOutcome> r);
  void become_leader(Clock::time_point t0, const LeaseRecord& rec);
  friend class CoreSink;
  void on_lost(const Status& why);  // LeaseSink::lost
  void on_renew_tick();
  void on_renewed(uint64_t epoch, Clock::time_point t0, Result<LeaseRecord> r);
  void on_deadline();
  // Each steps down and returns true when the leader must not go on: paused() when the renew
  // timer fired later than the safety margin, overdue() when renew_deadline passed.
  bool paused();
  bool overdue();
  void step_down(RevokeReason reason, const std::string& why);
  void release_then_retry(uint64_t token);
  void release_held_now();
  void schedule_tick(Clock::duration d, void (ElectorCore::*fn)());
  void arm_deadline();
  void do_read();
  void on_read(uint64_t epoch, Result<LeaseRecord> r);
  void observe(const LeaseRecord& rec);
  void report_error(const Status& s);
  void on_stop();
  void finish_stop();
  void arm_stop_timer();
  void release_then_finish_stop(uint64_t token);
  Clock::duration retry_delay();
  Clock::duration follower_delay();
  void emit(Event e);
  void log(LogLevel level, std::string message) const;
  void publish_status();
  void note_contact();

  Role role_ = Role::stopped;
  bool started_ = false, stopping_ = false, stopped_ = false;
  bool op_in_flight_ = false, pending_push_ = false;
  bool stop_after_op_ = false;
  // After an involuntary step-down the lease is held (not released, not re-acquired) until the
  // application acknowledges the revoked event or the safety margin passes.
  bool release_held_ = false;
  uint64_t held_token_ = 0;
  std::shared_ptr<Timer> hold_timer_;  // stopping: the request in flight finishes the stop
  uint64_t epoch_ = 0;                 // bumped on every role change; stale completions are ignored
  uint64_t token_ = 0;
  Clock::time_point last_renew_ok_{}, tick_due_{}, sit_out_until_{};
  std::shared_ptr<Timer> tick_, deadline_, stop_timer_;
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
