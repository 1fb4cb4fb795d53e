// One fault trial: three real `tenure run` candidates on one backend, each reaching the server
// through its own FaultProxy, whose commands append to one write log (tenure_fault_writer); one
// fault is injected on the leader (or the server), and the log is checked afterwards.
// Used by the ctest short form (fault_test.cpp) and the benchmark (bench/fault_bench.cpp).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "write_log.hpp"

namespace tenure::faults {

enum class Backend { file, redis, pg_lease, pg_session, etcd };
enum class Fault {
  hold_replies,    // the leader's proxy stops forwarding server -> client
  hold_requests,   // ... client -> server
  black_hole,      // ... both directions
  delay_replies,   // ... delays server -> client by delay_ms
  reset,           // the leader's proxy resets all its connections (RST both sides)
  server_restart,  // the server restarts (Redis: without persistence, its data is lost)
  session_kill,    // pg_terminate_backend / CLIENT KILL of the leader's connections
  freeze,          // SIGSTOP of the leader's tenure and its command, SIGCONT after fault_ms
  kill9,           // SIGKILL of the leader's tenure process
};

const std::vector<Backend>& all_backends();
const std::vector<Fault>& all_faults();
std::string name(Backend b);  // file, redis, pg-lease, pg-session, etcd
std::string name(Fault f);    // hold-replies, ...
std::optional<Backend> parse_backend(const std::string& s);
std::optional<Fault> parse_fault(const std::string& s);
// The file backend has no network: only freeze and kill9 apply to it. etcd has no session to
// kill (its lease is the session): session_kill does not apply to it.
bool applies(Backend b, Fault f);
// The backend's request timeout at cfg's timing (its documented default), 0 for the file backend.
struct TrialConfig;
int request_timeout_ms(const TrialConfig& cfg);
// Faults after which the leader cannot keep office: a new term must start within the bound.
bool must_fail_over(Fault f);

struct TrialConfig {
  Backend backend = Backend::file;
  Fault fault = Fault::kill9;
  int lease_ms = 1500, renew_ms = 1000, retry_ms = 200;
  int fault_ms = 4500;   // how long a hold, black hole, delay or freeze lasts
  int delay_ms = 250;    // delay_replies: below the request timeout (renew_deadline / 3 here)
  int settle_ms = 1500;  // observed after a lasting fault heals
  int instant_settle_ms = 4000;  // observed after reset, restart, session kill, kill -9
  int write_period_us = 2000;
  int stale_after_thaw_limit_ms = 1000;  // freeze: stale writes end this soon after SIGCONT
  std::string cli, writer;               // paths of the tenure CLI and tenure_fault_writer
  bool keep_dir = false;  // keep the trial directory (logs) even when the trial passed
  bool verbose = false;
  // The failover bound: a new term's first write at most this long after the fault began.
  int failover_bound_ms() const { return lease_ms + 2000; }
};

struct TrialResult {
  std::string skipped;  // non-empty: the backend's server is not configured (the reason)
  std::string error;    // non-empty: the trial could not run as planned (no leader, ...)
  std::string dir;      // logs: write log, one stderr log per candidate
  LogCheck check;
  std::string old_leader, new_leader;
  uint64_t old_token = 0, new_token = 0;
  double failover_ms = -1;              // fault to the first write of a newer term; -1: none
  double max_gap_ms = 0;                // longest time without writes from the fault to the end
  double stale_after_thaw_ms = -1;      // freeze: last stale write after SIGCONT; -1: none
  bool resumed = false;                 // a write in the last second before the end
  int sessions_killed = 0;              // session_kill: connections the server ended
  std::vector<std::string> violations;  // what broke the invariant or the bounds
  bool unsafe = false;  // a violation of the invariant (two leaders, a token going back)
  bool passed() const { return skipped.empty() && error.empty() && violations.empty(); }
};

// etcd leases are whole seconds, at least 2 (etcd's minimum TTL at its default election
// timeout): a shorter lease_ms becomes 2000 ms with renew_deadline 1500 ms (retry_ms kept).
void fit_timing_to_backend(TrialConfig& cfg);

// Why the backend cannot run here (its server's TENURE_TEST_* variables are missing), or nullopt.
std::optional<std::string> unavailable(Backend b);

TrialResult run_trial(const TrialConfig& cfg);

}  // namespace tenure::faults
