#include "redis/resp_connection.hpp"

#include "tenure/local_file.hpp"
#include "tenure/log.hpp"
#include "tenure/process_metrics.hpp"

#include <hiredis/hiredis.h>

#include <boost/asio/bind_executor.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <cstdlib>
#include <cstring>
#include <deque>

namespace tenure::backends::redis {

namespace asio = boost::asio;
namespace ssl = boost::asio::ssl;
using tcp = asio::ip::tcp;

bool Reply::starts_with(const char* code) const {
  return (type == Type::error || type == Type::status) && str.rfind(code, 0) == 0;
}

std::string Reply::as_string() const {
  switch (type) {
    case Type::string:
    case Type::status:
    case Type::error:
      return str;
    case Type::integer:
      return std::to_string(integer);
    default:
      return {};
  }
}

long long Reply::as_int(long long fallback) const {
  if (type == Type::integer) return integer;
  if (type == Type::string || type == Type::status) {
    char* end = nullptr;
    long long v = std::strtoll(str.c_str(), &end, 10);
    if (end != str.c_str() && *end == '\0') return v;
  }
  return fallback;
}

std::string ConnConfig::pool_key() const {
  return (tls ? "rediss|" : "redis|") + host + "|" + std::to_string(port) + "|" + user + "|" +
         (has_password ? "p:" + password : std::string("-")) + "|" + std::to_string(db) + "|" +
         tls_ca + "|" + tls_cert + "|" + tls_key + "|" + (tls_insecure ? "i" : "v") + "|" +
         std::to_string(connect_timeout.count()) + "|" + std::to_string(command_timeout.count());
}

Reply reply_from_hiredis(const redisReply* r) {
  Reply out;
  switch (r->type) {
    case REDIS_REPLY_STRING:
      out.type = Reply::Type::string;
      out.str.assign(r->str, r->len);
      break;
    case REDIS_REPLY_STATUS:
      out.type = Reply::Type::status;
      out.str.assign(r->str, r->len);
      break;
    case REDIS_REPLY_ERROR:
      out.type = Reply::Type::error;
      out.str.assign(r->str, r->len);
      break;
    case REDIS_REPLY_INTEGER:
      out.type = Reply::Type::integer;
      out.integer = r->integer;
      break;
    case REDIS_REPLY_ARRAY:
      out.type = Reply::Type::array;
      out.elements.reserve(r->elements);
      for (size_t i = 0; i < r->elements; ++i)
        out.elements.push_back(reply_from_hiredis(r->element[i]));
      break;
    default:
      out.type = Reply::Type::nil;
  }
  return out;
}

namespace {

std::string format_command(const std::vector<std::string>& argv) {
  std::vector<const char*> ptrs;
  std::vector<size_t> lens;
  ptrs.reserve(argv.size());
  lens.reserve(argv.size());
  for (const auto& a : argv) {
    ptrs.push_back(a.data());
    lens.push_back(a.size());
  }
  char* cmd = nullptr;
  int len = redisFormatCommandArgv(&cmd, static_cast<int>(argv.size()), ptrs.data(), lens.data());
  std::string out;
  if (len > 0 && cmd) out.assign(cmd, static_cast<size_t>(len));
  redisFreeCommand(cmd);
  return out;
}

bool is_ip_literal(const std::string& host) {
  boost::system::error_code ec;
  asio::ip::make_address(host, ec);
  return !ec;
}

}  // namespace

struct RespConnection::Impl {
  struct Request {
    std::string wire;
    Callback cb;
    Clock::time_point deadline;
    milliseconds min_uptime{0};
  };
  struct Inflight {
    Callback cb;
    Clock::time_point deadline;
  };

  explicit Impl(const asio::strand<asio::any_io_executor>& s)
      : resolver(s), tick(s), backoff_timer(s) {}

