#include "postgres/pg_connection.hpp"

#include "tenure/log.hpp"
#include "tenure/process_metrics.hpp"

#include <boost/asio/post.hpp>
#include <cstdlib>
#include <cstring>

namespace tenure::backends::pg {

namespace {
constexpr size_t kMaxPrepared = 64;
}  // namespace

// ---- PgConnection ----

PgConnection::PgConnection(asio::any_io_executor ex, ConnParams params, ConnHooks hooks)
    : ex_(std::move(ex)),
      params_(std::move(params)),
      hooks_(std::move(hooks)),
      socket_(ex_),
      deadlines_(net::DeadlineQueue::create(ex_)),
      gate_(ConnectGate::for_server(params_.where)) {}

PgConnection::~PgConnection() {
  socket_.release();  // before PQfinish closes the descriptor
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
    self->deadlines_->cancel_slot(self->reconnect_at_);
    self->teardown(make_error(Errc::backend, "the PostgreSQL connection was closed"), true, false);
  });
}

void PgConnection::abandon() {
  if (state_ == State::connecting && !abandoned_) gate_->on_failed(probe_);
  abandoned_ = true;
  closed_ = true;
  ++conn_gen_;
  socket_.release();
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
    p->deadline =
        deadlines_->add_after(p->timeout, [w = weak_from_this(), wp = std::weak_ptr<Pending>(p)] {
          auto self = w.lock();
          auto p = wp.lock();
          if (self && p) self->on_timeout(p);
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
  deadlines_->cancel_slot(p->deadline);
  auto done = std::move(p->done);
  if (done) done(std::move(r));
}

void PgConnection::kick() {
  if (closed_) return;
  if (state_ == State::idle) {
    if (!queue_.empty()) {
      deadlines_->cancel_slot(reconnect_at_);
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
    teardown(make_error(Errc::unreachable, "PostgreSQL at " + params_.where + ": sending failed: " +
                                               trim_message(PQerrorMessage(conn_))),
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
    teardown(make_error(Errc::unreachable,
                        "PostgreSQL at " + params_.where +
                            ": connection lost: " + trim_message(PQerrorMessage(conn_))),
             state_ != State::ready, true);
  } else if (r == 1 && !writing_) {
    writing_ = true;
    wait(net::FdWatcher::Want::write, [this] {
      writing_ = false;
      flush();
    });
  }
}

void PgConnection::arm_read() {
  if (reading_ || conn_ == nullptr) return;
  reading_ = true;
  wait(net::FdWatcher::Want::read, [this] {
    reading_ = false;
    on_readable();
  });
}

void PgConnection::on_readable() {
  const uint64_t g = conn_gen_;
  if (PQconsumeInput(conn_) == 0) {
    teardown(make_error(Errc::unreachable,
                        "PostgreSQL at " + params_.where +
                            ": connection lost: " + trim_message(PQerrorMessage(conn_))),
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
    log(was_ready || backoff_.attempts() == 0 ? LogLevel::warn : LogLevel::debug, "postgres",
        why.message);
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
  ++conn_gen_;
  reading_ = writing_ = false;
  socket_.release();  // libpq owns (and closes) the descriptor
  if (conn_ != nullptr) {
    PQfinish(conn_);
    conn_ = nullptr;
  }
  deadlines_->cancel_slot(connect_deadline_);
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

}  // namespace tenure::backends::pg
