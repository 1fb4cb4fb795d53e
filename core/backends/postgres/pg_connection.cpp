#include "postgres/pg_connection.hpp"

#include "tenure/log.hpp"
#include "tenure/process_metrics.hpp"

#include <boost/asio/post.hpp>
#include <cstdlib>
#include <cstring>

namespace tenure::backends::pg {

namespace {

constexpr size_t kMaxPrepared = 64;

std::string trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ' || s.back() == '\r')) s.pop_back();
  return s;
}

bool has(const std::string& s, const char* needle) { return s.find(needle) != std::string::npos; }

// libpq's verbose message of a failed connect ("...: FATAL:  53300: sorry, too many clients
// already\nLOCATION:  ...") split into the SQLSTATE ("" when none) and the message as the default
// verbosity would print it, so the language of the server's messages does not matter.
std::pair<std::string, std::string> split_sqlstate(const std::string& m) {
  std::string state, out;
  size_t pos = 0;
  while (pos < m.size()) {
    size_t nl = m.find('\n', pos);
    std::string line = m.substr(pos, nl == std::string::npos ? std::string::npos : nl - pos);
    pos = nl == std::string::npos ? m.size() : nl + 1;
    if (line.rfind("LOCATION:", 0) == 0) continue;
    for (const char* sev : {"FATAL:  ", "ERROR:  "}) {
      auto at = line.find(sev);
      if (at == std::string::npos) continue;
      auto code = at + std::strlen(sev);
      if (line.size() > code + 7 && line.compare(code + 5, 2, ": ") == 0) {
        if (state.empty()) state = line.substr(code, 5);
        line.erase(code, 7);
      }
      break;
    }
    out += (out.empty() ? "" : "\n") + line;
  }
  return {state, out};
}

}  // namespace

// ---- PgResult ----

bool PgResult::is_null(int row, int col) const {
  return !r_ || row >= rows() || col >= cols() || PQgetisnull(r_.get(), row, col) != 0;
}

std::string PgResult::text(int row, int col) const {
  if (is_null(row, col)) return {};
  return std::string(PQgetvalue(r_.get(), row, col),
                     static_cast<size_t>(PQgetlength(r_.get(), row, col)));
}

int64_t PgResult::i64(int row, int col) const {
  if (is_null(row, col)) return 0;
  return std::strtoll(PQgetvalue(r_.get(), row, col), nullptr, 10);
}

bool PgResult::boolean(int row, int col) const {
  if (is_null(row, col)) return false;
  return PQgetvalue(r_.get(), row, col)[0] == 't';
}

// ---- errors ----

Status connection_limit_error(const ConnParams& p, const std::string& server_message) {
  const std::string limit =
      has(server_message, "for role")       ? "the role's CONNECTION LIMIT (ALTER ROLE)"
      : has(server_message, "for database") ? "the database's CONNECTION LIMIT (ALTER DATABASE)"
                                            : "its max_connections";
  return make_error(
      Errc::connection_limit,
      "PostgreSQL at " + p.where + " refuses new connections: " + limit +
          " is reached. Session mode (?mode=session) holds one server connection per elector, "
          "leader or standby, plus one per process: raise the limit, run fewer session-mode "
          "electors against this server, or use lease mode (one connection per process). tenure "
          "retries with a backoff of up to 30 s. Server said: " +
          server_message);
}

