// One HTTP request: wait for a connection under the endpoint's cap (idle, or a new one), send,
// read a bounded response, fail over or retry as the notes in http_client.hpp say. All steps run
// on the client's strand; `gen_` tells handlers of an abandoned attempt to stand down.
#include <optional>

#include "http_op.hpp"

namespace tenure::net::detail {

namespace {

class RequestOp : public HttpOp, public HttpCall, public ConnWaiter {
 public:
  RequestOp(std::shared_ptr<ClientCore> core, HttpRequest req, HttpDone done)
      : HttpOp(std::move(core), std::move(req)), done_(std::move(done)) {}

  void start() {
    if (core_->closed.load()) return void(finished_ = true);
    core_->add_op(shared_from_this());
    deadline_ = SteadyClock::now() + req_.timeout;
    std::weak_ptr<HttpOp> weak = shared_from_this();
    deadline_id_ = core_->deadlines->add(deadline_, [weak] {
      if (auto self = weak.lock()) static_cast<RequestOp&>(*self).on_deadline();
    });
    ep_ = core_->preferred;
    begin();
  }

  void cancel() override {
    cancelled_->store(true);
    asio::post(core_->strand, [self = me()] { self->shutdown(); });
  }

  void shutdown() override {
    if (finished_) return;
    finished_ = true;
    stop_io();
  }

 private:
  std::shared_ptr<RequestOp> me() {
    return std::static_pointer_cast<RequestOp>(shared_from_this());
  }

  // A connection to ep_: an idle one, a new one, or (every one busy) wait for one.
  void attempt() override {
    ++gen_;
    stage_ = "waiting for a free connection (all busy)";
    waiting_ = true;
    std::unique_ptr<Conn> c;
    if (core_->want_conn(ep_, me(), req_.urgent, c)) granted(std::move(c));
  }

  bool waiting() const override { return waiting_ && !finished_; }

  void granted(std::unique_ptr<Conn> c) override {
    waiting_ = false;
    if (c && fresh_only_) {  // a retry after a stale connection: not another idle one
      c->counted = false;
      c->close();
      c.reset();
    }
    if (c) {
      conn_ = std::move(c);
      reused_ = true;
      return send();
    }
    slot_ = true;
    reused_ = false;
    stage_ = "connecting";
    const auto left = std::chrono::duration_cast<milliseconds>(deadline_ - SteadyClock::now());
    connect(std::max(milliseconds(1), std::min(core_->opts.connect_timeout, left)),
            [this] { send(); });
  }

  void send() {
    HttpHeaders auth_headers;
    auto& auth = core_->opts.auth;
    if (auth && !req_.skip_auth) {
      if (Status s = auth->apply(auth_headers); !s.ok()) return finish(std::move(s));
    }
    wire_ = build_request(*core_, req_, endpoint(), auth_headers);
    stage_ = "sending the request";
    http::async_write(*conn_->stream, wire_, [self = me(), g = gen_](beast::error_code ec, size_t) {
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
                            [self = me(), g = gen_](beast::error_code ec, size_t) {
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
      fresh_only_ = true;
      return attempt();
    }
    Status s = make_error(Errc::unreachable, "the connection to " + where() + " broke while " +
                                                 stage_ + ": " + ec.message());
    // After the request may have reached the server, only idempotent requests go elsewhere: a
    // write sent twice could be applied twice.
    if (is_idempotent(req_)) return next_endpoint(std::move(s));
    s.message += "; not retried, as the request may have been applied (" + req_.method +
                 " is not idempotent)";
    fail(std::move(s));
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
    if (resp.status == 401 && auth && !req_.skip_auth && !refreshed_ && refresh_then(true)) return;
    if (resp.status >= 200 && resp.status < 300) return finish(HttpResult(std::move(resp)));
    HttpResult r(std::move(resp));
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

  void fail(Status why) override { finish(std::move(why)); }

  void finish(HttpResult r) {
    if (finished_) return;
    finished_ = true;
    stop_io();
    core_->post_user(cancelled_,
                     [done = std::move(done_), r = std::move(r)]() mutable { done(std::move(r)); });
  }

  HttpDone done_;
  std::shared_ptr<std::atomic<bool>> cancelled_ = std::make_shared<std::atomic<bool>>(false);
  // Client strand only:
  bool waiting_ = false;
  bool reused_ = false;
  bool stale_retry_done_ = false;
  bool fresh_only_ = false;
  const char* stage_ = "queued";
  SteadyClock::time_point deadline_;
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
