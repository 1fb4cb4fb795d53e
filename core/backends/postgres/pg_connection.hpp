// One asynchronous libpq connection driven by Asio: the connection's socket is watched with
// net::FdWatcher (never closed: libpq owns the fd), queries are queued and
// sent one at a time, results read with PQconsumeInput/PQisBusy/PQgetResult, notifications with
// PQnotifies. Every handler runs on the connection's executor.
//
// Parameterised statements are prepared once per server session (PQsendPrepare, then
// PQsendQueryPrepared): planning tenure's upserts costs several times their execution. A
// connection that reaches PostgreSQL through a pooler (found at connect: the backend pid differs
// from the one in the connection's key data) sends them unnamed instead, because a
// transaction-pooling proxy may run the next statement on a session that never saw the prepare.
#pragma once

#include <libpq-fe.h>

#include <atomic>
#include <boost/asio/any_io_executor.hpp>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "postgres/pg_config.hpp"
#include "postgres/pg_connect_gate.hpp"
#include "tenure/errors.hpp"
#include "tenure/net/backoff.hpp"
#include "tenure/net/deadline_queue.hpp"
#include "tenure/net/fd_watcher.hpp"
#include "tenure/net/registry.hpp"

namespace tenure::backends::pg {

namespace asio = boost::asio;

// A query result (owned, shared, immutable). Text format.
class PgResult {
 public:
  PgResult() = default;
  explicit PgResult(PGresult* r) : r_(r, PQclear) {}
  int rows() const { return r_ ? PQntuples(r_.get()) : 0; }
  int cols() const { return r_ ? PQnfields(r_.get()) : 0; }
  bool is_null(int row, int col) const;
  std::string text(int row, int col) const;  // "" when null
  int64_t i64(int row, int col) const;       // 0 when null
  bool boolean(int row, int col) const;      // false when null

 private:
  std::shared_ptr<PGresult> r_;
};

using QueryHandler = std::function<void(Result<PgResult>)>;
using Param = std::optional<std::string>;  // nullopt: SQL NULL

struct ConnHooks {
  std::vector<std::string> setup;      // run after every (re)connect, before any query
  bool check_direct_session = false;   // refuse a pooler (backend pid differs from the key data)
  bool keep_connected = false;         // reconnect by itself after a loss (listeners)
  std::function<void()> on_connected;  // after setup
  std::function<void(const Status&)> on_lost;  // an established connection was lost
  std::function<void(const std::string& channel, const std::string& payload)> on_notify;
  // Statements prepared right after connecting (direct sessions only), so the first real use pays
  // neither the extra round trip nor the planning on a fresh server backend. One that fails (its
  // table does not exist yet) is prepared on first use instead.
  std::vector<std::string> prepare;
};

class PgConnection : public std::enable_shared_from_this<PgConnection>, public net::Abandonable {
 public:
  PgConnection(asio::any_io_executor ex, ConnParams params, ConnHooks hooks);
  ~PgConnection();
  PgConnection(const PgConnection&) = delete;
  PgConnection& operator=(const PgConnection&) = delete;

  // Thread-safe. Connects first when needed. done runs later, once, on executor().
  // timeout 0: none (a blocking advisory lock); otherwise the connection is reset on timeout,
  // because the statement's outcome is then unknown.
  void query(std::string sql, std::vector<Param> params, milliseconds timeout, QueryHandler done);
  // Simple protocol, several statements in one implicit transaction; the last result is returned.
  void script(std::string sql, milliseconds timeout, QueryHandler done);
  void connect();  // thread-safe: connect now, without a query
  // Thread-safe: replaces hooks.on_lost (a pooled connection changes owners). Takes effect before
  // any query issued after this call.
  void set_on_lost(std::function<void(const Status&)> fn);
  // Thread-safe. While set, a statement that times out is abandoned (its answer is dropped when it
  // comes) instead of resetting the connection, because a reset ends the server session and so
  // frees the session-level lock it holds. Later statements queue behind the abandoned one.
  void set_keep_on_timeout(bool keep);
  // Thread-safe: drop the server connection now (frees its session locks); hooks.on_lost runs as
  // for any loss, and queries not yet sent go to a new connection.
  void reset(const std::string& why);
  // Thread-safe: disconnect for good; queued queries fail with Errc::backend, no hook runs.
  void close();
  // Only when the io_context no longer runs (its shutdown): drop the server connection and every
  // queued completion at once, without posting anything.
  void abandon() override;