Status classify_connect_error(const ConnParams& p, const std::string& raw) {
  const auto [state, plain] = split_sqlstate(raw);
  const std::string m = trim(plain);
  const std::string at = "PostgreSQL at " + p.where;
  if (state == "53300") return connection_limit_error(p, m);
  if (has(m, "password authentication failed") || has(m, "no password supplied") ||
      has(m, "SCRAM") || has(m, "authentication failed") || has(m, "password is required")) {
    return make_error(Errc::auth_failed,
                      at +
                          " refused the credentials: check the user and password in the URL "
                          "(postgres://USER:PASSWORD@host:port/db). Server said: " +
                          m);
  }
  if (has(m, "database \"") && has(m, "does not exist")) {
    return make_error(Errc::backend,
                      at +
                          ": the database does not exist: fix the path of the URL, or "
                          "create it (CREATE DATABASE " +
                          quote_ident(p.dbname) + " OWNER " + quote_ident(p.user) +
                          ";). Server said: " + m);
  }
  if (has(m, "role \"") && has(m, "does not exist")) {
    return make_error(Errc::auth_failed,
                      at + ": the role does not exist: fix the user in the URL. Server said: " + m);
  }
  if (has(m, "no pg_hba.conf entry") || has(m, "not permitted to log in") ||
      has(m, "permission denied for database")) {
    return make_error(Errc::permission_denied,
                      at +
                          " does not let this role connect: grant CONNECT / LOGIN or add a "
                          "pg_hba.conf entry. Server said: " +
                          m);
  }
  if (has(m, "invalid response to SSL negotiation") || has(m, "expected authentication request") ||
      has(m, "unexpected message from server") || has(m, "invalid length of startup packet") ||
      has(m, "received invalid response")) {
    return make_error(
        Errc::unreachable,
        at + " does not speak the PostgreSQL protocol: is the port right? libpq said: " + m);
  }
  if (has(m, "server does not support SSL") || has(m, "SSL")) {
    return make_error(
        Errc::unreachable,
        at +
            ": TLS could not be set up: check sslmode/sslrootcert/sslcert in the URL. libpq "
            "said: " +
            m);
  }
  return make_error(Errc::unreachable,
                    at +
                        " cannot be reached: check host and port, and that the server runs. libpq "
                        "said: " +
                        m);
}

namespace {
Status classify_result_text(const ConnParams& p, const PGresult* r, const std::string& state) {
  // The primary message with its detail and hint; not the caret drawing of the full message.
  std::string m;
  if (const char* primary = PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY)) {
    m = primary;
    if (const char* d = PQresultErrorField(r, PG_DIAG_MESSAGE_DETAIL))
      m += std::string(" (") + d + ")";
    if (const char* h = PQresultErrorField(r, PG_DIAG_MESSAGE_HINT))
      m += std::string(" Hint: ") + h;
  } else {
    m = trim(PQresultErrorMessage(r));
  }
  const std::string at = "PostgreSQL at " + p.where;
  if (state == "42501")
    return make_error(Errc::permission_denied, at + ": permission denied: " + m);
  if (state == "2200H")  // the token sequence is at its maximum: never cycle to a smaller token
    return make_error(Errc::backend, at + ": refusing to lead: " + m +
                                         "; fencing tokens only grow, and this sequence has no "
                                         "greater one. Reset every resource guarded by these "
                                         "tokens to accept smaller ones, then reset the sequence");
  if (state == "57014")
    return make_error(Errc::timeout, at + ": statement cancelled (statement_timeout?): " + m);
  if (state == "25006")
    return make_error(Errc::backend,
                      at +
                          " is a read-only server (a standby?): point the URL at the "
                          "primary, or add target_session_attrs=read-write. " +
                          m);
  if (state == "53300") return connection_limit_error(p, m);
  if (state.rfind("08", 0) == 0 || state.rfind("57P", 0) == 0)
    return make_error(Errc::unreachable, at + ": connection failure: " + m);
  if (state.empty()) return make_error(Errc::unreachable, at + ": connection lost: " + m);
  return make_error(Errc::backend, at + ": SQLSTATE " + state + ": " + m);
}
}  // namespace

Status classify_result_error(const ConnParams& p, const PGresult* r) {
  const char* st = PQresultErrorField(r, PG_DIAG_SQLSTATE);
  Status s = classify_result_text(p, r, st != nullptr ? st : "");
  s.detail.sqlstate = st != nullptr ? st : "";  // callers act on this, never on the text
  return s;
}

// ---- PgConnection ----

struct PgConnection::Pending {
  std::string sql;
  std::vector<Param> params;
  bool simple = false;
  milliseconds timeout{0};
  QueryHandler done;
  std::unique_ptr<asio::steady_timer> timer;
  PgResult result;
  Status error;
  bool finished = false;
  bool internal = false;     // setup statements: not a caller's query
  std::string preparing;     // set while the statement's PQsendPrepare is out
  std::string prepare_only;  // setup: prepare sql under this name, do not run it
};

PgConnection::PgConnection(asio::any_io_executor ex, ConnParams params, ConnHooks hooks)
    : ex_(std::move(ex)),
      params_(std::move(params)),
      hooks_(std::move(hooks)),
      connect_timer_(ex_),
      reconnect_timer_(ex_),
      gate_(ConnectGate::for_server(params_.where)) {}

