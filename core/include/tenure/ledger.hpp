// The run-once ledger: a record per job key in the election's backend, written only under the
// current fencing token, so a new leader never re-runs a job the old one finished.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "tenure/completion.hpp"
#include "tenure/errors.hpp"

namespace tenure {

enum class RunStatus : int { none = 0, started = 1, finished = 2, failed = 3 };
const char* run_status_name(RunStatus s) noexcept;

struct RunRecord {
  std::string job_key;
  RunStatus status = RunStatus::none;  // none: no run recorded
  uint64_t token = 0;                  // fencing token of the run's leader
  std::string holder;                  // identity of the run's leader
  int64_t started_unix_ms = 0;
  int64_t finished_unix_ms = 0;
  std::string detail;  // free text from finish()
};

// What to do with a run that an older leader started and never finished.
enum class UnfinishedPolicy : int { retry = 0, skip = 1 };

struct ClaimResult {
  bool claimed = false;  // true: caller must run the job then finish()
  RunRecord previous;    // the record found before the claim (status none if there was none)
  uint64_t token = 0;    // the fencing token the claim was made under (filled in by the core)
};

// Every method completes asynchronously (never inline) on the backend's executor.
// Fencing: a claim or finish whose token is not the election's current leadership token fails
// with Errc::fenced; finish also fails with fenced when a newer token has claimed the job since.
class Ledger {
 public:
  virtual ~Ledger() = default;
  // Atomic: claims when there is no record, a failed one, or (policy retry) a started one from an
  // older token. A finished record, or a started one under policy skip, is returned unclaimed.
  virtual void claim(const std::string& job_key, uint64_t token, const std::string& holder,
                     UnfinishedPolicy policy, Completion<ClaimResult> done) = 0;
  virtual void finish(const std::string& job_key, uint64_t token, bool success,
                      const std::string& detail, Completion<RunRecord> done) = 0;
  virtual void read(const std::string& job_key, Completion<RunRecord> done) = 0;
  // The records whose job key starts with `prefix` (empty: every record of the election), in
  // byte order of the key; when more match than `limit`, the last `limit` of them (for a
  // schedule's keys "<job>@<UTC time>", the newest fire times). Anyone may list, leader or not.
  virtual void list(const std::string& prefix, size_t limit,
                    Completion<std::vector<RunRecord>> done) = 0;
};

Status validate_job_key(const std::string& key);
// A prefix of job keys: empty, or up to 200 characters of the job key alphabet.
Status validate_job_prefix(const std::string& prefix);
// Sorts by key and keeps the last `limit` records: what every list() returns.
void keep_last(std::vector<RunRecord>& records, size_t limit);

// The claim rule every ledger applies atomically: may a run under `token` start, given the
// record found (status none when there is none)? Backends that decide in C++ call this; those
// that decide on the server (a Lua script, an SQL statement) implement the same rule there.
bool may_claim(const RunRecord& found, uint64_t token, UnfinishedPolicy policy);
// The record a successful claim writes.
RunRecord started_run(const std::string& job_key, uint64_t token,
                      const std::string& holder);  // 1..200 chars of [A-Za-z0-9._:@/-]

}  // namespace tenure
