// RespConnection's way to a ready connection: its own strand, the TLS context, resolve and
// connect, the TLS handshake, the Redis handshake (resp_handshake.hpp), reconnects with the one
// backoff policy (net::Backoff).
#include "redis/resp_connection_impl.hpp"
#include "tenure/log.hpp"
#include "tenure/net/registry.hpp"
#include "tenure/process_metrics.hpp"

#include <boost/asio/bind_executor.hpp>
#include <boost/asio/connect.hpp>

namespace tenure::backends::redis {

std::string ConnConfig::pool_key() const {
  const net::TlsOptions& t = tls_opts;
  return (tls ? "rediss|" : "redis|") + host + "|" + std::to_string(port) + "|" + user + "|" +
         (has_password ? "p:" + password : std::string("-")) + "|" + std::to_string(db) + "|" +
         t.ca_file + "|" + t.ca_pem + "|" + t.cert_file + "|" + t.cert_pem + "|" + t.key_file +
         "|" + t.key_pem + "|" + (t.insecure ? "i" : "v") + "|" +
         std::to_string(connect_timeout.count()) + "|" + std::to_string(command_timeout.count());
}

RespConnection::RespConnection(asio::any_io_executor io, ConnConfig cfg, Mode mode)
    // Its own strand, not the first elector's: many electors share one connection.
    : strand_(net::own_strand(io)),
      cfg_(std::move(cfg)),
      mode_(mode),
      impl_(std::make_unique<Impl>(strand_)) {
  impl_->reset_reader();
}

RespConnection::~RespConnection() = default;

Result<std::shared_ptr<RespConnection>> RespConnection::create(asio::any_io_executor io,
                                                               ConnConfig cfg, Mode mode) {
  std::shared_ptr<net::TlsContext> tls;
  if (cfg.tls) {
    auto t = net::TlsContext::create(cfg.tls_opts);
    if (!t.ok()) return t.status;
    tls = std::move(t.value);
  }
  std::shared_ptr<RespConnection> c(new RespConnection(std::move(io), std::move(cfg), mode));
  c->impl_->tls = std::move(tls);
  return c;
}

void RespConnection::close_socket() {
  boost::system::error_code ec;
  impl_->resolver.cancel();
  if (impl_->t) {
    impl_->t->sock.shutdown(tcp::socket::shutdown_both, ec);
    impl_->t->sock.close(ec);
  }
  impl_->write_busy = false;
  impl_->out.clear();
}

void RespConnection::start_connect() {
  state_ = State::connecting;
  const uint64_t gen = ++gen_;
  impl_->connect_deadline = Clock::now() + cfg_.connect_timeout;
  arm_tick();
  impl_->reset_reader();
  impl_->resolver.async_resolve(
      cfg_.host, std::to_string(cfg_.port),
      asio::bind_executor(strand_, [self = shared_from_this(), gen](
                                       const boost::system::error_code& ec,
                                       tcp::resolver::results_type results) {
        if (gen != self->gen_) return;
        if (ec) {
          self->fail(make_error(Errc::unreachable, "cannot resolve the Redis host '" +
                                                       self->cfg_.host + "': " + ec.message() +
                                                       "; check the host in the URL"));
          return;
        }
        auto t = std::make_shared<Impl::Transport>(self->strand_);
        self->impl_->t = t;
        asio::async_connect(
            t->sock, results,
            asio::bind_executor(self->strand_, [self, gen, t](const boost::system::error_code& ec2,
                                                              const tcp::endpoint&) {
              if (gen != self->gen_) return;
              if (ec2) {
                self->fail(make_error(Errc::unreachable,
                                      "cannot connect to Redis at " + self->cfg_.display + ": " +
                                          ec2.message() +
                                          "; check the host and port in the URL and that "
                                          "redis-server is running"));
                return;
              }
              self->on_connected();
            }));
      }));
}

void RespConnection::on_connected() {
  boost::system::error_code ec;
  auto t = impl_->t;
  t->sock.set_option(tcp::no_delay(true), ec);
  if (!cfg_.tls) {
    start_handshake();
    return;
  }
  t->tls = std::make_unique<ssl::stream<tcp::socket&>>(t->sock, impl_->tls->native());
  if (Status s = impl_->tls->prepare(t->tls->native_handle(), cfg_.host); !s.ok()) {
    fail(s);
    return;
  }
  const uint64_t gen = gen_;
  t->tls->async_handshake(
      ssl::stream_base::client,
      asio::bind_executor(strand_, [self = shared_from_this(), gen,
                                    t](const boost::system::error_code& ec) {
        if (gen != self->gen_) return;
        if (ec) {
          std::string hint =
              self->cfg_.tls_opts.insecure
                  ? ""
                  : "; if the server's certificate is signed by a private CA, give its file with "
                    "backend option tls_ca; if the server wants a client certificate, set tls_cert "
                    "and tls_key";
          if (ec == asio::error::eof || ec == asio::ssl::error::stream_truncated)
            hint =
                self->answered_before_
                    ? "; the server closed the connection it had answered on before (a "
                      "restart, a proxy or a network fault)"
                    : "; the server closed the connection: is this a TLS port (rediss://) at all?";
          self->fail(make_error(Errc::unreachable, "TLS handshake with Redis at " +
                                                       self->cfg_.display +
                                                       " failed: " + ec.message() + hint));
          return;
        }
        self->start_handshake();
      }));
}

void RespConnection::start_handshake() {
  state_ = State::handshaking;
  Handshake h = plan_handshake(cfg_, mode_ == Mode::command);
  impl_->handshake = std::move(h.steps);
  impl_->handshake_at = 0;
  impl_->out = std::move(h.wire);
  do_write();
  do_read();
}

void RespConnection::handle_handshake_reply(Reply r) {
  const HandshakeStep step = impl_->handshake[impl_->handshake_at++];
  HandshakeReply h = check_handshake_reply(step, r, cfg_);
  if (!h.error.ok()) return fail(std::move(h.error));
  if (h.has_info) {
    // Uptime counts whole seconds: the server started at most now - up seconds ago.
    server_started_ = Clock::now() - std::chrono::seconds(h.uptime_s);
    // A different run_id: the server restarted under us and may have lost its data.
    if (!run_id_.empty() && h.run_id != run_id_) restart_seen_ = true;
    run_id_ = std::move(h.run_id);
  }
  if (impl_->handshake_at == impl_->handshake.size()) become_ready();
}

void RespConnection::become_ready() {
  state_ = State::ready;
  answered_before_ = true;
  backoff_.reset();
  const char* kind = mode_ == Mode::subscriber ? "subscriber" : "command";
  note_connected("redis", !last_error_.ok());
  if (last_error_.ok())
    log(LogLevel::info, "redis", std::string("connected to ") + cfg_.display + " (" + kind + ")");
  else
    log(LogLevel::warn, "redis",
        std::string("reconnected to ") + cfg_.display + " (" + kind +
            ") after: " + last_error_.message);
  last_error_ = Status{};
  if (mode_ == Mode::subscriber) {
    if (on_ready_) on_ready_();
    return;
  }
  flush();
}

void RespConnection::schedule_reconnect() {
  if (state_ == State::closed) return;
  // The one backoff policy (net::kBackoff); a command connection reconnects only when a request
  // waits.
  impl_->deadlines->cancel_slot(impl_->backoff_id);
  impl_->backoff_id = impl_->deadlines->add_after(backoff_.next(), [w = weak_from_this()] {
    auto self = w.lock();
    if (!self) return;
    self->impl_->backoff_id = 0;
    if (self->state_ != State::backoff) return;
    if (self->mode_ == Mode::subscriber || !self->impl_->queued.empty())
      self->start_connect();
    else
      self->state_ = State::idle;
  });
}

}  // namespace tenure::backends::redis
