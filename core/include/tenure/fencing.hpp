// The fencing token's range, the same on every backend: 1 .. 2^63-1. Redis INCR and a
// PostgreSQL bigint sequence stop there, and the C ABI, the CLI's JSON and most languages'
// signed 64-bit integers carry it exactly. A backend whose next token would pass the limit
// refuses to lead (token_exhausted) instead of wrapping to 0 or going backwards.
#pragma once

#include <cstdint>
#include <limits>
#include <string>

#include "tenure/errors.hpp"

namespace tenure {

inline constexpr uint64_t kMaxFencingToken =
    static_cast<uint64_t>(std::numeric_limits<int64_t>::max());

// The refusal a backend returns when `record` already holds token `last` and cannot hand out a
// greater one.
inline Status token_exhausted(const std::string& record, uint64_t last) {
  return make_error(Errc::backend,
                    "refusing to lead: the fencing token in " + record + " is " +
                        std::to_string(last) + ", and tokens only grow up to " +
                        std::to_string(kMaxFencingToken) +
                        "; a new leadership would wrap it. Every resource guarded by this "
                        "election's tokens must first be reset to accept smaller tokens; then "
                        "reset the record (see the backend's notes in the README)");
}

}  // namespace tenure
