// One HTTP request: pick an endpoint, reuse or open a connection, send, read a bounded response,
// fail over or retry as the notes in http_client.hpp say. All steps run on the client's strand;
// `gen` tells handlers of an abandoned attempt (closed connection, next endpoint) to stand down.
#include <optional>

#include "http_core.hpp"
#include "tenure/log.hpp"

namespace tenure::net::detail {

namespace {

class RequestOp : public ClientOp, public HttpCall, public std::enable_shared_from_this<RequestOp> {
 public:
  RequestOp(std::shared_ptr<ClientCore> core, HttpRequest req, HttpDone done)
      : core_(std::move(core)), req_(std::move(req)), done_(std::move(done)) {
    if (req_.timeout.count() <= 0) req_.timeout = core_->opts.request_timeout;
    if (req_.max_body == 0) req_.max_body = core_->opts.max_body;
  }

  void start() {
    if (core_->closed.load()) return void(finished_ = true);
    core_->add_op(shared_from_this());
    deadline_ = SteadyClock::now() + req_.timeout;
    std::weak_ptr<RequestOp> weak = shared_from_this();
    deadline_id_ = core_->deadlines->add(deadline_, [weak] {
      if (auto self = weak.lock()) self->on_deadline();
    });
    ep_ = core_->preferred;
    auto& auth = core_->opts.auth;
    if (auth && !req_.skip_auth && auth->needs_refresh()) return refresh_then(false);
    attempt();
  }

  void cancel() override {
    cancelled_->store(true);
    asio::post(core_->strand, [self = shared_from_this()] { self->shutdown(); });
  }

  void shutdown() override {
    if (finished_) return;
    finished_ = true;
    stop_io();
  }

 private:
  const Endpoint& endpoint() const { return core_->opts.endpoints[ep_]; }
  std::string where() const { return core_->where(ep_); }

  void attempt() {
    ++gen_;
    if (auto c = core_->take_idle(ep_)) {
      conn_ = std::move(c);
      reused_ = true;
      return send();
    }
    connect();
  }

  void connect() {
    reused_ = false;
    stage_ = "connecting";
    const auto left = std::chrono::duration_cast<milliseconds>(deadline_ - SteadyClock::now());
    const auto t = std::max(milliseconds(1), std::min(core_->opts.connect_timeout, left));
    cancel_connect_ =
        async_connect(core_->strand, endpoint(), core_->opts.tls, t, core_->opts.service,
                      [self = shared_from_this(), g = gen_](Result<std::shared_ptr<Stream>> r) {
                        if (self->finished_ || g != self->gen_) return;
                        self->cancel_connect_ = nullptr;
                        if (!r.ok()) return self->next_endpoint(r.status);
                        self->conn_ = std::make_unique<Conn>();
                        self->conn_->stream = std::move(r.value);
                        self->conn_->endpoint = self->ep_;
                        self->send();
                      });
  }

  // Connect failures and (for idempotent requests) broken connections move on: each endpoint
  // is tried at most once per request, starting with the one that answered last.
  void next_endpoint(Status why) {
    const size_t n = core_->opts.endpoints.size();
    if (++tried_ >= n) {
      if (n > 1)
        why.message = "no endpoint of " + core_->opts.service + " could be used (tried " +
                      std::to_string(n) + "); the last: " + why.message;
      return finish(std::move(why));
    }
    const size_t next = (ep_ + 1) % n;
    log(LogLevel::info, "net", why.message + "; trying " + core_->where(next));
    ep_ = next;
    attempt();
  }

  void send() {
    HttpHeaders auth_headers;
    auto& auth = core_->opts.auth;
    if (auth && !req_.skip_auth) {
      if (Status s = auth->apply(auth_headers); !s.ok()) return finish(std::move(s));
    }
    wire_ = build_request(*core_, req_, endpoint(), auth_headers);
    stage_ = "sending the request";
    http::async_write(*conn_->stream, wire_,
                      [self = shared_from_this(), g = gen_](beast::error_code ec, size_t) {
                        if (self->finished_ || g != self->gen_) return;
                        if (ec) return self->broken(ec, true);
                        self->read();
                      });
  }

  // Headers first, then the body: Boost 1.74's parser loses its body_limit error when the body
  // follows the header in the same read (eager mode), so the limit is checked on the header alone.
  void read() {
    stage_ = "waiting for the response";
    parser_.emplace();
    parser_->body_limit(req_.max_body);
    if (req_.method == "HEAD") parser_->skip(true);
    http::async_read_header(*conn_->stream, conn_->buf, *parser_,
                            [self = shared_from_this(), g = gen_](beast::error_code ec, size_t) {
                              if (self->finished_ || g != self->gen_) return;
                              if (ec) return self->read_failed(ec);
                              self->stage_ = "reading the response body";
                              http::async_read(*self->conn_->stream, self->conn_->buf,
                                               *self->parser_,
                                               [self, g](beast::error_code ec, size_t) {
                                                 if (self->finished_ || g != self->gen_) return;
                                                 if (ec) return self->read_failed(ec);
                                                 self->on_response();
                                               });
                            });
  }

