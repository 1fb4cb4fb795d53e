#include "tenure/process_metrics.hpp"

#include <atomic>
#include <mutex>

#include "tenure/log.hpp"

namespace tenure {

namespace {
struct Counters {
  std::mutex mu;
  std::map<std::string, BackendConnections> backends;
  std::atomic<int64_t> queued{0}, lag_last{0}, lag_max{0};
  std::atomic<uint64_t> delivered{0}, threw{0};
};
Counters& counters() {
  static Counters* c = new Counters();  // never destroyed: threads may count during exit
  return *c;
}
}  // namespace

void note_connected(std::string_view backend, bool reconnect) {
  auto& c = counters();
  std::lock_guard lock(c.mu);
  auto& b = c.backends[std::string(backend)];
  ++b.open;
  ++(reconnect ? b.reconnects : b.connects);
}

void note_connection_lost(std::string_view backend, bool was_open) {
  auto& c = counters();
  std::lock_guard lock(c.mu);
  auto& b = c.backends[std::string(backend)];
  if (was_open) --b.open;
  ++b.losses;
}

void note_connection_closed(std::string_view backend) {
  auto& c = counters();
  std::lock_guard lock(c.mu);
  --c.backends[std::string(backend)].open;
}

void note_event_delivered(int64_t lag_us, bool threw) {
  auto& c = counters();
  c.lag_last.store(lag_us, std::memory_order_relaxed);
  int64_t m = c.lag_max.load(std::memory_order_relaxed);
  while (lag_us > m && !c.lag_max.compare_exchange_weak(m, lag_us)) {
  }
  c.delivered.fetch_add(1, std::memory_order_relaxed);
  if (threw) c.threw.fetch_add(1, std::memory_order_relaxed);
}

void note_events_queued(int64_t delta) {
  counters().queued.fetch_add(delta, std::memory_order_relaxed);
}

int64_t live_elector_count();  // elector.cpp

ProcessMetrics process_metrics() {
  auto& c = counters();
  ProcessMetrics m;
  m.electors = live_elector_count();
  m.events_queued = c.queued.load();
  m.event_lag_last_us = c.lag_last.load();
  m.event_lag_max_us = c.lag_max.load();
  m.events_delivered = c.delivered.load();
  m.callback_exceptions = c.threw.load();
  m.log_dropped = log_dropped();
  std::lock_guard lock(c.mu);
  m.backends = c.backends;
  return m;
}

}  // namespace tenure
