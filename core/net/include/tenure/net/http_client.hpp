// HTTP/1.1 client on Boost.Beast for etcd, Consul and Kubernetes: keep-alive connections per
// endpoint, failover across endpoints, per-request deadlines, bounded bodies, JSON, streamed
// responses delivered value by value, long polls with their own timeout and cancel, auth hooks.
//
// Threading: thread-safe; every method may be called from any thread. The client works on its own
// strand of the io_context behind the executor it was created with; every callback (request
// done, stream value, stream end) is posted to that executor, never run inline from the call.
//
// Exactly once: a request's done runs exactly once, unless the request was cancelled or the
// client closed first (then it never runs). A stream's on_end runs exactly once unless the stream
// or the client was closed first; on_value never runs after on_end.
//
// Failover and retries. Endpoints are tried in order, starting with the last one that worked:
//  - a connect failure (refused, unreachable, resolve error, TLS handshake, connect timeout)
//    moves to the next endpoint and tries again: the request never reached a server, so sending
//    it elsewhere cannot apply it twice. Every endpoint is tried at most once per request.
//  - a kept-alive connection found dead when writing, or closed by the server before any byte of
//    the response (the server's idle timeout racing our reuse), is retried once on a fresh
//    connection for any request: HTTP/1.1 servers close idle connections only between requests.
//  - a connection that dies after the request was sent (reset or EOF mid-response) moves to the
//    next endpoint only for idempotent requests (HttpRequest::idempotent; GET by default): a
//    non-idempotent write may have been applied, and sending it again could apply it twice, so
//    it fails with Errc::unreachable and the caller decides (e.g. re-reads, then retries).
//  - a request that finds every connection of its endpoint busy (max_conns_per_endpoint) waits
//    for one; its timeout runs while it waits, as it bounds the caller's wait for an answer. A
//    request that times out there was never sent, so it is always safe to send again.
//  - an HTTP error status (4xx/5xx) is an answer, never retried here (a 401 may be refreshed
//    once through HttpAuth). The request's deadline bounds all attempts together.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tenure/errors.hpp"
#include "tenure/net/endpoint.hpp"
#include "tenure/net/http_auth.hpp"
#include "tenure/net/http_message.hpp"
#include "tenure/net/tls.hpp"

namespace tenure::net {

struct HttpClientOptions {
  std::string service = "HTTP server";  // names the server in messages: "etcd", "Consul"
  std::vector<Endpoint> endpoints;      // at least one; https ones need `tls`
  std::shared_ptr<TlsContext> tls;
  std::shared_ptr<HttpAuth> auth;      // none: no credentials
  milliseconds connect_timeout{3000};  // per endpoint attempt (resolve + TCP + TLS)
  milliseconds request_timeout{5000};  // default for HttpRequest::timeout
  size_t max_body = size_t(4) << 20;   // default for HttpRequest::max_body (4 MiB)
  size_t max_idle_per_endpoint = 4;    // kept-alive idle connections kept per endpoint
  // Request connections open at once per endpoint (busy + idle; streams not counted). Beyond,
  // requests wait for one in FIFO order (HttpRequest::urgent first), their timeout running.
  size_t max_conns_per_endpoint = 64;
  std::string user_agent = "tenure";
};

using HttpDone = std::function<void(HttpResult)>;

// A request in flight. cancel(): done will not run (if it is already running on another thread,
// it finishes); the connection is closed. Safe from any thread, any number of times.
class HttpCall {
 public:
  virtual ~HttpCall() = default;
  virtual void cancel() = 0;
};

// A streamed response. close(): on_value/on_end will not run afterwards (unless already running
// on another thread); the connection is closed. Destroying the handle does NOT close it.
class HttpStream {
 public:
  virtual ~HttpStream() = default;
  virtual void close() = 0;
};

struct StreamHandlers {
  // The response's status and headers, once: on a 2xx before any value (body empty); on any
  // other status after its body was read (body filled, bounded), just before on_end. Optional.
  std::function<void(const HttpResponse& head)> on_head;
  // Each complete top-level JSON value of the body, in order.
  std::function<void(nlohmann::json value)> on_value;
  // The end: ok when the server ended the body cleanly between values; otherwise the error
  // (non-2xx answer with its HttpResponse fields in the message, cut mid-value: unreachable,
  // idle timeout, value over max_body, bad JSON). Exactly once unless closed.
  std::function<void(Status end)> on_end;
};

class HttpClient : public std::enable_shared_from_this<HttpClient> {
 public:
  // Errc::invalid_argument for no endpoints or an https endpoint without tls.
  static Result<std::shared_ptr<HttpClient>> create(boost::asio::any_io_executor ex,
                                                    HttpClientOptions opts);
  ~HttpClient();

  // Sends req (see the failover notes above); done gets the response or the error.
  std::shared_ptr<HttpCall> request(HttpRequest req, HttpDone done);
  // JSON convenience: sends `body` (if not null) as application/json.
  std::shared_ptr<HttpCall> request_json(std::string method, std::string target,
                                         const nlohmann::json& body, HttpDone done);
  // A streamed response (etcd watch and keep-alive, Kubernetes watch). The request's timeout
  // bounds connect + headers only; idle_timeout bounds silence afterwards; max_body bounds each
  // value. The stream keeps its own connection (never returned to the pool).
  std::shared_ptr<HttpStream> stream(HttpRequest req, StreamHandlers handlers);

  // Cancels everything: no callback of this client runs after close() returns (except ones
  // already running on other threads). Idle connections are closed. Idempotent. The destructor
  // closes too: keep the client alive as long as you want answers.
  void close();

  const HttpClientOptions& options() const;
  size_t idle_connections() const;  // pooled idle connections over all endpoints (tests)

 private:
  struct Impl;
  explicit HttpClient(std::shared_ptr<Impl> impl);
  std::shared_ptr<Impl> impl_;
};

}  // namespace tenure::net
