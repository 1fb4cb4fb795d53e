// PgConnection's way to a ready connection: a turn from the connect gate, libpq's non-blocking
// connect driven by the fd watcher, the setup phases, and reconnects with the one backoff policy.
#include "postgres/pg_connection.hpp"

#include "tenure/log.hpp"
#include "tenure/process_metrics.hpp"

#include <boost/asio/post.hpp>

namespace tenure::backends::pg {

void PgConnection::start_connect() {
  // The server refused connections for its limit a moment ago: fail at once with that refusal,
  // without a round trip, until the backoff lets one connection probe.
  std::weak_ptr<PgConnection> weak = shared_from_this();
  auto admission = gate_->admit([weak] {
    auto self = weak.lock();
    if (!self) return false;
    asio::post(self->ex_, [self] { self->on_turn(); });
    return true;
  });
  if (admission.refused) {
    teardown(*admission.refused, true, false);
    return;
  }
  if (admission.wait) {
    state_ = State::waiting;
    return;
  }
  probe_ = admission.probe;
  state_ = State::connecting;  // from here, teardown reports the attempt's outcome to the gate
  std::vector<const char*> keys, vals;
  for (const auto& [k, v] : params_.keywords) {
    keys.push_back(k.c_str());
    vals.push_back(v.c_str());
  }
  keys.push_back(nullptr);
  vals.push_back(nullptr);
  ++conn_gen_;
  conn_ = PQconnectStartParams(keys.data(), vals.data(), 0);
  if (conn_ == nullptr) {
    teardown(make_error(Errc::internal, "libpq could not allocate a connection"), true, false);
    return;
  }
  if (PQstatus(conn_) == CONNECTION_BAD) {
    teardown(classify_connect_error(params_, PQerrorMessage(conn_)), true, false);
    return;
  }
  // The server's SQLSTATE in connect errors (classify_connect_error); default after connecting.
  PQsetErrorVerbosity(conn_, PQERRORS_VERBOSE);
  // libpq prints notices (and a FATAL that arrives while idle) on stderr by default; a library
  // must not: they go to tenure's log. Errors reach the caller as statuses as well.
  PQsetNoticeProcessor(
      conn_,
      [](void* arg, const char* msg) {
        std::string text = msg ? msg : "";
        while (!text.empty() && text.back() == '\n') text.pop_back();
        log(LogLevel::info, "postgres",
            "server notice from " + static_cast<PgConnection*>(arg)->params_.where + ": " + text);
      },
      this);
  deadlines_->cancel_slot(connect_deadline_);
  connect_deadline_ =
      deadlines_->add_after(params_.connect_timeout, [w = weak_from_this(), g = conn_gen_] {
        auto self = w.lock();
        if (!self || g != self->conn_gen_) return;
        self->connect_deadline_ = 0;
        if (self->state_ == State::connecting || self->state_ == State::setup) {
          self->teardown(
              make_error(Errc::timeout, "connecting to PostgreSQL at " + self->params_.where +
                                            " took longer than " +
                                            std::to_string(self->params_.connect_timeout.count()) +
                                            " ms (connect_timeout)"),
              true, false);
        }
      });
  connect_step(PGRES_POLLING_WRITING);
}

void PgConnection::on_turn() {
  if (closed_ || state_ != State::waiting) {
    gate_->pass_turn();
    return;
  }
  state_ = State::idle;
  start_connect();
}

// The descriptor libpq uses now: always registered anew, because libpq may close its socket and
// open another under the same number (next host, or sslmode=prefer retrying without TLS).
void PgConnection::rebind_socket() {
  reading_ = writing_ = false;
  socket_.rebind(PQsocket(conn_));
}

void PgConnection::wait(net::FdWatcher::Want want, std::function<void()> fn) {
  if (socket_.fd() < 0) return;
  socket_.wait(want, [self = shared_from_this(), fn = std::move(fn)](Status s) {
    if (s.ok()) return fn();
    self->teardown(
        make_error(Errc::unreachable, "PostgreSQL at " + self->params_.where + ": " + s.message),
        self->state_ != State::ready, true);
  });
}

void PgConnection::connect_step(PostgresPollingStatusType st) {
  switch (st) {
    case PGRES_POLLING_OK:
      on_connected();
      return;
    case PGRES_POLLING_FAILED:
      teardown(classify_connect_error(params_, PQerrorMessage(conn_)), true, false);
      return;
    case PGRES_POLLING_READING:
    case PGRES_POLLING_WRITING:
      rebind_socket();
      if (socket_.fd() < 0) {
        teardown(classify_connect_error(params_, PQerrorMessage(conn_)), true, false);
        return;
      }
      wait(st == PGRES_POLLING_READING ? net::FdWatcher::Want::read : net::FdWatcher::Want::write,
           [this] { connect_step(PQconnectPoll(conn_)); });
      return;
    default:
      wait(net::FdWatcher::Want::read, [this] { connect_step(PQconnectPoll(conn_)); });
      return;
  }
}

void PgConnection::on_connected() {
  PQsetErrorVerbosity(conn_, PQERRORS_DEFAULT);
  gate_->on_connected(probe_);
  rebind_socket();
  if (PQsetnonblocking(conn_, 1) != 0) {
    teardown(make_error(Errc::internal, "libpq refused non-blocking mode"), true, false);
    return;
  }
  state_ = State::setup;
  check_pooler();
}

// ---- setup, in three phases: check_pooler, run_setup_statement (hooks_.setup in order),
// prepare_statement (hooks_.prepare, direct sessions only); then setup_done.

void PgConnection::send_setup(std::shared_ptr<Pending> p) {
  p->internal = true;
  inflight_ = p;
  send(p);
}

void PgConnection::check_pooler() {
  auto p = std::make_shared<Pending>();
  p->sql = "SELECT pg_backend_pid()";
  p->done = [this, g = conn_gen_](Result<PgResult> r) {
    if (g != conn_gen_) return;
    if (!r.ok()) return teardown(r.status, true, false);
    // A pooler answers from a server backend other than the one the connection's key data names.
    const int64_t server_pid = r.value.i64(0, 0);
    const int key_pid = PQbackendPID(conn_);
    direct_ = server_pid == key_pid;
    if (!direct_ && hooks_.check_direct_session) {
      teardown(make_error(Errc::backend,
                          "PostgreSQL at " + params_.where +
                              " is reached through a connection pooler (its backend pid " +
                              std::to_string(server_pid) + " differs from the connection's " +
                              std::to_string(key_pid) +
                              "): mode=session holds a session-level advisory lock, which a "
                              "transaction-pooling proxy (pgbouncer pool_mode=transaction) would "
                              "silently break. Connect to PostgreSQL directly (or through "
                              "session pooling, then add allow_proxy=true), or use mode=lease."),
               true, false);
      return;
    }
    run_setup_statement(0);
  };
  send_setup(p);
}

void PgConnection::run_setup_statement(size_t i) {
  if (i >= hooks_.setup.size()) return prepare_statement(0);
  auto p = std::make_shared<Pending>();
  p->sql = hooks_.setup[i];
  p->simple = true;
  p->done = [this, i, g = conn_gen_](Result<PgResult> r) {
    if (g != conn_gen_) return;
    if (!r.ok()) return teardown(r.status, true, false);
    run_setup_statement(i + 1);
  };
  send_setup(p);
}

void PgConnection::prepare_statement(size_t i) {
  if (!direct_ || i >= hooks_.prepare.size()) return setup_done();
  auto p = std::make_shared<Pending>();
  p->sql = hooks_.prepare[i];
  p->prepare_only = "tenure_" + std::to_string(++next_statement_);
  p->done = [this, i, g = conn_gen_, name = p->prepare_only, sql = p->sql](Result<PgResult> r) {
    if (g != conn_gen_) return;
    if (r.ok()) prepared_.emplace(sql, name);
    prepare_statement(i + 1);  // a failed prepare is retried on first use
  };
  send_setup(p);
}

void PgConnection::setup_done() {
  const bool again = backoff_.attempts() > 0;
  state_ = State::ready;
  deadlines_->cancel_slot(connect_deadline_);
  note_connected("postgres", again);
  log(again ? LogLevel::warn : LogLevel::info, "postgres",
      std::string(again ? "reconnected to " : "connected to ") + params_.where +
          (direct_ ? "" : " (through a connection pooler)"));
  backoff_.reset();
  arm_read();
  if (hooks_.on_connected) hooks_.on_connected();
  kick();
}

void PgConnection::schedule_reconnect() {
  // The one backoff policy (net::kBackoff), or longer while the server refuses connections for
  // its limit.
  deadlines_->cancel_slot(reconnect_at_);
  reconnect_at_ = deadlines_->add_after(
      std::max<std::chrono::steady_clock::duration>(backoff_.next(), gate_->wait_left()),
      [w = weak_from_this()] {
        auto self = w.lock();
        if (!self) return;
        self->reconnect_at_ = 0;
        if (self->closed_ || self->state_ != State::idle) return;
        self->start_connect();
      });
}

}  // namespace tenure::backends::pg
