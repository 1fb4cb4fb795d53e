#include "tenure/errors.hpp"

namespace tenure {

const char* errc_name(Errc code) noexcept {
  switch (code) {
    case Errc::ok:
      return "TENURE_OK";
    case Errc::invalid_argument:
      return "TENURE_E_INVALID_ARGUMENT";
    case Errc::unknown_option:
      return "TENURE_E_UNKNOWN_OPTION";
    case Errc::bad_url:
      return "TENURE_E_BAD_URL";
    case Errc::unsupported_backend:
      return "TENURE_E_UNSUPPORTED_BACKEND";
    case Errc::invalid_timing:
      return "TENURE_E_INVALID_TIMING";
    case Errc::invalid_name:
      return "TENURE_E_INVALID_NAME";
    case Errc::identity_in_use:
      return "TENURE_E_IDENTITY_IN_USE";
    case Errc::permission_denied:
      return "TENURE_E_PERMISSION_DENIED";
    case Errc::unreachable:
      return "TENURE_E_UNREACHABLE";
    case Errc::auth_failed:
      return "TENURE_E_AUTH_FAILED";
    case Errc::backend:
      return "TENURE_E_BACKEND";
    case Errc::timeout:
      return "TENURE_E_TIMEOUT";
    case Errc::bad_state:
      return "TENURE_E_BAD_STATE";
    case Errc::in_callback:
      return "TENURE_E_IN_CALLBACK";
    case Errc::not_leader:
      return "TENURE_E_NOT_LEADER";
    case Errc::fenced:
      return "TENURE_E_FENCED";
    case Errc::lost:
      return "TENURE_E_LOST";
    case Errc::no_event:
      return "TENURE_E_NO_EVENT";
    case Errc::internal:
      return "TENURE_E_INTERNAL";
    case Errc::connection_limit:
      return "TENURE_E_CONNECTION_LIMIT";
  }
  return "TENURE_E_UNKNOWN";
}

const char* errc_text(Errc code) noexcept {
  switch (code) {
    case Errc::ok:
      return "success";
    case Errc::invalid_argument:
      return "invalid argument";
    case Errc::unknown_option:
      return "unknown option";
    case Errc::bad_url:
      return "malformed backend URL";
    case Errc::unsupported_backend:
      return "backend not supported by this build";
    case Errc::invalid_timing:
      return "invalid timing (need lease_duration > renew_deadline > retry_period > 0)";
    case Errc::invalid_name:
      return "invalid election name or identity";
    case Errc::identity_in_use:
      return "identity already in use in this election";
    case Errc::permission_denied:
      return "permission denied by the backend";
    case Errc::unreachable:
      return "backend unreachable";
    case Errc::auth_failed:
      return "authentication failed";
    case Errc::backend:
      return "backend error";
    case Errc::timeout:
      return "operation timed out";
    case Errc::bad_state:
      return "operation not valid in the elector's current state";
    case Errc::in_callback:
      return "not allowed from the elector's own callback";
    case Errc::not_leader:
      return "this elector is not the leader";
    case Errc::fenced:
      return "fenced: a newer leadership token exists";
    case Errc::lost:
      return "lease held by someone else";
    case Errc::no_event:
      return "no event available";
    case Errc::internal:
      return "internal error in tenure";
    case Errc::connection_limit:
      return "the server's connection limit is reached";
  }
  return "unknown error code";
}

}  // namespace tenure
