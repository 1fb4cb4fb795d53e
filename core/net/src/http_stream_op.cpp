// A streamed response: connect (failing over like a request), send, then read the body piece by
// piece and hand each complete JSON value to the caller. The stream keeps its own connection.
#include <limits>
#include <optional>

#include "http_core.hpp"
#include "tenure/log.hpp"
#include "tenure/net/json_stream.hpp"

namespace tenure::net::detail {

namespace {

constexpr size_t kErrorBodyLimit = 64 * 1024;  // a non-2xx answer's body, kept for its message

class StreamOp : public ClientOp, public HttpStream, public std::enable_shared_from_this<StreamOp> {
 public:
  StreamOp(std::shared_ptr<ClientCore> core, HttpRequest req, StreamHandlers h)
      : core_(std::move(core)), req_(std::move(req)), h_(std::move(h)), splitter_(0) {
    if (req_.timeout.count() <= 0) req_.timeout = core_->opts.request_timeout;
    if (req_.max_body == 0) req_.max_body = core_->opts.max_body;
    splitter_ = JsonStreamSplitter(req_.max_body);
  }

  void start() {
    if (core_->closed.load()) return void(finished_ = true);
    core_->add_op(shared_from_this());
    ep_ = core_->preferred;
    arm(req_.timeout, "waiting for the response headers");
    auto& auth = core_->opts.auth;
    if (auth && !req_.skip_auth && auth->needs_refresh()) return refresh_then(false);
    connect();
  }

