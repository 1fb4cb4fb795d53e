// Durable small files for the file backend: JSON records replaced atomically (write a temp file,
// fsync it, rename over the old one, fsync the directory), so a crash or power loss leaves either
// the old or the new record, never a torn one.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "tenure/backend.hpp"
#include "tenure/ledger.hpp"

namespace tenure::backends::file {

struct StoredLease {
  std::string holder;  // empty after a graceful release
  uint64_t token = 0;  // the last token handed out; only grows
  int64_t lease_duration_ms = 0;
  int64_t acquired_unix_ms = 0;
  uint64_t transitions = 0;
  int pid = 0;
};

// Reads path; nullopt when it does not exist. A record that exists but cannot be parsed, or has
// a field of the wrong type or out of its range, is an error naming the path: starting over
// would reset the fencing token.
Result<std::optional<StoredLease>> read_lease(const std::string& path);
Status write_lease(const std::string& path, const StoredLease& lease);
// The token after `stored`, or a refusal to lead naming path when tokens are exhausted.
Result<uint64_t> next_token(const std::string& path, uint64_t stored);

Result<std::optional<RunRecord>> read_run(const std::string& path);
// The parsers behind read_lease and read_run; path only names the record in messages.
Result<StoredLease> parse_lease(const std::string& path, const std::string& text);
Result<RunRecord> parse_run(const std::string& path, const std::string& text);
Status write_run(const std::string& path, const RunRecord& run);

// Writes data to path atomically and durably.
Status write_atomic(const std::string& path, const std::string& data);
// A file name for a job key: anything outside [A-Za-z0-9._-] is %XX-encoded.
std::string encode_file_name(const std::string& key);
// The names of DIR's run records ("*.json") that start with name_prefix; none if DIR is missing.
Result<std::vector<std::string>> list_run_files(const std::string& dir,
                                                const std::string& name_prefix);
// errno text plus a hint for the usual causes.
std::string errno_text(int err);
// Creates dir (and parents) if missing; checks that we may create files in it.
Status ensure_writable_dir(const std::string& dir);

}  // namespace tenure::backends::file