PgConnection::~PgConnection() {
  if (sd_) sd_->release();
  if (conn_ != nullptr) PQfinish(conn_);
}

void PgConnection::query(std::string sql, std::vector<Param> params, milliseconds timeout,
                         QueryHandler done) {
  auto p = std::make_shared<Pending>();
  p->sql = std::move(sql);
  p->params = std::move(params);
  p->timeout = timeout;
  p->done = std::move(done);
  asio::post(ex_, [self = shared_from_this(), p] { self->enqueue(p); });
}

void PgConnection::script(std::string sql, milliseconds timeout, QueryHandler done) {
  auto p = std::make_shared<Pending>();
  p->sql = std::move(sql);
  p->simple = true;
  p->timeout = timeout;
  p->done = std::move(done);
  asio::post(ex_, [self = shared_from_this(), p] { self->enqueue(p); });
}

void PgConnection::connect() {
  asio::post(ex_, [self = shared_from_this()] {
    if (!self->closed_ && self->state_ == State::idle) self->start_connect();
  });
}

void PgConnection::set_on_lost(std::function<void(const Status&)> fn) {
  asio::post(ex_, [self = shared_from_this(), fn = std::move(fn)]() mutable {
    if (!self->abandoned_) self->hooks_.on_lost = std::move(fn);
  });
}

void PgConnection::set_keep_on_timeout(bool keep) {
  asio::post(ex_, [self = shared_from_this(), keep] { self->keep_on_timeout_ = keep; });
}

void PgConnection::reset(const std::string& why) {
  if (abandoned_) return;
  asio::post(ex_, [self = shared_from_this(), why] {
    if (self->closed_ || self->state_ == State::idle) return;
    self->teardown(make_error(Errc::unreachable, why), false, true);
  });
}

void PgConnection::close() {
  if (abandoned_) return;
  asio::post(ex_, [self = shared_from_this()] {
    if (self->closed_) return;
    self->closed_ = true;
    self->reconnect_timer_.cancel();
    self->teardown(make_error(Errc::backend, "the PostgreSQL connection was closed"), true, false);
  });
}

void PgConnection::abandon() {
  if (state_ == State::connecting && !abandoned_) gate_->on_failed(probe_);
  abandoned_ = true;
  closed_ = true;
  ++sock_gen_;
  ++conn_gen_;
  if (sd_) {
    sd_->release();
    sd_.reset();
  }
  if (conn_ != nullptr) {
    PQfinish(conn_);
    conn_ = nullptr;
  }
  // Completions would run on the dead context anyway; dropping them breaks reference cycles
  // (a queued completion may hold the session that holds this connection).
  auto q = std::move(queue_);
  auto in = std::move(inflight_);
  queue_.clear();
  inflight_.reset();
  hooks_ = ConnHooks{};
}

void PgConnection::enqueue(std::shared_ptr<Pending> p) {
  if (closed_) {
    finish(p, make_error(Errc::backend, "the PostgreSQL connection was closed"));
    return;
  }
  if (p->timeout.count() > 0) {
    p->timer = std::make_unique<asio::steady_timer>(ex_, p->timeout);
    p->timer->async_wait([self = shared_from_this(),
                          w = std::weak_ptr<Pending>(p)](const boost::system::error_code& ec) {
      auto p = w.lock();
      if (ec || !p) return;
      self->on_timeout(p);
    });
  }
  queue_.push_back(std::move(p));
  kick();
}

void PgConnection::on_timeout(const std::shared_ptr<Pending>& p) {
  if (p->finished) return;
  const std::string ms = std::to_string(p->timeout.count());
  if (p == inflight_ && keep_on_timeout_) {
    // collect() drops the answer when it comes; the session (and its locks) stays.
    finish(p, make_error(Errc::timeout,
                         "PostgreSQL at " + params_.where + " did not answer within " + ms +
                             " ms; the connection is kept (it holds a session lock)"));
    return;
  }
  if (p == inflight_) {
    // The statement's outcome is unknown and the protocol is mid-exchange: start afresh.
    teardown(
        make_error(Errc::timeout, "PostgreSQL at " + params_.where + " did not answer within " +
                                      ms + " ms; the connection was reset"),
        false, true);
    return;
  }
  for (auto it = queue_.begin(); it != queue_.end(); ++it) {
    if (*it == p) {
      queue_.erase(it);
      break;
    }
  }
  const char* why = state_ == State::waiting
                        ? " (waiting for a turn to connect: other connections to this server are "
                          "being set up)"
                    : state_ == State::connecting
                        ? " (still connecting: TCP, TLS or authentication is slow)"
                    : state_ == State::setup ? " (connected, still setting the session up)"
                    : state_ == State::ready ? " (queued behind slower statements)"
                                             : "";
  finish(p, make_error(Errc::timeout, "no answer from PostgreSQL at " + params_.where + " within " +
                                          ms + " ms" + why));
}

