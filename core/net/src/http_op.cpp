#include "http_op.hpp"

#include "tenure/log.hpp"

namespace tenure::net::detail {

HttpOp::HttpOp(std::shared_ptr<ClientCore> core, HttpRequest req)
    : core_(std::move(core)), req_(std::move(req)) {
  if (req_.timeout.count() <= 0) req_.timeout = core_->opts.request_timeout;
  if (req_.max_body == 0) req_.max_body = core_->opts.max_body;
}

void HttpOp::begin() {
  auto& auth = core_->opts.auth;
  if (!auth || req_.skip_auth || !auth->needs_refresh()) return attempt();
  if (!refresh_then(false))
    fail(make_error(Errc::auth_failed,
                    "no credentials for " + where() + " (the auth hook has none)"));
}

void HttpOp::connect(milliseconds timeout, std::function<void()> connected) {
  cancel_connect_ =
      async_connect(core_->strand, endpoint(), core_->opts.tls, timeout, core_->opts.service,
                    [self = shared_from_this(), g = gen_,
                     connected = std::move(connected)](Result<std::shared_ptr<Stream>> r) {
                      if (self->finished_ || g != self->gen_) return;
                      self->cancel_connect_ = nullptr;
                      const bool counted = std::exchange(self->slot_, false);
                      if (!r.ok()) {
                        if (counted) self->core_->release_slot(self->ep_);
                        return self->next_endpoint(r.status);
                      }
                      self->conn_ = std::make_unique<Conn>();
                      self->conn_->stream = std::move(r.value);
                      self->conn_->endpoint = self->ep_;
                      self->conn_->counted = counted;
                      connected();
                    });
}

void HttpOp::next_endpoint(Status why) {
  const size_t n = core_->opts.endpoints.size();
  if (++tried_ >= n) {
    if (n > 1)
      why.message = "no endpoint of " + core_->opts.service + " could be used (tried " +
                    std::to_string(n) + "); the last: " + why.message;
    return fail(std::move(why));
  }
  const size_t next = (ep_ + 1) % n;
  log(LogLevel::info, "net", why.message + "; trying " + core_->where(next));
  ep_ = next;
  attempt();
}

void HttpOp::drop_conn() {
  if (!conn_) return;
  conn_->close();
  if (std::exchange(conn_->counted, false)) core_->release_slot(conn_->endpoint);
  retired_.push_back(std::move(conn_));
}

void HttpOp::stop_io() {
  ++gen_;
  if (cancel_connect_) std::exchange(cancel_connect_, nullptr)();
  if (std::exchange(slot_, false)) core_->release_slot(ep_);
  drop_conn();
  core_->deadlines->cancel(deadline_id_);
  deadline_id_ = 0;
}

bool HttpOp::refresh_then(bool after_401) {
  refreshed_ = refreshed_ || after_401;
  const uint64_t g = ++gen_;
  // A strong reference: while the credentials are fetched nothing else keeps this alive.
  return core_->opts.auth->refresh([self = shared_from_this(), g](Status s) {
    asio::post(self->core_->strand, [self, g, s = std::move(s)]() mutable {
      if (self->finished_ || g != self->gen_) return;
      if (!s.ok()) return self->fail(std::move(s));
      self->tried_ = 0;
      self->attempt();
    });
  });
}

}  // namespace tenure::net::detail
