#include "tenure/ledger.hpp"

#include <algorithm>
#include <cctype>
#include <chrono>

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

bool may_claim(const RunRecord& found, uint64_t token, UnfinishedPolicy policy) {
  switch (found.status) {
    case RunStatus::none:
    case RunStatus::failed:
      return true;
    case RunStatus::finished:
      return false;
    case RunStatus::started:
      // Ours or a newer leader's run is in progress; an older leader's is retried by policy.
      return found.token < token && policy == UnfinishedPolicy::retry;
  }
  return false;
}

RunRecord started_run(const std::string& job_key, uint64_t token, const std::string& holder) {
  RunRecord r;
  r.job_key = job_key;
  r.status = RunStatus::started;
  r.token = token;
  r.holder = holder;
  r.started_unix_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
  return r;
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

Status validate_job_prefix(const std::string& prefix) {
  if (prefix.empty()) return {};
  auto s = validate_job_key(prefix);
  if (!s.ok()) s.message = "job prefix: " + s.message;
  return s;
}

void keep_last(std::vector<RunRecord>& records, size_t limit) {
  std::sort(records.begin(), records.end(),
            [](const RunRecord& a, const RunRecord& b) { return a.job_key < b.job_key; });
  if (records.size() > limit)
    records.erase(records.begin(), records.end() - static_cast<std::ptrdiff_t>(limit));
}

}  // namespace tenure