void PgConnection::finish(const std::shared_ptr<Pending>& p, Result<PgResult> r) {
  if (p->finished) return;
  p->finished = true;
  if (p->timer) p->timer->cancel();
  auto done = std::move(p->done);
  if (done) done(std::move(r));
}

void PgConnection::kick() {
  if (closed_) return;
  if (state_ == State::idle) {
    if (!queue_.empty()) {
      reconnect_timer_.cancel();
      start_connect();
    }
    return;
  }
  if (state_ == State::ready && !inflight_ && !queue_.empty()) {
    inflight_ = queue_.front();
    queue_.pop_front();
    send(inflight_);
  }
}

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
  connect_timer_.expires_after(params_.connect_timeout);
  connect_timer_.async_wait(
      [self = shared_from_this(), g = conn_gen_](const boost::system::error_code& ec) {
        if (ec || g != self->conn_gen_) return;
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

void PgConnection::update_socket(bool force) {
  const int fd = PQsocket(conn_);
  if (fd == fd_ && sd_ && !force) return;
  ++sock_gen_;
  reading_ = writing_ = false;
  if (sd_) {
    sd_->release();  // libpq owns (and closes) the descriptor
    sd_.reset();
  }
  fd_ = fd;
  if (fd >= 0) sd_.emplace(ex_, fd);
}

void PgConnection::wait(asio::posix::descriptor_base::wait_type t, std::function<void()> fn) {
  if (!sd_) return;
  sd_->async_wait(t, [self = shared_from_this(), g = sock_gen_,
                      fn = std::move(fn)](const boost::system::error_code& ec) {
    if (g != self->sock_gen_) return;
    if (ec) {
      if (ec == asio::error::operation_aborted) return;
      self->teardown(make_error(Errc::unreachable, "PostgreSQL socket error: " + ec.message()),
                     self->state_ != State::ready, true);
      return;
    }
    fn();
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
    case PGRES_POLLING_WRITING: {
      // Always anew while connecting: libpq may close its socket and open another (next host,
      // or sslmode=prefer retrying without TLS) that gets the same fd number, which the old
      // registration would never report.
      update_socket(true);
      if (!sd_) {
        teardown(classify_connect_error(params_, PQerrorMessage(conn_)), true, false);
        return;
      }
      auto t = st == PGRES_POLLING_READING ? asio::posix::descriptor_base::wait_read
                                           : asio::posix::descriptor_base::wait_write;
      wait(t, [this] { connect_step(PQconnectPoll(conn_)); });
      return;
    }
    default:
      wait(asio::posix::descriptor_base::wait_read, [this] { connect_step(PQconnectPoll(conn_)); });
      return;
  }
}

void PgConnection::on_connected() {
  PQsetErrorVerbosity(conn_, PQERRORS_DEFAULT);
  gate_->on_connected(probe_);
  update_socket(true);
  if (PQsetnonblocking(conn_, 1) != 0) {
    teardown(make_error(Errc::internal, "libpq refused non-blocking mode"), true, false);
    return;
  }
  state_ = State::setup;
  run_setup(0);
}

// Setup step 0 looks for a pooler (and refuses one when asked to); then hooks_.setup runs, then
// hooks_.prepare (direct sessions only).
void PgConnection::run_setup(size_t i) {
  const size_t checks = 1;
  const size_t prepares = direct_ ? hooks_.prepare.size() : 0;
  if (i >= checks + hooks_.setup.size() + prepares) {
    state_ = State::ready;
    connect_timer_.cancel();
    note_connected("postgres", failures_ > 0);
    log(failures_ > 0 ? LogLevel::warn : LogLevel::info, "postgres",
        std::string(failures_ > 0 ? "reconnected to " : "connected to ") + params_.where +
            (direct_ ? "" : " (through a connection pooler)"));
    failures_ = 0;
    arm_read();
    if (hooks_.on_connected) hooks_.on_connected();
    kick();
    return;
  }
  auto p = std::make_shared<Pending>();
  p->internal = true;
  const uint64_t g = conn_gen_;
  if (i < checks) {
    p->sql = "SELECT pg_backend_pid()";
    p->done = [this, i, g](Result<PgResult> r) {
      if (g != conn_gen_) return;
      if (!r.ok()) {
        teardown(r.status, true, false);
        return;
      }
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
      run_setup(i + 1);
    };
  } else if (i >= checks + hooks_.setup.size()) {
    p->sql = hooks_.prepare[i - checks - hooks_.setup.size()];
    p->prepare_only = "tenure_" + std::to_string(++next_statement_);
    p->done = [this, i, g, name = p->prepare_only, sql = p->sql](Result<PgResult> r) {
      if (g != conn_gen_) return;
      if (r.ok()) prepared_.emplace(sql, name);
      run_setup(i + 1);  // a failed prepare is retried on first use
    };
  } else {
    p->sql = hooks_.setup[i - checks];
    p->simple = true;
    p->done = [this, i, g](Result<PgResult> r) {
      if (g != conn_gen_) return;
      if (!r.ok()) {
        teardown(r.status, true, false);
        return;
      }
      run_setup(i + 1);
    };
  }
  inflight_ = p;
  send(p);
}

void PgConnection::send(const std::shared_ptr<Pending>& p) {
  if (p->simple) return sent(PQsendQuery(conn_, p->sql.c_str()));
  if (!p->prepare_only.empty())
    return sent(PQsendPrepare(conn_, p->prepare_only.c_str(), p->sql.c_str(), 0, nullptr));
  // A bound on what a session keeps: tenure sends a handful of distinct statements, so the limit
  // only matters if a caller ever builds SQL text per call. Past it, statements go unnamed.
  if (direct_ && !p->internal && !prepared_.count(p->sql) && prepared_.size() < kMaxPrepared) {
    // Prepared first; collect() sends the statement itself once the server has it.
    p->preparing = "tenure_" + std::to_string(++next_statement_);
    return sent(PQsendPrepare(conn_, p->preparing.c_str(), p->sql.c_str(),
                              static_cast<int>(p->params.size()), nullptr));
  }
  send_statement(p);
}

void PgConnection::send_statement(const std::shared_ptr<Pending>& p) {
  std::vector<const char*> vals;
  vals.reserve(p->params.size());
  for (const auto& v : p->params) vals.push_back(v ? v->c_str() : nullptr);
  const int n = static_cast<int>(vals.size());
  auto it = direct_ && !p->internal ? prepared_.find(p->sql) : prepared_.end();
  if (it != prepared_.end())
    return sent(
        PQsendQueryPrepared(conn_, it->second.c_str(), n, vals.data(), nullptr, nullptr, 0));
  sent(PQsendQueryParams(conn_, p->sql.c_str(), n, nullptr, vals.data(), nullptr, nullptr, 0));
}

void PgConnection::sent(int ok) {
  if (ok == 0) {
    teardown(make_error(Errc::unreachable, "PostgreSQL at " + params_.where +
                                               ": sending failed: " + trim(PQerrorMessage(conn_))),
             state_ != State::ready, true);
    return;
  }
  flush();
  if (conn_ != nullptr) arm_read();
}

void PgConnection::flush() {
  if (conn_ == nullptr) return;
  const int r = PQflush(conn_);
  if (r < 0) {
    teardown(make_error(Errc::unreachable, "PostgreSQL at " + params_.where +
                                               ": connection lost: " + trim(PQerrorMessage(conn_))),
             state_ != State::ready, true);
  } else if (r == 1 && !writing_) {
    writing_ = true;
    wait(asio::posix::descriptor_base::wait_write, [this] {
      writing_ = false;
      flush();
    });
  }
}

void PgConnection::arm_read() {
  if (reading_ || conn_ == nullptr) return;
  reading_ = true;
  wait(asio::posix::descriptor_base::wait_read, [this] {
    reading_ = false;
    on_readable();
  });
}

void PgConnection::on_readable() {
  const uint64_t g = conn_gen_;
  if (PQconsumeInput(conn_) == 0) {
    teardown(make_error(Errc::unreachable, "PostgreSQL at " + params_.where +
                                               ": connection lost: " + trim(PQerrorMessage(conn_))),
             state_ != State::ready, true);
    return;
  }
  drain_notifies();
  if (g != conn_gen_) return;
  if (writing_) flush();
  if (g != conn_gen_) return;
  collect();
  if (g != conn_gen_ || conn_ == nullptr) return;
  arm_read();
}

void PgConnection::drain_notifies() {
  while (conn_ != nullptr) {
    PGnotify* n = PQnotifies(conn_);
    if (n == nullptr) return;
    std::string channel = n->relname != nullptr ? n->relname : "";
    std::string payload = n->extra != nullptr ? n->extra : "";
    PQfreemem(n);
    if (hooks_.on_notify) hooks_.on_notify(channel, payload);
  }
}

void PgConnection::collect() {
  while (inflight_ && conn_ != nullptr) {
    if (PQisBusy(conn_) != 0) return;
    PGresult* r = PQgetResult(conn_);
    if (r == nullptr) {
      if (!inflight_->preparing.empty()) {
        // The prepare is done; on success the statement itself goes out on the same turn.
        auto p = inflight_;
        std::string name = std::move(p->preparing);
        p->preparing.clear();
        if (p->error.ok() && p->finished) {
          prepared_.emplace(p->sql, name);  // abandoned after a timeout: do not run it late
        } else if (p->error.ok()) {
          prepared_.emplace(p->sql, name);
          p->result = PgResult();
          send_statement(p);
          return;
        }
      }
      auto p = std::move(inflight_);
      inflight_.reset();
      if (p->error.ok()) {
        finish(p, p->result);
      } else {
        finish(p, p->error);
      }
      if (state_ == State::ready) kick();
      return;
    }
    const ExecStatusType st = PQresultStatus(r);
    if (st == PGRES_FATAL_ERROR || st == PGRES_BAD_RESPONSE) {
      const char* state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
      if (state != nullptr && std::string(state) == "26000") {
        // Someone ran DEALLOCATE/DISCARD on this session: prepare again next time.
        prepared_.clear();
      }
      if (inflight_->error.ok()) inflight_->error = classify_result_error(params_, r);
      PQclear(r);
    } else {
      inflight_->result = PgResult(r);
    }
  }
}

void PgConnection::teardown(const Status& why, bool fail_queue, bool run_hooks) {
  const bool was_ready = state_ == State::ready;
  if (!closed_) {  // once per outage, not once per retry
    log(was_ready || failures_ == 0 ? LogLevel::warn : LogLevel::debug, "postgres", why.message);
    note_connection_lost("postgres", was_ready);
  } else if (was_ready) {
    note_connection_closed("postgres");
  }
  if (state_ == State::connecting) {  // an admitted attempt ended without a session
    if (why.code == Errc::connection_limit)
      gate_->on_refused(probe_, why);
    else
      gate_->on_failed(probe_);
  }
  ++sock_gen_;
  ++conn_gen_;
  reading_ = writing_ = false;
  if (sd_) {
    sd_->release();
    sd_.reset();
  }
  fd_ = -1;
  if (conn_ != nullptr) {
    PQfinish(conn_);
    conn_ = nullptr;
  }
  connect_timer_.cancel();
  state_ = State::idle;
  prepared_.clear();
  direct_ = false;
  auto inflight = std::move(inflight_);
  inflight_.reset();
  if (inflight && !inflight->internal) finish(inflight, why);
  if (fail_queue || closed_) {
    auto q = std::move(queue_);
    queue_.clear();
    for (auto& p : q) finish(p, why);
  }
  if (closed_) return;
  if (run_hooks && was_ready && hooks_.on_lost) hooks_.on_lost(why);
  if (closed_) return;
  if (!queue_.empty()) {
    // Queries not yet sent can safely go to a new connection.
    asio::post(ex_, [self = shared_from_this()] { self->kick(); });
  } else if (hooks_.keep_connected) {
    schedule_reconnect();
  }
}

void PgConnection::schedule_reconnect() {
  ++failures_;
  const int shift = failures_ < 5 ? failures_ : 5;
  // 100 ms .. 1.6 s, or longer while the server refuses connections for its limit.
  reconnect_timer_.expires_after(
      std::max<asio::steady_timer::duration>(milliseconds(50 << shift), gate_->wait_left()));
  reconnect_timer_.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
    if (ec || self->closed_ || self->state_ != State::idle) return;
    self->start_connect();
  });
}

}  // namespace tenure::backends::pg
