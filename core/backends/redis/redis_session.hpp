// The state one Redis session shares with its ledger: settings, key names, the shared
// connections, and script execution whose completions land on the session's strand.
#pragma once

#include <utility>

#include <boost/asio/any_io_executor.hpp>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "redis/redis_config.hpp"
#include "redis/scripts.hpp"
#include "redis/subscriber.hpp"
#include "tenure/backend.hpp"
#include "tenure/delivery.hpp"

namespace tenure::backends::redis {

struct SessionCore : std::enable_shared_from_this<SessionCore> {
  SessionCore(const BackendContext& ctx, RedisSettings s, std::shared_ptr<SharedConnections> sh);
  void report_no_keyspace();  // once per session, as an error event

  boost::asio::any_io_executor io;  // the elector's strand: every completion runs here
  RedisSettings settings;
  Keys keys;
  std::string election;
  std::string identity;
  Timing timing;
  std::shared_ptr<SharedConnections> shared;
  Delivery delivery;  // the elector's executor; closed by close_now
  bool closed = false;

  LeaseSink* sink = nullptr;  // from start() until close
  bool reported_no_keyspace = false;
  std::shared_ptr<Subscriber> subscriber;
  uint64_t watch_id = 0;
  bool uncertain_acquire = false;  // an acquire timed out: it may have succeeded

  // EVALSHA (EVAL after NOSCRIPT). done runs on the executor, not after close.
  void eval(const Script& script, std::vector<std::string> keys, std::vector<std::string> args,
            std::function<void(Result<Reply>)> done, milliseconds min_uptime = milliseconds(0));
  void close_now();
};

// Parses a lease record value ("TOKEN TTL ACQ REN TRANSITIONS HOLDER"); false if malformed.
bool parse_lease_value(const std::string& v, LeaseRecord& out);

std::unique_ptr<Ledger> make_redis_ledger(std::shared_ptr<SessionCore> core);

}  // namespace tenure::backends::redis
