// Process-wide metrics: event delivery (lag, queue depth) and backend connections, plus the
// Prometheus text exposition of these and of every live elector. The schema (names, types,
// units) is documented in docs/metrics.md; change both together.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

namespace tenure {

struct BackendConnections {
  int64_t open = 0;         // connections up now
  uint64_t connects = 0;    // successful first connects
  uint64_t reconnects = 0;  // successful connects after a loss or failure
  uint64_t losses = 0;      // connections lost or attempts failed
};

struct ProcessMetrics {
  int64_t electors = 0;              // live electors on the shared runtime
  int64_t events_queued = 0;         // events waiting for a callback or a poller, all electors
  int64_t event_lag_last_us = 0;     // emission to callback start, the latest event
  int64_t event_lag_max_us = 0;      // the largest since the process started
  uint64_t events_delivered = 0;     // callbacks run
  uint64_t callback_exceptions = 0;  // callbacks that threw
  uint64_t log_dropped = 0;
  std::map<std::string, BackendConnections> backends;  // by facility: redis, postgres
};

ProcessMetrics process_metrics();

// Called by the core and the backends.
void note_connected(std::string_view backend, bool reconnect);
void note_connection_lost(std::string_view backend, bool was_open);
void note_connection_closed(std::string_view backend);  // an orderly close, not a loss
void note_event_delivered(int64_t lag_us, bool threw);
void note_events_queued(int64_t delta);

// Prometheus text exposition format 0.0.4: process metrics and every live elector's.
std::string prometheus_text();

}  // namespace tenure
