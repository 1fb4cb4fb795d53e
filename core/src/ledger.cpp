#include "tenure/ledger.hpp"

#include <cctype>

namespace tenure {

const char* run_status_name(RunStatus s) noexcept {
  switch (s) {
    case RunStatus::none:
      return "none";
    case RunStatus::started:
      return "started";
    case RunStatus::finished:
      return "finished";
    case RunStatus::failed:
      return "failed";
  }
  return "unknown";
}

Status validate_job_key(const std::string& key) {
  if (key.empty() || key.size() > 200)
    return make_error(Errc::invalid_argument,
                      "the job key must be 1 to 200 characters, e.g. 'report:2026-11-26'");
  for (unsigned char c : key)
    if (!(std::isalnum(c) || c == '.' || c == '_' || c == '-' || c == ':' || c == '@' || c == '/'))
      return make_error(Errc::invalid_argument,
                        "the job key '" + key + "' contains an illegal character (code " +
                            std::to_string(c) + "); use letters, digits and . _ - : @ /");
  return {};
}

}  // namespace tenure
