// Elector options: the election, who we are, the backend URL, timing. Validated by validate().
#pragma once

#include <chrono>
#include <map>
#include <string>

#include "tenure/errors.hpp"

namespace tenure {

using std::chrono::milliseconds;

// The three durations of client-go's leader election, with the same meaning and defaults.
//  lease_duration: how long a lease stays valid after its last renewal (server or observer side).
//  renew_deadline: a leader that has not renewed for this long steps down on its own; the gap
//                  lease_duration - renew_deadline is the safety margin that absorbs pauses.
//  retry_period:   how often a leader renews and a candidate retries when no push arrives.
// Rule: lease_duration > renew_deadline > retry_period > 0.
struct Timing {
  milliseconds lease_duration{15000};
  milliseconds renew_deadline{10000};
  milliseconds retry_period{2000};
};

Status validate_timing(const Timing& t);

struct ElectorOptions {
  std::string backend_url;  // file:///dir, memory://ns, redis://..., postgres://...
  std::string election;     // [A-Za-z0-9._-], 1..128 chars, not starting with '.'
  std::string identity;     // printable, no spaces, 1..253 chars; default host-pid-random
  Timing timing;
  bool observe_only = false;        // watch the election, never run for it
  milliseconds stop_timeout{5000};  // upper bound on stop()/destroy waiting for a release
  std::map<std::string, std::string> backend_options;  // passed to the backend as is
};

Status validate_election_name(const std::string& name);
Status validate_identity(const std::string& identity);
std::string default_identity();  // hostname-pid-random, unique per call

// Sets one option from its string form, as the C ABI and the bindings do.
// Keys: backend, election, identity, lease_duration_ms, renew_deadline_ms, retry_period_ms,
// observe_only, stop_timeout_ms, and backend.<key> for backend-specific options.
Status set_option(ElectorOptions& opts, const std::string& key, const std::string& value);

}  // namespace tenure
