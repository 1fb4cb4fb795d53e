#include "tenure/metrics.hpp"

#include <nlohmann/json.hpp>

#include "tenure/events.hpp"

namespace tenure {

std::string MetricsSnapshot::to_json() const {
  nlohmann::json buckets = nlohmann::json::array();
  for (size_t i = 0; i < kRenewBucketsUs.size(); ++i) {
    nlohmann::json b;
    b["le_us"] = kRenewBucketsUs[i] == INT64_MAX ? nlohmann::json("+Inf")
                                                 : nlohmann::json(kRenewBucketsUs[i]);
    b["count"] = renew_latency_buckets[i];
    buckets.push_back(b);
  }
  nlohmann::json j = {
      {"is_leader", is_leader},
      {"token", token},
      {"acquisitions", acquisitions},
      {"step_downs",
       {{"lost", step_downs_lost},
        {"renew_deadline", step_downs_renew_deadline},
        {"backend_error", step_downs_backend_error},
        {"released", step_downs_released},
        {"stopped", step_downs_stopped}}},
      {"renewals", renewals},
      {"renew_failures", renew_failures},
      {"renew_latency", buckets},
      {"last_renew_slack_ms", last_renew_slack_ms},
      {"min_renew_slack_ms", min_renew_slack_ms},
      {"leaderless_ms", leaderless_ms},
      {"renew_latency_sum_us", renew_latency_sum_us},
      {"transitions", transitions},
      {"ms_since_backend_contact", ms_since_backend_contact},
  };
  return j.dump();
}

const char* event_type_name(EventType t) noexcept {
  switch (t) {
    case EventType::elected:
      return "elected";
    case EventType::revoked:
      return "revoked";
    case EventType::leader_changed:
      return "leader_changed";
    case EventType::error:
      return "error";
  }
  return "unknown";
}

const char* revoke_reason_name(RevokeReason r) noexcept {
  switch (r) {
    case RevokeReason::none:
      return "none";
    case RevokeReason::released:
      return "released";
    case RevokeReason::lost:
      return "lost";
    case RevokeReason::renew_deadline:
      return "renew_deadline";
    case RevokeReason::backend_error:
      return "backend_error";
    case RevokeReason::stopped:
      return "stopped";
  }
  return "unknown";
}

}  // namespace tenure