  void close() override {
    closed_->store(true);
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

  // One deadline at a time: first for the headers, then for silence between body bytes.
  void arm(milliseconds d, const char* what) {
    core_->deadlines->cancel(deadline_id_);
    deadline_id_ = 0;
    if (d.count() <= 0) return;
    std::weak_ptr<StreamOp> weak = shared_from_this();
    deadline_id_ = core_->deadlines->add_after(d, [weak, d, what] {
      auto self = weak.lock();
      if (!self || self->finished_) return;
      self->end(make_error(Errc::timeout, "the stream from " + self->where() + " (" + self->path() +
                                              ") got nothing within " + std::to_string(d.count()) +
                                              " ms (" + what + ")"));
    });
  }

  void connect() {
    ++gen_;
    cancel_connect_ =
        async_connect(core_->strand, endpoint(), core_->opts.tls, core_->opts.connect_timeout,
                      core_->opts.service,
                      [self = shared_from_this(), g = gen_](Result<std::shared_ptr<Stream>> r) {
                        if (self->finished_ || g != self->gen_) return;
                        self->cancel_connect_ = nullptr;
                        if (!r.ok()) return self->next_endpoint(r.status);
                        self->conn_ = std::make_unique<Conn>();
                        self->conn_->stream = std::move(r.value);
                        self->send();
                      });
  }

  void next_endpoint(Status why) {
    const size_t n = core_->opts.endpoints.size();
    if (++tried_ >= n) {
      if (n > 1)
        why.message = "no endpoint of " + core_->opts.service + " could be used (tried " +
                      std::to_string(n) + "); the last: " + why.message;
      return end(std::move(why));
    }
    ep_ = (ep_ + 1) % n;
    log(LogLevel::info, "net", why.message + "; trying " + where());
    connect();
  }

  void send() {
    HttpHeaders auth_headers;
    auto& auth = core_->opts.auth;
    if (auth && !req_.skip_auth) {
      if (Status s = auth->apply(auth_headers); !s.ok()) return end(std::move(s));
    }
    wire_ = build_request(*core_, req_, endpoint(), auth_headers);
    http::async_write(
        *conn_->stream, wire_, [self = shared_from_this(), g = gen_](beast::error_code ec, size_t) {
          if (self->finished_ || g != self->gen_) return;
          if (ec) return self->broken(ec, "sending the request");
          self->parser_.emplace();
          // Each value is bounded by the splitter instead. (Not boost::none: Boost 1.74's parser
          // then refuses every Content-Length body.)
          self->parser_->body_limit(std::numeric_limits<std::uint64_t>::max());
          http::async_read_header(*self->conn_->stream, self->conn_->buf, *self->parser_,
                                  [self, g](beast::error_code ec, size_t) {
                                    if (self->finished_ || g != self->gen_) return;
                                    if (ec)
                                      return self->broken(ec, "waiting for the response headers");
                                    self->on_head();
                                  });
        });
  }

  void broken(const beast::error_code& ec, const char* stage) {
    drop_conn();
    Status s = make_error(Errc::unreachable, "the stream from " + where() + " (" + path() +
                                                 ") broke while " + stage + ": " + ec.message());
    // Before any body byte was delivered, an idempotent stream request may open elsewhere.
    if (!head_seen_ && is_idempotent(req_)) return next_endpoint(std::move(s));
    if (splitter_.mid_value())
      s.message += " (cut inside a value; " + std::to_string(splitter_.buffered()) +
                   " bytes of it were dropped)";
    end(std::move(s));
  }

  void on_head() {
    const auto& h = parser_->get();
    status_ = int(h.result_int());
    auto& auth = core_->opts.auth;
    if (status_ == 401 && auth && !req_.skip_auth && !refreshed_) {
      drop_conn();
      return refresh_then(true);
    }
    head_seen_ = true;
    core_->preferred = ep_;
    if (ok()) {
      HttpResponse head = to_response(h.base(), {}, endpoint());
      if (h_.on_head)
        core_->post_user(closed_, [hd = h_.on_head, head = std::move(head)] { hd(head); });
      arm(req_.idle_timeout, "idle");
    }
    read_more();
  }

  bool ok() const { return status_ >= 200 && status_ < 300; }

  void read_more() {
    auto& body = parser_->get().body();
    body.data = chunk_;
    body.size = sizeof chunk_;
    http::async_read_some(*conn_->stream, conn_->buf, *parser_,
                          [self = shared_from_this(), g = gen_](beast::error_code ec, size_t) {
                            if (self->finished_ || g != self->gen_) return;
                            self->on_some(ec);
                          });
  }

  void on_some(beast::error_code ec) {
    const size_t got = sizeof chunk_ - parser_->get().body().size;
    if (ec == http::error::need_buffer) ec = {};
    if (got > 0) {
      if (ok()) {
        Status s = splitter_.feed(std::string_view(chunk_, got), [this](nlohmann::json v) {
          core_->post_user(closed_,
                           [on = h_.on_value, v = std::move(v)]() mutable { on(std::move(v)); });
        });
        if (!s.ok()) {
          s.message = "the stream from " + where() + " (" + path() + "): " + s.message;
          return end(std::move(s));
        }
        arm(req_.idle_timeout, "idle");
      } else if (error_body_.size() < kErrorBodyLimit) {
        error_body_.append(chunk_, std::min(got, kErrorBodyLimit - error_body_.size()));
      }
    }
    if (ec) return broken(ec, "reading the body");
    if (!parser_->is_done()) return read_more();
    if (!ok()) {
      HttpResponse r = to_response(parser_->get().base(), std::move(error_body_), endpoint());
      if (h_.on_head) core_->post_user(closed_, [hd = h_.on_head, r] { hd(r); });
      return end(http_status_error(core_->opts.service, r));
    }
    if (splitter_.mid_value())
      return end(make_error(
          Errc::backend, "the stream from " + where() + " (" + path() + ") ended inside a value (" +
                             std::to_string(splitter_.buffered()) + " bytes of it were dropped)"));
    end({});
  }

  void refresh_then(bool after_401) {
    refreshed_ = refreshed_ || after_401;
    const uint64_t g = ++gen_;
    // A strong reference: while the credentials are fetched nothing else keeps this alive.
    const bool waiting = core_->opts.auth->refresh([self = shared_from_this(), g](Status s) {
      asio::post(self->core_->strand, [self, g, s = std::move(s)]() mutable {
        if (self->finished_ || g != self->gen_) return;
        if (!s.ok()) return self->end(std::move(s));
        self->tried_ = 0;
        self->connect();
      });
    });
    if (waiting) return;
    end(make_error(Errc::auth_failed,
                   after_401 ? core_->opts.service + " at " + endpoint().describe() +
                                   " answered HTTP 401 (check the credentials)"
                             : "no credentials for " + where() + " (the auth hook has none)"));
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

  void end(Status s) {
    if (finished_) return;
    finished_ = true;
    stop_io();
    if (h_.on_end)
      core_->post_user(
          closed_, [on = std::move(h_.on_end), s = std::move(s)]() mutable { on(std::move(s)); });
  }

  std::shared_ptr<ClientCore> core_;
  HttpRequest req_;
  StreamHandlers h_;
  std::shared_ptr<std::atomic<bool>> closed_ = std::make_shared<std::atomic<bool>>(false);
  // Client strand only:
  JsonStreamSplitter splitter_;
  bool finished_ = false;
  bool head_seen_ = false;
  bool refreshed_ = false;
  int status_ = 0;
  uint64_t gen_ = 0;
  size_t ep_ = 0;
  size_t tried_ = 0;
  DeadlineQueue::Id deadline_id_ = 0;
  std::function<void()> cancel_connect_;
  std::unique_ptr<Conn> conn_;
  std::vector<std::unique_ptr<Conn>> retired_;  // closed, maybe with a handler still pending
  http::request<http::string_body> wire_;
  std::optional<http::response_parser<http::buffer_body>> parser_;
  std::string error_body_;
  char chunk_[16 * 1024];
};

}  // namespace

std::shared_ptr<HttpStream> start_stream(const std::shared_ptr<ClientCore>& core, HttpRequest req,
                                         StreamHandlers h) {
  auto op = std::make_shared<StreamOp>(core, std::move(req), std::move(h));
  if (!core->closed.load()) asio::post(core->strand, [op] { op->start(); });
  return op;
}

}  // namespace tenure::net::detail