  void read_failed(const beast::error_code& ec) {
    if (ec == http::error::body_limit) {
      drop_conn();
      return finish(make_error(Errc::backend, "the response of " + where() + " to " + req_.method +
                                                  " " + path() + " exceeds the body limit of " +
                                                  std::to_string(req_.max_body) + " bytes"));
    }
    broken(ec, !parser_->got_some());
  }

  void broken(const beast::error_code& ec, bool nothing_received) {
    drop_conn();
    // HTTP/1.1 servers close idle kept-alive connections only between requests, so a reused
    // connection that dies before any answer byte raced the server's idle close: the request
    // was not processed and goes once more, on a fresh connection, whatever its method.
    if (reused_ && nothing_received && !stale_retry_done_) {
      stale_retry_done_ = true;
      ++gen_;
      return connect();
    }
    Status s = make_error(Errc::unreachable, "the connection to " + where() + " broke while " +
                                                 stage_ + ": " + ec.message());
    // After the request may have reached the server, only idempotent requests go elsewhere: a
    // write sent twice could be applied twice.
    if (is_idempotent(req_)) return next_endpoint(std::move(s));
    s.message += "; not retried, as the request may have been applied (" + req_.method +
                 " is not idempotent)";
    finish(std::move(s));
  }

  void on_response() {
    auto msg = parser_->release();
    const bool keep = msg.keep_alive();
    HttpResponse resp = to_response(msg.base(), std::move(msg.body()), endpoint());
    parser_.reset();
    if (keep)
      core_->give_back(std::move(conn_));
    else
      drop_conn();
    core_->preferred = ep_;
    auto& auth = core_->opts.auth;
    if (resp.status == 401 && auth && !req_.skip_auth && !refreshed_)
      return refresh_then(true, std::move(resp));
    if (resp.status >= 200 && resp.status < 300) return finish(HttpResult(std::move(resp)));
    HttpResult r(std::move(resp));
    r.status = http_status_error(core_->opts.service, r.value);
    finish(std::move(r));
  }

  // Fetch credentials, then send (again). After a 401 this happens once per request.
  void refresh_then(bool after_401, HttpResponse resp401 = {}) {
    refreshed_ = refreshed_ || after_401;
    const uint64_t g = ++gen_;
    // A strong reference: while the credentials are fetched nothing else keeps this alive.
    const bool waiting = core_->opts.auth->refresh([self = shared_from_this(), g](Status s) {
      asio::post(self->core_->strand, [self, g, s = std::move(s)]() mutable {
        if (self->finished_ || g != self->gen_) return;
        if (!s.ok()) return self->finish(std::move(s));
        self->tried_ = 0;
        self->attempt();
      });
    });
    if (waiting) return;
    if (!after_401)
      return finish(make_error(Errc::auth_failed,
                               "no credentials for " + where() + " (the auth hook has none)"));
    HttpResult r(std::move(resp401));
    r.status = http_status_error(core_->opts.service, r.value);
    finish(std::move(r));
  }

  void on_deadline() {
    if (finished_) return;
    finish(make_error(Errc::timeout, "no answer from " + where() + " to " + req_.method + " " +
                                         path() + " within " +
                                         std::to_string(req_.timeout.count()) + " ms (" + stage_ +
                                         ")"));
  }

  std::string path() const { return req_.target.substr(0, req_.target.find('?')); }

  // A read or write may still be pending on the connection: closing cancels it, but its
  // handler runs later and touches the stream and buffer, so the closed connection stays alive
  // as long as this op (every handler holds the op).
  void drop_conn() {
    if (!conn_) return;
    conn_->close();
    retired_.push_back(std::move(conn_));
  }

  void stop_io() {
    ++gen_;
    if (cancel_connect_) std::exchange(cancel_connect_, nullptr)();
    drop_conn();
    core_->deadlines->cancel(deadline_id_);
  }

  void finish(HttpResult r) {
    if (finished_) return;
    finished_ = true;
    stop_io();
    core_->post_user(cancelled_,
                     [done = std::move(done_), r = std::move(r)]() mutable { done(std::move(r)); });
  }

  std::shared_ptr<ClientCore> core_;
  HttpRequest req_;
  HttpDone done_;
  std::shared_ptr<std::atomic<bool>> cancelled_ = std::make_shared<std::atomic<bool>>(false);
  // Client strand only:
  bool finished_ = false;
  uint64_t gen_ = 0;
  size_t ep_ = 0;
  size_t tried_ = 0;
  bool reused_ = false;
  bool stale_retry_done_ = false;
  bool refreshed_ = false;
  const char* stage_ = "queued";
  SteadyClock::time_point deadline_;
  DeadlineQueue::Id deadline_id_ = 0;
  std::function<void()> cancel_connect_;
  std::unique_ptr<Conn> conn_;
  std::vector<std::unique_ptr<Conn>> retired_;  // closed, maybe with a handler still pending
  http::request<http::string_body> wire_;
  std::optional<http::response_parser<http::string_body>> parser_;
};

}  // namespace

std::shared_ptr<HttpCall> start_request(const std::shared_ptr<ClientCore>& core, HttpRequest req,
                                        HttpDone done) {
  auto op = std::make_shared<RequestOp>(core, std::move(req), std::move(done));
  if (!core->closed.load()) asio::post(core->strand, [op] { op->start(); });
  return op;
}

}  // namespace tenure::net::detail
