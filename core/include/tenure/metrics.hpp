// Per-elector metrics snapshot, cheap to take, consistent within itself.
#pragma once

#include <array>
#include <cstdint>
#include <string>

namespace tenure {

// Renew latency histogram: bucket i counts latencies <= kRenewBucketsUs[i]; the last is +Inf.
inline constexpr std::array<int64_t, 12> kRenewBucketsUs = {
    100, 250, 500, 1000, 2500, 5000, 10000, 25000, 100000, 500000, 2000000, INT64_MAX};

struct MetricsSnapshot {
  bool is_leader = false;
  uint64_t token = 0;
  uint64_t acquisitions = 0;
  uint64_t step_downs_lost = 0;
  uint64_t step_downs_renew_deadline = 0;
  uint64_t step_downs_backend_error = 0;
  uint64_t step_downs_released = 0;
  uint64_t step_downs_stopped = 0;
  uint64_t renewals = 0;
  uint64_t renew_failures = 0;
  std::array<uint64_t, kRenewBucketsUs.size()> renew_latency_buckets{};  // not cumulative
  int64_t renew_latency_sum_us = 0;
  int64_t last_renew_slack_ms = -1;  // renew_deadline minus time since the previous renewal
  int64_t min_renew_slack_ms = -1;
  int64_t leaderless_ms = 0;  // total time this elector saw no leader (started, not stopped)
  uint64_t transitions = 0;   // leadership changes of the election, from the lease record
  int64_t ms_since_backend_contact = -1;  // since the backend last answered; -1 never

  std::string to_json() const;
};

}  // namespace tenure
