// Error codes and the small Result type every core API returns. No exception leaves the core's
// public entry points: errors travel as values so the C ABI can pass them through unchanged.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <utility>

namespace tenure {

// Values are part of the C ABI (tenure.h mirrors them): append only, never renumber.
enum class Errc : int {
  ok = 0,
  invalid_argument = 1,     // a null or malformed argument
  unknown_option = 2,       // an option key the library does not know
  bad_url = 3,              // the backend URL cannot be parsed
  unsupported_backend = 4,  // the URL scheme names a backend not built in
  invalid_timing = 5,       // lease_duration > renew_deadline > retry_period violated
  invalid_name = 6,         // election name or identity empty or illegal
  identity_in_use = 7,      // another elector already runs with this identity in this election
  permission_denied = 8,    // the backend refused an operation for lack of a grant
  unreachable = 9,          // the backend cannot be reached
  auth_failed = 10,         // wrong credentials
  backend = 11,             // the backend answered with an error
  timeout = 12,             // an operation did not finish in time
  bad_state = 13,           // the call does not fit the elector's state (start twice, ...)
  in_callback = 14,         // refused because it was called from the elector's own callback
  not_leader = 15,          // a leader-only operation on an elector that does not lead
  fenced = 16,              // a newer fencing token exists; this token's writes are refused
  lost = 17,                // the lease is held by someone else (renew/release refused)
  no_event = 18,            // poll found no event within the timeout
  internal = 19,            // a bug in tenure: please report it
  connection_limit = 20,    // the server refuses new connections: its connection limit is reached
};

const char* errc_name(Errc code) noexcept;  // "TENURE_E_BAD_URL", ...
const char* errc_text(Errc code) noexcept;  // one-line human description

// What the server said beyond the code, for code that must act on it (never parse message).
struct ErrorDetail {
  std::string sqlstate;  // PostgreSQL SQLSTATE (PG_DIAG_SQLSTATE), e.g. "42P01"; "" when none
  int http_status = 0;   // HTTP status of the failed request; 0: none
  // The server said when to try again (HTTP Retry-After, a Redis restart grace).
  std::optional<std::chrono::milliseconds> retry_after;
};

// A code plus a message written for the person who must fix it.
struct Status {
  Errc code = Errc::ok;
  std::string message;
  ErrorDetail detail;

  bool ok() const noexcept { return code == Errc::ok; }
  static Status success() { return {}; }
};

inline Status make_error(Errc code, std::string message) {
  return Status{code, std::move(message), {}};
}
inline Status make_error(Errc code, std::string message, ErrorDetail detail) {
  return Status{code, std::move(message), std::move(detail)};
}

// Either a value or a failed Status (the value is then default-constructed and meaningless).
template <class T>
struct Result {
  Status status;
  T value{};

  Result() = default;
  Result(T v) : value(std::move(v)) {}        // NOLINT: implicit by design
  Result(Status s) : status(std::move(s)) {}  // NOLINT: implicit by design
  bool ok() const noexcept { return status.ok(); }
};

}  // namespace tenure
