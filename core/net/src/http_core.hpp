// Internal: the state an HttpClient shares with its requests and streams, and the wire helpers.
#pragma once

#include <atomic>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <deque>
#include <memory>
#include <vector>

#include "tenure/net/deadline_queue.hpp"
#include "tenure/net/http_client.hpp"
#include "tenure/net/stream.hpp"

namespace tenure::net::detail {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = boost::beast::http;
using SteadyClock = std::chrono::steady_clock;

struct Conn {
  std::shared_ptr<Stream> stream;
  beast::flat_buffer buf;
  size_t endpoint = 0;
  bool counted = false;  // holds a place under its endpoint's cap (request connections)
  SteadyClock::time_point idle_since{};
  void close() {
    if (stream) stream->close();
  }
};

// A request or stream the client can end on close(). shutdown() runs on the client's strand.
class ClientOp {
 public:
  virtual ~ClientOp() = default;
  virtual void shutdown() = 0;
};

// A request waiting for a connection while its endpoint is at max_conns_per_endpoint.
class ConnWaiter {
 public:
  virtual ~ConnWaiter() = default;
  virtual bool waiting() const = 0;  // false: gone meanwhile (deadline, cancel), skip it
  // On the strand: an idle connection, or null: a place to open a new one is reserved.
  virtual void granted(std::unique_ptr<Conn> c) = 0;
};

// The request connections of one endpoint: at most max_conns_per_endpoint open (busy + idle);
// beyond, requests wait in FIFO order, urgent ones first. The queue holds its waiters: nothing
// else keeps a queued request alive (callers may drop the HttpCall handle).
struct EndpointConns {
  std::vector<std::unique_ptr<Conn>> idle;
  size_t open = 0;
  std::deque<std::shared_ptr<ConnWaiter>> urgent, queue;
};

struct ClientCore : std::enable_shared_from_this<ClientCore> {
  ClientCore(asio::any_io_executor user, HttpClientOptions o);

  asio::any_io_executor user_ex;
  asio::strand<asio::any_io_executor> deliver;  // user_ex, serialized: callbacks keep their order
  asio::any_io_executor strand;                 // the client's own strand: all state below
  HttpClientOptions opts;
  std::shared_ptr<DeadlineQueue> deadlines;
  std::atomic<bool> closed{false};
  std::atomic<size_t> idle_total{0};

  std::vector<EndpointConns> eps;  // per endpoint
  size_t preferred = 0;            // the endpoint that answered last: tried first
  std::vector<std::weak_ptr<ClientOp>> ops;

  std::string where(size_t ep) const {
    return opts.service + " at " + opts.endpoints[ep].describe();
  }
  // A connection to ep for w: true with `out` set (an idle connection) or null (a place to
  // connect a new one is reserved: connect, or release_slot). false: queued; w->granted() later.
  bool want_conn(size_t ep, const std::shared_ptr<ConnWaiter>& w, bool urgent,
                 std::unique_ptr<Conn>& out);
  void give_back(std::unique_ptr<Conn> c);  // after a complete response on a kept-alive one
  void release_slot(size_t ep);             // a counted connection closed, or its connect failed
  void add_op(const std::shared_ptr<ClientOp>& op);
  void shutdown();  // strand: end every op, close idle connections
  // Runs fn on the user's executor unless the client is closed or *cancelled is set by then.
  template <class Fn>
  void post_user(std::shared_ptr<std::atomic<bool>> cancelled, Fn fn) {
    asio::post(deliver, [self = shared_from_this(), cancelled = std::move(cancelled),
                         fn = std::move(fn)]() mutable {
      if (self->closed.load() || (cancelled && cancelled->load())) return;
      fn();
    });
  }
};

// The request on the wire: Host, User-Agent, the caller's headers, credentials, body.
http::request<http::string_body> build_request(const ClientCore& core, const HttpRequest& req,
                                               const Endpoint& ep, const HttpHeaders& auth_headers);
// Status, headers and body as HttpResponse (Retry-After parsed).
HttpResponse to_response(const http::response_header<>& head, std::string body, const Endpoint& ep);
bool is_idempotent(const HttpRequest& req);

// Start an operation on the client (http_request_op.cpp, http_stream_op.cpp).
std::shared_ptr<HttpCall> start_request(const std::shared_ptr<ClientCore>& core, HttpRequest req,
                                        HttpDone done);
std::shared_ptr<HttpStream> start_stream(const std::shared_ptr<ClientCore>& core, HttpRequest req,
                                         StreamHandlers handlers);

}  // namespace tenure::net::detail
