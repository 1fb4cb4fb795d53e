// The Prometheus text exposition (format 0.0.4) of process and per-elector metrics. Names, types
// and units are documented in docs/metrics.md.
#include <functional>
#include <sstream>

#include "tenure/elector.hpp"
#include "tenure/process_metrics.hpp"

namespace tenure {

void for_each_live_elector(const std::function<void(const ElectorOptions&, const ElectorStatus&,
                                                    const MetricsSnapshot&)>& fn);  // elector.cpp

namespace {

std::string escape(const std::string& v) {
  std::string out;
  for (char c : v) {
    if (c == '\\' || c == '"') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out;
}

std::string seconds(int64_t us) {
  std::ostringstream s;
  s << static_cast<double>(us) / 1e6;
  return s.str();
}

struct Family {
  const char* name;
  const char* type;
  const char* help;
};

class Writer {
 public:
  void family(const Family& f) {
    out_ << "# HELP " << f.name << ' ' << f.help << "\n# TYPE " << f.name << ' ' << f.type << '\n';
  }
  void sample(const std::string& name, const std::string& labels, const std::string& value) {
    out_ << name;
    if (!labels.empty()) out_ << '{' << labels << '}';
    out_ << ' ' << value << '\n';
  }
  std::string str() const { return out_.str(); }

 private:
  std::ostringstream out_;
};

struct ElectorRow {
  std::string labels;
  ElectorStatus st;
  MetricsSnapshot m;
};

}  // namespace

std::string prometheus_text() {
  Writer w;
  ProcessMetrics p = process_metrics();
  auto n = [](auto v) { return std::to_string(v); };

  w.family({"tenure_electors", "gauge", "Live electors in this process."});
  w.sample("tenure_electors", "", n(p.electors));
  w.family({"tenure_events_queued", "gauge",
            "Events waiting for a callback or a poller, all electors."});
  w.sample("tenure_events_queued", "", n(p.events_queued));
  w.family({"tenure_event_lag_seconds", "gauge",
            "Time from an event's emission to its callback starting, latest event."});
  w.sample("tenure_event_lag_seconds", "", seconds(p.event_lag_last_us));
  w.family(
      {"tenure_event_lag_max_seconds", "gauge", "Largest event lag since the process started."});
  w.sample("tenure_event_lag_max_seconds", "", seconds(p.event_lag_max_us));
  w.family({"tenure_events_delivered_total", "counter", "Event callbacks run."});
  w.sample("tenure_events_delivered_total", "", n(p.events_delivered));
  w.family({"tenure_callback_exceptions_total", "counter", "Event callbacks that threw."});
  w.sample("tenure_callback_exceptions_total", "", n(p.callback_exceptions));
  w.family({"tenure_log_records_dropped_total", "counter",
            "Log records dropped because the log queue was full."});
  w.sample("tenure_log_records_dropped_total", "", n(p.log_dropped));

  w.family({"tenure_backend_connections", "gauge", "Backend connections up now."});
  for (auto& [b, c] : p.backends)
    w.sample("tenure_backend_connections", "backend=\"" + escape(b) + "\"", n(c.open));
  w.family({"tenure_backend_connects_total", "counter", "Successful first connects."});
  for (auto& [b, c] : p.backends)
    w.sample("tenure_backend_connects_total", "backend=\"" + escape(b) + "\"", n(c.connects));
  w.family({"tenure_backend_reconnects_total", "counter",
            "Successful connects after a lost connection or a failed attempt."});
  for (auto& [b, c] : p.backends)
    w.sample("tenure_backend_reconnects_total", "backend=\"" + escape(b) + "\"", n(c.reconnects));
  w.family({"tenure_backend_connection_losses_total", "counter",
            "Connections lost and connection attempts failed."});
  for (auto& [b, c] : p.backends)
    w.sample("tenure_backend_connection_losses_total", "backend=\"" + escape(b) + "\"",
             n(c.losses));

  std::vector<ElectorRow> rows;
  for_each_live_elector([&](const ElectorOptions& o, const ElectorStatus& st,
                            const MetricsSnapshot& m) {
    rows.push_back(
        {"election=\"" + escape(o.election) + "\",identity=\"" + escape(o.identity) + "\"", st, m});
  });
  auto each = [&](const Family& f, const std::function<std::string(const ElectorRow&)>& value) {
    w.family(f);
    for (auto& r : rows) w.sample(f.name, r.labels, value(r));
  };
  each({"tenure_elector_leader", "gauge", "1 while this elector leads, else 0."},
       [&](auto& r) { return n(r.m.is_leader ? 1 : 0); });
  each({"tenure_elector_token", "gauge", "Fencing token while leading, else 0."},
       [&](auto& r) { return n(r.m.token); });
  each({"tenure_elector_acquisitions_total", "counter", "Times this elector became leader."},
       [&](auto& r) { return n(r.m.acquisitions); });
  w.family({"tenure_elector_step_downs_total", "counter",
            "Times this elector stopped leading, by reason."});
  for (auto& r : rows) {
    const std::pair<const char*, uint64_t> reasons[] = {
        {"lost", r.m.step_downs_lost},
        {"renew_deadline", r.m.step_downs_renew_deadline},
        {"backend_error", r.m.step_downs_backend_error},
        {"released", r.m.step_downs_released},
        {"stopped", r.m.step_downs_stopped}};
    for (auto& [reason, v] : reasons)
      w.sample("tenure_elector_step_downs_total", r.labels + ",reason=\"" + reason + "\"", n(v));
  }
  each({"tenure_elector_transitions", "gauge",
        "Leadership changes of the election, from the lease record."},
       [&](auto& r) { return n(r.m.transitions); });
  each({"tenure_elector_renewals_total", "counter", "Successful lease renewals."},
       [&](auto& r) { return n(r.m.renewals); });
  each({"tenure_elector_renew_failures_total", "counter", "Failed lease renewals."},
       [&](auto& r) { return n(r.m.renew_failures); });
  w.family(
      {"tenure_elector_renew_latency_seconds", "histogram", "Round trip of successful renewals."});
  for (auto& r : rows) {
    uint64_t cumulative = 0;
    for (size_t i = 0; i < kRenewBucketsUs.size(); ++i) {
      cumulative += r.m.renew_latency_buckets[i];
      std::string le = kRenewBucketsUs[i] == INT64_MAX ? "+Inf" : seconds(kRenewBucketsUs[i]);
      w.sample("tenure_elector_renew_latency_seconds_bucket", r.labels + ",le=\"" + le + "\"",
               n(cumulative));
    }
    w.sample("tenure_elector_renew_latency_seconds_sum", r.labels,
             seconds(r.m.renew_latency_sum_us));
    w.sample("tenure_elector_renew_latency_seconds_count", r.labels, n(cumulative));
  }
  each({"tenure_elector_renew_slack_seconds", "gauge",
        "renew_deadline minus the time since the previous renewal, at the latest renewal; -0.001 "
        "before any."},
       [&](auto& r) { return seconds(r.m.last_renew_slack_ms * 1000); });
  each({"tenure_elector_renew_slack_min_seconds", "gauge", "Smallest renew slack seen."},
       [&](auto& r) { return seconds(r.m.min_renew_slack_ms * 1000); });
  each({"tenure_elector_leaderless_seconds_total", "counter",
        "Time this elector saw no leader while running."},
       [&](auto& r) { return seconds(r.m.leaderless_ms * 1000); });
  each({"tenure_elector_backend_contact_age_seconds", "gauge",
        "Time since the backend last answered this elector; -1 before it ever did."},
       [&](auto& r) {
         return r.m.ms_since_backend_contact < 0 ? std::string("-1")
                                                 : seconds(r.m.ms_since_backend_contact * 1000);
       });
  return w.str();
}

}  // namespace tenure
