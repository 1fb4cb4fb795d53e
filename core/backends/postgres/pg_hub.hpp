// One shared connection per (runtime, connection parameters, tables): every lease-mode elector of
// the process with the same URL queries through it, and it LISTENs for the whole group, so a
// thousand electors cost one server connection. The schema is ensured once per hub.
#pragma once

#include <atomic>
#include <boost/asio/any_io_executor.hpp>
#include <functional>
#include <map>
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

  // Session mode: a lock connection with this setup (statements run after every connect) and
  // these statements prepared; an idle one given back by an earlier elector when there is one, so
  // a new elector neither waits for TCP, TLS and authentication nor meets a cold server backend.
  // `key` receives what give_back_lock_connection needs. Thread-safe.
  std::shared_ptr<PgConnection> take_lock_connection(const std::vector<std::string>& setup,
                                                     bool refuse_pooler,
                                                     const std::vector<std::string>& prepare,
                                                     std::string& key);
  // Gives back a lock connection that holds no advisory lock and waits for none. Statements still
  // queued on it run first; then every advisory lock of the session is let go (in case one of them
  // took one), and it waits for the next elector. Thread-safe.
  void give_back_lock_connection(std::shared_ptr<PgConnection> conn, const std::string& key);

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
  std::mutex pool_mu_;
  // Idle lock connections by their setup key; at most kIdleLockConnections each.
  std::map<std::string, std::vector<std::shared_ptr<PgConnection>>> idle_locks_;
  std::atomic<bool> schema_ready_{false};
  bool schema_running_ = false;  // hub executor only
  std::vector<std::function<void(Status)>> schema_waiters_;
};

}  // namespace tenure::backends::pg
