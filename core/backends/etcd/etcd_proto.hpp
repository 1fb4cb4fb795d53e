// The etcd v3 JSON gateway as plain functions: request bodies, response parsing, error mapping,
// base64 keys and the key layout of an election. No I/O, so every piece is unit-tested alone.
//
// Gateway facts this relies on (checked against etcd 3.6.16): every call is a POST under /v3/;
// keys and values are base64; int64 fields arrive as strings; fields with default values are
// omitted (a PUT watch event has no "type", a lease that is gone answers without "TTL"); unary
// errors are {"code":N,"message":...} with N a gRPC code; stream messages are {"result":{...}}
// or {"error":{...}}.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "tenure/errors.hpp"

namespace tenure::backends::etcd {

using nlohmann::json;

std::string base64_encode(std::string_view bytes);
// false on a character outside the alphabet or a bad length (padding optional).
bool base64_decode(std::string_view text, std::string& out);

// The range_end that covers every key starting with `prefix` (etcd's clientv3.GetPrefixRangeEnd).
std::string prefix_end(const std::string& prefix);
// A lease ID as concurrency.Election writes it into the key: Go's "%x" of the int64.
std::string lease_hex(int64_t id);

// Where one election lives. concurrency.NewElection(session, "<root>/<election>") uses the same
// candidate keys, so Go electors and tenure candidates share the election.
struct Layout {
  std::string
      election_prefix;      // "<root>/<election>/": one key per candidate, "<prefix><lease hex>"
  std::string runs_prefix;  // "<root>/.tenure-runs/<election>/": the run-once ledger
  std::string candidate_key(int64_t lease) const { return election_prefix + lease_hex(lease); }
};
// root: the URL's path without trailing '/' ("" for etcd://h:p/), "/tenure" when the URL has none.
Layout make_layout(const std::string& url_path, const std::string& election);

struct KeyValue {
  std::string key;
  std::string value;
  int64_t create_revision = 0;
  int64_t mod_revision = 0;
  int64_t version = 0;
  int64_t lease = 0;
};

// An int64 field: absent or null is 0; a string of digits or a JSON number. Errc::backend else.
Result<int64_t> get_int64(const json& obj, const char* field);
Result<KeyValue> parse_kv(const json& kv);
Result<std::vector<KeyValue>> parse_kvs(const json& resp);  // the "kvs" array, possibly absent
int64_t header_revision(const json& resp);                  // 0 when missing

// ---- request bodies -------------------------------------------------------------------------
json grant_body(int64_t ttl_s);
json lease_id_body(int64_t id);  // revoke and keep-alive

struct RangeOptions {
  std::string range_end;  // empty: the key alone
  int64_t limit = 0;
  enum class Sort { none, create_ascend, create_descend, key_ascend } sort = Sort::none;
  int64_t max_create_revision = 0;  // 0: no bound
  bool count_only = false;
};
json range_body(const std::string& key, const RangeOptions& o = {});

struct Compare {
  enum class Target { create, mod, value } target = Target::create;
  enum class Result { equal, greater, less, not_equal } result = Result::equal;
  std::string key;
  int64_t revision = 0;  // create / mod
  std::string value;     // value
};
Compare create_revision_is(const std::string& key, int64_t rev);
Compare mod_revision_is(const std::string& key, int64_t rev);

struct Op {
  enum class Kind { put, del, range } kind = Kind::range;
  std::string key;
  std::string value;  // put
  int64_t lease = 0;  // put
};
Op put_op(const std::string& key, const std::string& value, int64_t lease = 0);
Op delete_op(const std::string& key);
Op range_op(const std::string& key);
json txn_body(const std::vector<Compare>& when, const std::vector<Op>& then,
              const std::vector<Op>& otherwise);

// Opens a watch on a key (range_end empty) or a range from start_revision (0: from now).
json watch_create_body(const std::string& key, const std::string& range_end,
                       int64_t start_revision);

// ---- responses ------------------------------------------------------------------------------
struct TxnResult {
  bool succeeded = false;
  int64_t revision = 0;
  // The kvs of each range op's response, in op order (empty vectors for puts and deletes).
  std::vector<std::vector<KeyValue>> ranges;
};
Result<TxnResult> parse_txn(const json& resp);

struct WatchEvent {
  bool is_delete = false;
  KeyValue kv;
};
struct WatchMessage {
  bool created = false;
  bool canceled = false;
  int64_t watch_id = 0;
  int64_t revision = 0;          // the header's
  int64_t compact_revision = 0;  // canceled because the start revision was compacted
  std::string cancel_reason;
  std::vector<WatchEvent> events;
};
// One value of the /v3/watch stream: {"result":{...}} (or an {"error":...}, returned as an error).
Result<WatchMessage> parse_watch_message(const json& value);

// A keep-alive answer ({"result":{"ID":..,"TTL":..}} or the bare object): the TTL in seconds,
// 0 when the lease is gone.
Result<int64_t> parse_keepalive_ttl(const json& value);

// ---- errors ---------------------------------------------------------------------------------
// A gateway error body ({"code":N,"message":...} or a stream's {"error":{...}}); nullopt when the
// body carries no error. gRPC codes map to Errc: 16 and etcd's "authentication failed" /
// "user name is empty" to auth_failed, 7 permission_denied, 5 (lease not found) lost,
// 14 unreachable, 4 timeout, others backend. `what` names the call ("lease grant").
std::optional<Status> error_from_body(const json& body, const std::string& endpoint,
                                      const std::string& what);
// True for an expired or unknown auth token (the client should authenticate again).
bool is_invalid_token(const json& body);

// ---- election order -------------------------------------------------------------------------
// Of the candidate keys under an election prefix: the leader (lowest create revision) and the
// key a waiter watches (the newest key created before `mine`). nullptr when there is none.
const KeyValue* lowest_create(const std::vector<KeyValue>& kvs);
const KeyValue* newest_before(const std::vector<KeyValue>& kvs, int64_t mine);

}  // namespace tenure::backends::etcd
