// The C ABI of process metrics: JSON and the Prometheus text exposition.
#include <cstdlib>
#include <nlohmann/json.hpp>

#include "capi_errors.hpp"
#include "tenure/process_metrics.hpp"
#include "tenure/tenure.h"

using tenure::capi::fail;
using tenure::capi::guarded;
using tenure::capi::invalid;

namespace {
tenure_err give(char** out, const std::string& s, char* errbuf, size_t errlen) {
  char* p = static_cast<char*>(std::malloc(s.size() + 1));
  if (!p) return fail(tenure::make_error(tenure::Errc::internal, "out of memory"), errbuf, errlen);
  std::memcpy(p, s.c_str(), s.size() + 1);
  *out = p;
  return TENURE_OK;
}
}  // namespace

extern "C" {

tenure_err tenure_metrics_prometheus(char** out, char* errbuf, size_t errlen) {
  if (!out) return invalid("out", errbuf, errlen);
  *out = nullptr;
  return guarded(errbuf, errlen,
                 [&] { return give(out, tenure::prometheus_text(), errbuf, errlen); });
}

tenure_err tenure_metrics_json(char** out, char* errbuf, size_t errlen) {
  if (!out) return invalid("out", errbuf, errlen);
  *out = nullptr;
  return guarded(errbuf, errlen, [&] {
    tenure::ProcessMetrics m = tenure::process_metrics();
    nlohmann::json backends = nlohmann::json::object();
    for (auto& [name, c] : m.backends)
      backends[name] = {{"open", c.open},
                        {"connects", c.connects},
                        {"reconnects", c.reconnects},
                        {"losses", c.losses}};
    nlohmann::json j = {{"electors", m.electors},
                        {"events_queued", m.events_queued},
                        {"event_lag_last_us", m.event_lag_last_us},
                        {"event_lag_max_us", m.event_lag_max_us},
                        {"events_delivered", m.events_delivered},
                        {"callback_exceptions", m.callback_exceptions},
                        {"log_dropped", m.log_dropped},
                        {"backends", backends}};
    return give(out, j.dump(), errbuf, errlen);
  });
}

}  // extern "C"
