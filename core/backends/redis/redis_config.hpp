// The Redis backend's settings from the URL and backend options, key names, and the mapping of
// Redis error replies to tenure errors with messages that say what to change.
#pragma once

#include <string>

#include "redis/resp_connection.hpp"
#include "tenure/backend.hpp"

namespace tenure::backends::redis {

struct RedisSettings {
  ConnConfig conn;
  std::string prefix = "tenure:";
  bool keyspace_events = true;    // try CONFIG SET notify-keyspace-events Ex
  bool share_connections = true;  // one command + one subscriber connection per URL per process
  bool restart_guard = true;      // no acquire until the server has been up for lease_duration
};

// redis://[user[:password]@]host[:port][/db][?option=value...] and rediss:// (TLS). Options come
// from the URL query and from backend.<key> options (which win); the table in docs/redis.md lists
// them. Mistakes get the codes of tenure/backend_options.hpp.
Result<RedisSettings> parse_settings(const BackendContext& ctx);

struct Keys {
  std::string lease;        // PREFIX{election}:lease    SET NX PX holder record
  std::string counter;      // PREFIX{election}:token    INCR fencing token, never expires
  std::string transitions;  // PREFIX{election}:transitions
  std::string channel;      // PREFIX{election}:events   PUBLISH on acquire and release
  std::string job_prefix;   // PREFIX{election}:run:     + job key: ledger hash
};
Keys make_keys(const std::string& prefix, const std::string& election);

// Maps an error reply (or a reply of unexpected shape) to a Status. what: "acquire", "renew", ...
Status reply_error(const Reply& r, const RedisSettings& s, const std::string& what);

}  // namespace tenure::backends::redis
