// RespConnection's requests: queued until ready, pipelined, replies matched in order, deadlines
// checked by one tick, failures handed to every waiting request.
#include "redis/resp_connection_impl.hpp"
#include "tenure/log.hpp"
#include "tenure/process_metrics.hpp"

#include <boost/asio/bind_executor.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>

namespace tenure::backends::redis {

void RespConnection::command(const std::vector<std::string>& argv, Callback cb,
                             milliseconds min_uptime) {
  std::string wire = format_command(argv);
  asio::post(strand_, [self = shared_from_this(), wire = std::move(wire), cb = std::move(cb),
                       min_uptime]() mutable {
    self->do_command(std::move(wire), std::move(cb), min_uptime);
  });
}

void RespConnection::do_command(std::string wire, Callback cb, milliseconds min_uptime) {
  if (state_ == State::closed) return;  // shut down: pending callbacks are dropped
  impl_->queued.push_back(Impl::Request{std::move(wire), std::move(cb),
                                        Clock::now() + cfg_.command_timeout, min_uptime});
  arm_tick();
  switch (state_.load()) {
    case State::ready:
      flush();
      break;
    case State::idle:
      start_connect();
      break;
    default:
      break;  // connecting or waiting out a backoff: sent once ready
  }
}

void RespConnection::start_subscriber(std::function<void(const Reply&)> on_push,
                                      std::function<void()> on_ready,
                                      std::function<void(const Status&)> on_down) {
  asio::post(strand_, [self = shared_from_this(), on_push = std::move(on_push),
                       on_ready = std::move(on_ready), on_down = std::move(on_down)]() mutable {
    self->on_push_ = std::move(on_push);
    self->on_ready_ = std::move(on_ready);
    self->on_down_ = std::move(on_down);
    if (self->state_ == State::idle) self->start_connect();
  });
}

void RespConnection::send_now(const std::vector<std::string>& argv) {
  if (state_ != State::ready) return;  // re-sent by on_ready after the next connect
  impl_->out += format_command(argv);
  if (!impl_->write_busy) do_write();
}

void RespConnection::shutdown() {
  asio::post(strand_, [self = shared_from_this()] {
    if (self->state_ == State::closed) return;
    if (self->state_ == State::ready) note_connection_closed("redis");
    self->state_ = State::closed;
    ++self->gen_;
    self->close_socket();
    self->impl_->deadlines->close();  // the deadline check and a waiting reconnect
    self->impl_->queued.clear();
    self->impl_->inflight.clear();
    self->on_push_ = nullptr;
    self->on_ready_ = nullptr;
    self->on_down_ = nullptr;
  });
}

void RespConnection::flush() {
  auto& q = impl_->queued;
  if (q.empty()) return;
  const auto now = Clock::now();
  while (!q.empty()) {
    auto req = std::move(q.front());
    q.pop_front();
    if (req.min_uptime.count() > 0 && restart_seen_ && now - server_started_ < req.min_uptime) {
      auto left =
          std::chrono::duration_cast<milliseconds>(req.min_uptime - (now - server_started_));
      ErrorDetail d;
      d.retry_after = left + milliseconds(1);
      Status st = make_error(
          Errc::unreachable,
          cfg_.display + " restarted " +
              std::to_string(
                  std::chrono::duration_cast<milliseconds>(now - server_started_).count()) +
              " ms ago and may have lost a live lease: not sent until it has "
              "been up for one lease_duration",
          std::move(d));
      asio::post(strand_, [cb = std::move(req.cb), st = std::move(st)]() mutable {
        cb(Result<Reply>(std::move(st)));
      });
      continue;
    }
    impl_->out += req.wire;
    impl_->inflight.push_back(Impl::Inflight{std::move(req.cb), req.deadline});
  }
  if (!impl_->write_busy && !impl_->out.empty()) do_write();
}

void RespConnection::do_write() {
  if (impl_->out.empty()) return;
  impl_->writing.clear();
  impl_->writing.swap(impl_->out);
  impl_->write_busy = true;
  const uint64_t gen = gen_;
  auto t = impl_->t;
  auto handler = asio::bind_executor(
      strand_, [self = shared_from_this(), gen, t](const boost::system::error_code& ec, size_t) {
        if (gen != self->gen_) return;
        self->impl_->write_busy = false;
        if (ec) {
          self->fail(make_error(Errc::unreachable, "lost the connection to Redis at " +
                                                       self->cfg_.display + ": " + ec.message()));
          return;
        }
        if (!self->impl_->out.empty()) self->do_write();
      });
  if (t->tls)
    asio::async_write(*t->tls, asio::buffer(impl_->writing), std::move(handler));
  else
    asio::async_write(t->sock, asio::buffer(impl_->writing), std::move(handler));
}

void RespConnection::do_read() {
  const uint64_t gen = gen_;
  auto t = impl_->t;
  auto handler = asio::bind_executor(strand_, [self = shared_from_this(), gen, t](
                                                  const boost::system::error_code& ec, size_t n) {
    if (gen != self->gen_) return;
    if (ec) {
      const bool during_handshake = self->state_ != State::ready;
      std::string msg = "connection to Redis at " + self->cfg_.display + " lost: " + ec.message();
      if (during_handshake && self->answered_before_)
        msg = "connection to Redis at " + self->cfg_.display +
              " lost during the reconnect handshake (" + ec.message() +
              "); it answered before, so the server is restarting or the network is failing";
      else if (during_handshake)
        msg = "Redis at " + self->cfg_.display + " closed the connection during the handshake (" +
              ec.message() + "): is this a Redis port?" +
              (self->cfg_.tls ? "" : " If the server wants TLS, use rediss://");
      self->fail(make_error(Errc::unreachable, msg));
      return;
    }
    self->on_bytes(self->impl_->rbuf.data(), n);
    if (gen == self->gen_) self->do_read();
  });
  if (t->tls)
    t->tls->async_read_some(asio::buffer(impl_->rbuf), std::move(handler));
  else
    t->sock.async_read_some(asio::buffer(impl_->rbuf), std::move(handler));
}

void RespConnection::on_bytes(const char* data, size_t n) {
  const uint64_t gen = gen_;
  if (redisReaderFeed(impl_->reader, data, n) != REDIS_OK) {
    fail(make_error(Errc::backend, "Redis at " + cfg_.display + " sent bytes that are not RESP"));
    return;
  }
  for (;;) {
    void* raw = nullptr;
    if (redisReaderGetReply(impl_->reader, &raw) != REDIS_OK) {
      fail(make_error(Errc::backend,
                      "the server at " + cfg_.display + " does not speak the Redis protocol (" +
                          std::string(impl_->reader->errstr) + "); check the port in the URL"));
      return;
    }
    if (!raw) return;
    Reply r = reply_from_hiredis(static_cast<redisReply*>(raw));
    freeReplyObject(raw);
    dispatch(std::move(r));
    if (gen != gen_) return;  // dispatch failed the connection
  }
}

void RespConnection::dispatch(Reply r) {
  if (state_ == State::handshaking) {
    handle_handshake_reply(std::move(r));
    return;
  }
  if (mode_ == Mode::subscriber) {
    if (on_push_) on_push_(r);
    return;
  }
  if (impl_->inflight.empty()) {
    fail(make_error(Errc::backend, "Redis at " + cfg_.display + " sent a reply nobody asked for"));
    return;
  }
  auto cb = std::move(impl_->inflight.front().cb);
  impl_->inflight.pop_front();
  cb(std::move(r));
}

void RespConnection::fail(Status st) {
  if (state_ == State::closed) return;
  // Once per outage, not once per backoff step.
  log(state_ == State::ready || backoff_.attempts() == 0 ? LogLevel::warn : LogLevel::debug,
      "redis", st.message + "; reconnecting with backoff");
  note_connection_lost("redis", state_ == State::ready);
  ++gen_;
  close_socket();
  last_error_ = st;
  auto inflight = std::move(impl_->inflight);
  impl_->inflight.clear();
  const bool auth = st.code == Errc::auth_failed || st.code == Errc::permission_denied;
  // Refused credentials will not heal by retrying: fail what waits instead of letting it time out.
  std::deque<Impl::Request> queued;
  if (auth || mode_ == Mode::command) {
    queued = std::move(impl_->queued);
    impl_->queued.clear();
  }
  state_ = State::backoff;
  if (mode_ == Mode::subscriber && on_down_) on_down_(st);
  for (auto& f : inflight) f.cb(st);
  for (auto& q : queued) q.cb(st);
  schedule_reconnect();
}

void RespConnection::arm_tick() {
  if (state_ == State::closed) return;
  // The earliest deadline anything waits for: the connect (and handshake), the oldest reply, the
  // oldest request not sent yet. Later ones are checked when the check runs again.
  auto at = Clock::time_point::max();
  if (state_ == State::connecting || state_ == State::handshaking) at = impl_->connect_deadline;
  if (!impl_->inflight.empty()) at = std::min(at, impl_->inflight.front().deadline);
  if (!impl_->queued.empty()) at = std::min(at, impl_->queued.front().deadline);
  if (at == Clock::time_point::max()) return;
  if (impl_->tick_id != 0) {
    if (impl_->tick_at <= at) return;
    impl_->deadlines->cancel(impl_->tick_id);
  }
  impl_->tick_at = at;
  impl_->tick_id = impl_->deadlines->add(at, [w = weak_from_this()] {
    auto self = w.lock();
    if (!self) return;
    self->impl_->tick_id = 0;
    if (self->state_ == State::closed) return;
    self->on_tick();
  });
}

void RespConnection::on_tick() {
  const auto now = Clock::now();
  if ((state_ == State::connecting || state_ == State::handshaking) &&
      now >= impl_->connect_deadline) {
    if (state_ == State::connecting)
      fail(make_error(Errc::unreachable, "connecting to Redis at " + cfg_.display +
                                             " timed out after " +
                                             std::to_string(cfg_.connect_timeout.count()) +
                                             " ms; check the host, port and firewall"));
    else if (answered_before_)
      fail(
          make_error(Errc::timeout, "the connection to Redis at " + cfg_.display +
                                        " timed out: no answer to the reconnect handshake within " +
                                        std::to_string(cfg_.connect_timeout.count()) +
                                        " ms from a server that answered before (paused, "
                                        "overloaded, or the network is dropping traffic)"));
    else
      fail(make_error(Errc::timeout,
                      "no answer to the Redis handshake from " + cfg_.display + " within " +
                          std::to_string(cfg_.connect_timeout.count()) +
                          " ms: is this a Redis port" +
                          std::string(cfg_.tls ? "" : " (TLS servers need rediss://)") + "?"));
  } else if (!impl_->inflight.empty() && now >= impl_->inflight.front().deadline) {
    fail(make_error(Errc::timeout, "Redis at " + cfg_.display + " did not answer within " +
                                       std::to_string(cfg_.command_timeout.count()) +
                                       " ms (backend option timeout_ms)"));
  }
  // Requests still waiting for a connection: fail those past their deadline with the last cause.
  auto& q = impl_->queued;
  while (!q.empty() && now >= q.front().deadline) {
    auto cb = std::move(q.front().cb);
    q.pop_front();
    Status st =
        last_error_.ok()
            ? make_error(Errc::timeout, "no connection to Redis at " + cfg_.display + " within " +
                                            std::to_string(cfg_.command_timeout.count()) + " ms")
            : last_error_;
    cb(st);
  }
  if (!impl_->inflight.empty() || !impl_->queued.empty() || state_ == State::connecting ||
      state_ == State::handshaking)
    arm_tick();
}

}  // namespace tenure::backends::redis
