// Internal: what a request and a stream share: the endpoint they are on, connecting, moving to
// the next endpoint, dropping a connection, fetching credentials. All on the client's strand;
// `gen_` tells handlers of an abandoned attempt (closed connection, next endpoint) to stand down.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "http_core.hpp"

namespace tenure::net::detail {

class HttpOp : public ClientOp, public std::enable_shared_from_this<HttpOp> {
 protected:
  HttpOp(std::shared_ptr<ClientCore> core, HttpRequest req);

  // Try ep_ (again): the first attempt, after failover and after fresh credentials.
  virtual void attempt() = 0;
  // The end, with an error: the caller hears it once.
  virtual void fail(Status why) = 0;

  const Endpoint& endpoint() const { return core_->opts.endpoints[ep_]; }
  std::string where() const { return core_->where(ep_); }
  std::string path() const { return req_.target.substr(0, req_.target.find('?')); }

  // The first attempt, after fetching credentials if the auth hook wants fresh ones.
  void begin();
  // Opens a connection to ep_ within `timeout`; then conn_ is set and connected() runs. A
  // connect failure releases `slot_` and moves to the next endpoint.
  void connect(milliseconds timeout, std::function<void()> connected);
  // Connect failures and (for idempotent requests) broken connections move on: each endpoint
  // is tried at most once per op, starting with the one that answered last.
  void next_endpoint(Status why);
  // A read or write may still be pending on the connection: closing cancels it, but its
  // handler runs later and touches the stream and buffer, so the closed connection stays alive
  // as long as this op (every handler holds the op). Frees its place under the client's cap.
  void drop_conn();
  // Ends all I/O of this op: pending connect, connection, deadline, place in the queue.
  void stop_io();
  // Fetch credentials, then attempt() again from the preferred endpoint. false: the auth hook
  // has none (the caller fails).
  bool refresh_then(bool after_401);

  std::shared_ptr<ClientCore> core_;
  HttpRequest req_;
  // Client strand only:
  bool finished_ = false;
  bool refreshed_ = false;
  bool slot_ = false;  // a place under the endpoint's connection cap, held while connecting
  uint64_t gen_ = 0;
  size_t ep_ = 0;
  size_t tried_ = 0;
  DeadlineQueue::Id deadline_id_ = 0;
  std::function<void()> cancel_connect_;
  std::unique_ptr<Conn> conn_;
  std::vector<std::unique_ptr<Conn>> retired_;  // closed, maybe with a handler still pending
};

}  // namespace tenure::net::detail
