// Leadership events, delivered in order per elector, never on the I/O thread.
#pragma once

#include <cstdint>
#include <string>

#include "tenure/errors.hpp"

namespace tenure {

enum class EventType : int { elected = 1, revoked = 2, leader_changed = 3, error = 4 };

// Values are part of the C ABI.
enum class RevokeReason : int {
  none = 0,
  released = 1,        // the leader resigned (resign()) and stays a candidate
  lost = 2,            // the backend says someone else holds the lease now
  renew_deadline = 3,  // no successful renewal within renew_deadline (or the process was paused)
  backend_error = 4,   // a backend failure, not a lost race, ended this leadership (the backend
                       // reported the loss with an error code other than lost/fenced)
  stopped = 5,         // stop() or destroy while leading; the lease was released
};

const char* event_type_name(EventType t) noexcept;
const char* revoke_reason_name(RevokeReason r) noexcept;

struct Event {
  EventType type = EventType::error;
  uint64_t token = 0;  // elected: our token; leader_changed: the new leader's token
  RevokeReason reason = RevokeReason::none;  // revoked
  std::string leader;                        // leader_changed: identity, empty when no one leads
  Errc code = Errc::ok;                      // error
  std::string message;                       // error and revoked: human detail
};

}  // namespace tenure
