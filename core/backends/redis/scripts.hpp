// The Lua scripts: every lease and ledger change is one atomic script on the server.
#pragma once

#include <string>

namespace tenure::backends::redis {

struct Script {
  const char* name;
  std::string body;
  std::string sha1;  // hex, for EVALSHA
};

// Lease record (the value of the lease key): "TOKEN TTL_MS ACQUIRED_MS RENEWED_MS TRANSITIONS
// HOLDER" (server wall clock in ms from TIME; the holder is last because it may contain anything
// but spaces). Replies of the lease scripts: {ok (1/0), record or "", pttl (ms, -2 none), counter}.

// KEYS lease, counter, transitions; ARGV holder, ttl_ms, channel, adopt ("1": a lease already
// held by this holder is ours, after a lost reply). The counter is seeded from the server clock in
// microseconds when it is missing, so a Redis that lost its data never hands out a smaller token.
const Script& acquire_script();
// KEYS lease; ARGV holder, token, ttl_ms
const Script& renew_script();
// KEYS lease; ARGV holder, token, channel
const Script& release_script();
// KEYS lease, counter
const Script& read_script();
// Ledger: writes only while the lease is live and held by (holder, token).
// KEYS job, lease; ARGV token, holder, policy ("retry"/"skip").
// Reply {code, current-token-or-"", {previous record fields...}}: code 1 claimed, 0 not, -1 fenced.
const Script& claim_script();
// KEYS job, lease; ARGV token, success ("1"/"0"), detail, holder.
// Reply {code, info, {record fields}}: 1 done, -1 fenced (info: the token that rules), -2 no claim.
const Script& finish_script();

}  // namespace tenure::backends::redis
