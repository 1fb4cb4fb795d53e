// One shared connection per (runtime, connection parameters, tables): every lease-mode elector of
// the process with the same URL queries through it, and it LISTENs for the whole group, so a
// thousand electors cost one server connection. The schema is ensured once per hub.
#pragma once

#include <atomic>
#include <boost/asio/any_io_executor.hpp>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "postgres/pg_config.hpp"
#include "postgres/pg_connection.hpp"
#include "postgres/pg_listener.hpp"

namespace tenure::backends::pg {

// Registers a connection to be abandoned when the runtime's io_context shuts down.
void track_connection(const asio::any_io_executor& io, const std::shared_ptr<PgConnection>& conn);

class PgHub : public std::enable_shared_from_this<PgHub> {
 public:
  // The hub for cfg on the runtime behind io (created on first use, freed with its last user).
  static std::shared_ptr<PgHub> get(const PgConfig& cfg, const asio::any_io_executor& io);
  ~PgHub();

  const std::shared_ptr<PgConnection>& conn() const { return conn_; }
  const asio::any_io_executor& executor() const { return ex_; }
  PgListener& listener() { return *listener_; }
  const PgConfig& config() const { return cfg_; }

  // done(status) runs on the hub's executor once the tables exist (at once when known ready).
  void ensure_schema(milliseconds timeout, std::function<void(Status)> done);
  bool schema_ready() const { return schema_ready_.load(std::memory_order_acquire); }
  void schema_suspect();  // a statement found a table missing: check again next time

 private:
  PgHub(PgConfig cfg, asio::any_io_executor ex);
  void start();

  PgConfig cfg_;
  asio::any_io_executor ex_;
  std::shared_ptr<PgConnection> conn_;
  std::shared_ptr<PgListener> listener_;
  std::atomic<bool> schema_ready_{false};
  bool schema_running_ = false;  // hub executor only
  std::vector<std::function<void(Status)>> schema_waiters_;
};

}  // namespace tenure::backends::pg
