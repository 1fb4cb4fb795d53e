// Defaults of the backend interface and the core's one request-timeout rule.
#include <algorithm>

#include "tenure/backend.hpp"

namespace tenure {

void LeaseBackend::renew(uint64_t, Completion<LeaseRecord> done) {
  done(make_error(Errc::internal,
                  "renew() called on a backend that renews itself or is assigned: a bug in "
                  "tenure's core"));
}

void LeaseBackend::join() {}
void LeaseBackend::leave() {}

milliseconds request_timeout_for(const Timing& t) {
  auto v = std::max((t.renew_deadline - t.retry_period) / 2, t.renew_deadline / 4);
  return v.count() > 0 ? v : milliseconds(1);
}

}  // namespace tenure
