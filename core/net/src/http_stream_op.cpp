// A streamed response: connect (failing over like a request), send, then read the body piece by
// piece and hand each complete JSON value to the caller. The stream keeps its own connection.
#include <limits>
#include <optional>

#include "http_op.hpp"
#include "tenure/net/json_stream.hpp"

namespace tenure::net::detail {

namespace {

constexpr size_t kErrorBodyLimit = 64 * 1024;  // a non-2xx answer's body, kept for its message

class StreamOp : public HttpOp, public HttpStream {
 public:
  StreamOp(std::shared_ptr<ClientCore> core, HttpRequest req, StreamHandlers h)
      : HttpOp(std::move(core), std::move(req)), h_(std::move(h)), splitter_(req_.max_body) {}

  void start() {
    if (core_->closed.load()) return void(finished_ = true);
    core_->add_op(shared_from_this());
    ep_ = core_->preferred;
    arm(req_.timeout, "waiting for the response headers");
    begin();
  }

  void close() override {
    closed_->store(true);
    asio::post(core_->strand, [self = me()] { self->shutdown(); });
  }

  void shutdown() override {
    if (finished_) return;
    finished_ = true;
    stop_io();
  }

 private:
  std::shared_ptr<StreamOp> me() { return std::static_pointer_cast<StreamOp>(shared_from_this()); }

  // One deadline at a time: first for the headers, then for silence between body bytes.
  void arm(milliseconds d, const char* what) {
    core_->deadlines->cancel(deadline_id_);
    deadline_id_ = 0;
    if (d.count() <= 0) return;
    std::weak_ptr<StreamOp> weak = me();
    deadline_id_ = core_->deadlines->add_after(d, [weak, d, what] {
      auto self = weak.lock();
      if (!self || self->finished_) return;
      self->end(make_error(Errc::timeout, "the stream from " + self->where() + " (" + self->path() +
                                              ") got nothing within " + std::to_string(d.count()) +
                                              " ms (" + what + ")"));
    });
  }

  // Streams keep their connection for long: a new one each, outside the request cap.
  void attempt() override {
    ++gen_;
    connect(core_->opts.connect_timeout, [this] { send(); });
  }

  void fail(Status why) override { end(std::move(why)); }

  void send() {
    HttpHeaders auth_headers;
    auto& auth = core_->opts.auth;
    if (auth && !req_.skip_auth) {
      if (Status s = auth->apply(auth_headers); !s.ok()) return end(std::move(s));
    }
    wire_ = build_request(*core_, req_, endpoint(), auth_headers);
    http::async_write(*conn_->stream, wire_, [self = me(), g = gen_](beast::error_code ec, size_t) {
      if (self->finished_ || g != self->gen_) return;
      if (ec) return self->broken(ec, "sending the request");
      self->parser_.emplace();
      // Each value is bounded by the splitter instead. (Not boost::none: Boost 1.74's parser
      // then refuses every Content-Length body.)
      self->parser_->body_limit(std::numeric_limits<std::uint64_t>::max());
      http::async_read_header(*self->conn_->stream, self->conn_->buf, *self->parser_,
                              [self, g](beast::error_code ec, size_t) {
                                if (self->finished_ || g != self->gen_) return;
                                if (ec) return self->broken(ec, "waiting for the response headers");
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
      if (!refresh_then(true))
        end(make_error(Errc::auth_failed, core_->opts.service + " at " + endpoint().describe() +
                                              " answered HTTP 401 (check the credentials)"));
      return;
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
                          [self = me(), g = gen_](beast::error_code ec, size_t) {
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

  void end(Status s) {
    if (finished_) return;
    finished_ = true;
    stop_io();
    if (h_.on_end)
      core_->post_user(
          closed_, [on = std::move(h_.on_end), s = std::move(s)]() mutable { on(std::move(s)); });
  }

  StreamHandlers h_;
  std::shared_ptr<std::atomic<bool>> closed_ = std::make_shared<std::atomic<bool>>(false);
  // Client strand only:
  JsonStreamSplitter splitter_;
  bool head_seen_ = false;
  int status_ = 0;
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