  const asio::any_io_executor& executor() const { return ex_; }
  const ConnParams& params() const { return params_; }

 private:
  struct Pending {
    std::string sql;
    std::vector<Param> params;
    bool simple = false;
    milliseconds timeout{0};
    QueryHandler done;
    net::DeadlineQueue::Id deadline = 0;  // its timeout on deadlines_; 0: none
    PgResult result;
    Status error;
    bool finished = false;
    bool internal = false;     // setup statements: not a caller's query
    std::string preparing;     // set while the statement's PQsendPrepare is out
    std::string prepare_only;  // setup: prepare sql under this name, do not run it
  };
  // waiting: for a connect turn from the gate (too many connects to this server under way).
  enum class State { idle, waiting, connecting, setup, ready };

  void enqueue(std::shared_ptr<Pending> p);
  void kick();
  void start_connect();
  void on_turn();  // the gate lets a waiting connect go
  void connect_step(PostgresPollingStatusType st);
  void on_connected();
  // Setup after every connect, in phases: check_pooler, run_setup_statement(0..),
  // prepare_statement(0..), setup_done.
  void send_setup(std::shared_ptr<Pending> p);
  void check_pooler();
  void run_setup_statement(size_t i);
  void prepare_statement(size_t i);
  void setup_done();
  void send(const std::shared_ptr<Pending>& p);
  void flush();
  void arm_read();
  void on_readable();
  void collect();
  void drain_notifies();
  void rebind_socket();
  void wait(net::FdWatcher::Want want, std::function<void()> fn);
  void on_timeout(const std::shared_ptr<Pending>& p);
  void finish(const std::shared_ptr<Pending>& p, Result<PgResult> r);
  // Drops the server connection. fail_queue: also fail queries not yet sent (a failed connect).
  void teardown(const Status& why, bool fail_queue, bool run_hooks);
  void schedule_reconnect();
  // Runs p's statement: by its prepared name when this session has one, else unnamed.
  void send_statement(const std::shared_ptr<Pending>& p);
  void sent(int libpq_ok);  // after a PQsend*: flush and wait for the answer, or tear down

  asio::any_io_executor ex_;
  ConnParams params_;
  ConnHooks hooks_;
  PGconn* conn_ = nullptr;
  State state_ = State::idle;
  bool closed_ = false;
  bool keep_on_timeout_ = false;
  std::atomic<bool> abandoned_{false};
  net::FdWatcher socket_;  // libpq's socket (PQsocket): watched, never closed
  uint64_t conn_gen_ = 0;  // changes with every teardown
  bool reading_ = false;
  bool writing_ = false;
  std::deque<std::shared_ptr<Pending>> queue_;
  std::shared_ptr<Pending> inflight_;
  // Per server session: statement text -> its prepared name. Cleared with every teardown.
  std::unordered_map<std::string, std::string> prepared_;
  uint64_t next_statement_ = 0;
  bool direct_ =
      false;  // this session is PostgreSQL's own (no pooler): prepared statements are safe
  // Every timer of this connection (statement timeouts, the connect deadline, the reconnect
  // delay) on one queue; entries hold the connection weakly, so the queue never keeps it alive.
  std::shared_ptr<net::DeadlineQueue> deadlines_;
  net::DeadlineQueue::Id connect_deadline_ = 0;
  net::DeadlineQueue::Id reconnect_at_ = 0;
  net::Backoff backoff_;  // between reconnects; reset once connected
  // Shared with every connection to the same server, database and user: backoff while the
  // server refuses connections for its connection limit.
  std::shared_ptr<ConnectGate> gate_;
  bool probe_ = false;  // the current attempt is the gate's probe
};

// Error classification, shared by the connection and the statements. A connect error message is
// libpq's, with verbosity PQERRORS_VERBOSE (so it carries the server's SQLSTATE).
Status classify_connect_error(const ConnParams& p, const std::string& libpq_message);
// The refusal for SQLSTATE 53300 (too many connections), naming the limit the server gave.
Status connection_limit_error(const ConnParams& p, const std::string& server_message);
Status classify_result_error(const ConnParams& p, const PGresult* r);
// libpq's message without its trailing newlines and spaces.
std::string trim_message(std::string s);

}  // namespace tenure::backends::pg