  std::shared_ptr<ssl::context> sslctx;
  tcp::resolver resolver;
  // The socket and its TLS stream. Handlers hold the shared_ptr, so a transport outlives the
  // operations started on it even after a reconnect replaced it.
  struct Transport {
    explicit Transport(const asio::strand<asio::any_io_executor>& s) : sock(s) {}
    tcp::socket sock;
    std::unique_ptr<ssl::stream<tcp::socket&>> tls;
  };
  std::shared_ptr<Transport> t;
  asio::steady_timer tick;
  asio::steady_timer backoff_timer;
  bool tick_armed = false;
  bool backoff_armed = false;
  redisReader* reader = nullptr;
  std::array<char, 16384> rbuf{};
  std::deque<Request> queued;     // not written yet
  std::deque<Inflight> inflight;  // written, awaiting their replies in order
  std::string out;                // to write after the current write
  std::string writing;            // being written
  bool write_busy = false;
  Clock::time_point connect_deadline{};
  int handshake_left = 0;
  int handshake_step = 0;
  std::vector<int> handshake_kinds;  // 0 AUTH, 1 SELECT, 2 INFO, 3 PING

  ~Impl() {
    if (reader) redisReaderFree(reader);
  }
  void reset_reader() {
    if (reader) redisReaderFree(reader);
    reader = redisReaderCreate();
  }
};

static asio::any_io_executor base_executor(const asio::any_io_executor& io) {
  // Run the connection on its own strand of the underlying io_context, not on the strand of the
  // first elector that asked for it: many electors share one connection.
  using IoEx = asio::io_context::executor_type;
  if (auto* st = io.target<asio::strand<IoEx>>()) return st->get_inner_executor();
  if (auto* st = io.target<asio::strand<asio::any_io_executor>>()) return st->get_inner_executor();
  if (auto* ex = io.target<IoEx>()) return *ex;
  return io;
}

RespConnection::RespConnection(asio::any_io_executor io, ConnConfig cfg, Mode mode)
    : strand_(asio::make_strand(base_executor(io))),
      cfg_(std::move(cfg)),
      mode_(mode),
      impl_(std::make_unique<Impl>(strand_)) {
  impl_->reset_reader();
}

RespConnection::~RespConnection() = default;

Result<std::shared_ptr<RespConnection>> RespConnection::create(asio::any_io_executor io,
                                                               ConnConfig cfg, Mode mode) {
  std::shared_ptr<ssl::context> sslctx;
  if (cfg.tls) {
    sslctx = std::make_shared<ssl::context>(ssl::context::tls_client);
    boost::system::error_code ec;
    sslctx->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                            ssl::context::no_sslv3 | ssl::context::no_tlsv1 |
                            ssl::context::no_tlsv1_1,
                        ec);
    if (cfg.tls_insecure) {
      sslctx->set_verify_mode(ssl::verify_none, ec);
    } else {
      sslctx->set_verify_mode(ssl::verify_peer, ec);
      if (!cfg.tls_ca.empty()) {
        // Read by us, not by OpenSSL: read_regular_file refuses a FIFO instead of blocking.
        auto pem = read_regular_file("tls_ca", cfg.tls_ca);
        if (!pem.ok()) return pem.status;
        sslctx->add_certificate_authority(asio::buffer(pem.value), ec);
        if (ec)
          return make_error(Errc::invalid_argument,
                            "cannot load the TLS CA file '" + cfg.tls_ca +
                                "' (backend option tls_ca): " + ec.message());
      } else {
        sslctx->set_default_verify_paths(ec);
      }
    }
    if (!cfg.tls_cert.empty() || !cfg.tls_key.empty()) {
      if (cfg.tls_cert.empty() || cfg.tls_key.empty())
        return make_error(
            Errc::invalid_argument,
            "a TLS client certificate needs both backend options tls_cert and tls_key");
      auto cert = read_regular_file("tls_cert", cfg.tls_cert);
      if (!cert.ok()) return cert.status;
      auto key = read_regular_file("tls_key", cfg.tls_key);
      if (!key.ok()) return key.status;
      sslctx->use_certificate_chain(asio::buffer(cert.value), ec);
      if (ec)
        return make_error(Errc::invalid_argument, "cannot load the TLS client certificate '" +
                                                      cfg.tls_cert +
                                                      "' (tls_cert): " + ec.message());
      sslctx->use_private_key(asio::buffer(key.value), ssl::context::pem, ec);
      if (ec)
        return make_error(Errc::invalid_argument, "cannot load the TLS client key '" + cfg.tls_key +
                                                      "' (tls_key): " + ec.message());
    }
  }
  std::shared_ptr<RespConnection> c(new RespConnection(std::move(io), std::move(cfg), mode));
  c->impl_->sslctx = std::move(sslctx);
  return c;
}

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
    self->impl_->tick.cancel();
    self->impl_->backoff_timer.cancel();
    self->impl_->queued.clear();
    self->impl_->inflight.clear();
    self->on_push_ = nullptr;
    self->on_ready_ = nullptr;
    self->on_down_ = nullptr;
  });
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
  t->tls = std::make_unique<ssl::stream<tcp::socket&>>(t->sock, *impl_->sslctx);
  if (!cfg_.tls_insecure) t->tls->set_verify_callback(ssl::host_name_verification(cfg_.host));
  if (!is_ip_literal(cfg_.host))
    SSL_set_tlsext_host_name(t->tls->native_handle(), cfg_.host.c_str());
  const uint64_t gen = gen_;
  t->tls->async_handshake(
      ssl::stream_base::client,
      asio::bind_executor(strand_, [self = shared_from_this(), gen,
                                    t](const boost::system::error_code& ec) {
        if (gen != self->gen_) return;
        if (ec) {
          std::string hint =
              self->cfg_.tls_insecure
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
  impl_->handshake_kinds.clear();
  std::string wire;
  if (cfg_.has_password) {
    if (cfg_.user.empty())
      wire += format_command({"AUTH", cfg_.password});
    else
      wire += format_command({"AUTH", cfg_.user, cfg_.password});
    impl_->handshake_kinds.push_back(0);
  }
  if (cfg_.db != 0) {
    wire += format_command({"SELECT", std::to_string(cfg_.db)});
    impl_->handshake_kinds.push_back(1);
  }
  if (mode_ == Mode::command) {
    wire += format_command({"INFO", "server"});
    impl_->handshake_kinds.push_back(2);
  }
  wire += format_command({"PING"});
  impl_->handshake_kinds.push_back(3);
  impl_->handshake_step = 0;
  impl_->out = std::move(wire);
  do_write();
  do_read();
}

void RespConnection::handle_handshake_reply(Reply r) {
  const int kind = impl_->handshake_kinds[impl_->handshake_step++];
  const std::string who = "Redis at " + cfg_.display;
  const std::string user = cfg_.user.empty() ? "default" : cfg_.user;
  if (r.is_error()) {
    if (r.starts_with("NOAUTH")) {
      fail(make_error(Errc::auth_failed,
                      who + " requires a password (NOAUTH): put it in the URL, "
                            "redis://:PASSWORD@host:port or redis://USER:PASSWORD@host:port"));
      return;
    }
    if (r.starts_with("WRONGPASS")) {
      fail(make_error(Errc::auth_failed,
                      who + " refused the password for user '" + user +
                          "' (WRONGPASS): check the user and password in the URL, and that the "
                          "user is enabled (ACL SETUSER " +
                          user + " on)"));
      return;
    }
    if (r.starts_with("NOPERM")) {
      if (kind == 2) {  // INFO refused: run without the restart guard
        return;
      }
      fail(make_error(Errc::permission_denied,
                      who + ": user '" + user + "' may not run the handshake (" + r.str +
                          "); grant it: ACL SETUSER " + user + " +ping +select +info"));
      return;
    }
    if (kind == 0) {
      if (r.str.find("without any password configured") != std::string::npos) {
        fail(make_error(Errc::auth_failed,
                        who + " has no password set, but the URL carries one: remove the "
                              "password from the URL or configure requirepass on the server"));
        return;
      }
      fail(make_error(Errc::auth_failed, who + " refused AUTH: " + r.str +
                                             " (Redis before 6 knows no users: use "
                                             "redis://:PASSWORD@host:port)"));
      return;
    }
    if (kind == 1) {
      fail(make_error(Errc::backend, who + " refused SELECT " + std::to_string(cfg_.db) + ": " +
                                         r.str +
                                         "; use a database number the server has "
                                         "(the /DB part of the URL)"));
      return;
    }
    if (kind == 2) return;  // INFO unavailable (renamed?): no restart guard
    fail(make_error(Errc::backend, who + " answered PING with an error: " + r.str));
    return;
  }
  if (kind == 2) {
    const std::string& s = r.str;
    auto p = s.find("uptime_in_seconds:");
    auto q = s.find("run_id:");
    if (p != std::string::npos && q != std::string::npos) {
      long long up = std::atoll(s.c_str() + p + 18);
      std::string run_id = s.substr(q + 7, s.find_first_of("\r\n", q) - (q + 7));
      // Uptime counts whole seconds: the server started at most now - up seconds ago.
      server_started_ = Clock::now() - std::chrono::seconds(up);
      // A different run_id: the server restarted under us and may have lost its data.
      if (!run_id_.empty() && run_id != run_id_) restart_seen_ = true;
      run_id_ = run_id;
    }
  } else if (kind == 3) {
    if (!(r.type == Reply::Type::status && r.str == "PONG")) {
      fail(make_error(Errc::backend, who + " does not answer PING like Redis (got '" +
                                         r.as_string().substr(0, 60) +
                                         "'); check the port in the URL"));
      return;
    }
  }
  if (impl_->handshake_step == static_cast<int>(impl_->handshake_kinds.size())) become_ready();
}

void RespConnection::become_ready() {
  state_ = State::ready;
  answered_before_ = true;
  backoff_ = milliseconds(0);
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
      Status st = make_error(Errc::unreachable,
                             cfg_.display + " restarted " +
                                 std::to_string(std::chrono::duration_cast<milliseconds>(
                                                    now - server_started_)
                                                    .count()) +
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
  log(state_ == State::ready || backoff_.count() == 0 ? LogLevel::warn : LogLevel::debug, "redis",
      st.message + "; reconnecting with backoff");
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

void RespConnection::schedule_reconnect() {
  if (state_ == State::closed) return;
  // Backoff: 25 ms doubling to 1 s; a command connection reconnects only when a request waits.
  backoff_ = backoff_.count() == 0 ? milliseconds(25) : std::min(backoff_ * 2, milliseconds(1000));
  impl_->backoff_armed = true;
  impl_->backoff_timer.expires_after(backoff_);
  impl_->backoff_timer.async_wait(asio::bind_executor(
      strand_, [self = shared_from_this()](const boost::system::error_code& ec) {
        self->impl_->backoff_armed = false;
        if (ec || self->state_ != State::backoff) return;
        if (self->mode_ == Mode::subscriber || !self->impl_->queued.empty())
          self->start_connect();
        else
          self->state_ = State::idle;
      }));
}

void RespConnection::arm_tick() {
  if (impl_->tick_armed || state_ == State::closed) return;
  impl_->tick_armed = true;
  auto period = std::max(milliseconds(5), std::min(cfg_.command_timeout, cfg_.connect_timeout) / 8);
  impl_->tick.expires_after(period);
  impl_->tick.async_wait(asio::bind_executor(
      strand_, [self = shared_from_this()](const boost::system::error_code& ec) {
        self->impl_->tick_armed = false;
        if (ec || self->state_ == State::closed) return;
        self->on_tick();
      }));
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
