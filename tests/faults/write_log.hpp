// The shared write log of the fault suite's candidates (one line per write of a leader's command:
// "<CLOCK_MONOTONIC ns> <identity> <token>") and the invariant checked over it.
//
// A term is one token. In time order, once a write with token T2 has happened, a write with any
// T1 < T2 is stale: a resource that checks fencing tokens refuses it, one that does not has two
// writers at once. So, checked on the log sorted by time:
//   - every token is written by one identity only (one owner per term);
//   - terms start in increasing token order (no regression);
//   - no stale write: for terms T1 < T2, every write of T1 precedes the first write of T2. The
//     overlap of such a pair is last_write(T1) - first_write(T2) when positive; with writes every
//     2 ms, overlaps shorter than that can go unseen.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

namespace tenure::faults {

struct Write {
  int64_t ns = 0;  // CLOCK_MONOTONIC
  std::string identity;
  uint64_t token = 0;
};

// The log's writes sorted by time; lines that do not parse (a torn last line) are skipped.
std::vector<Write> read_write_log(const std::string& path);

struct Term {
  uint64_t token = 0;
  int64_t first_ns = 0, last_ns = 0;
  size_t writes = 0;
  std::set<std::string> identities;
};

struct LogCheck {
  size_t writes = 0;
  std::map<uint64_t, Term> terms;       // by token
  std::vector<uint64_t> shared_tokens;  // written by more than one identity
  int regressions = 0;                  // terms that started after a term with a larger token
  std::vector<Write> stale;             // writes after a larger token had been written
  int overlaps = 0;                     // pairs of terms whose writes overlap in time
  double max_overlap_ms = 0;
  bool safe() const { return shared_tokens.empty() && regressions == 0 && stale.empty(); }
};

LogCheck check_writes(const std::vector<Write>& sorted);

}  // namespace tenure::faults
