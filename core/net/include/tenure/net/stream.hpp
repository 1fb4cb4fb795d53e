// A connected byte stream, plain TCP or TLS over TCP, plus resolve-and-connect with one deadline.
// Stream models Asio's AsyncReadStream/AsyncWriteStream, so Beast (HTTP) and hand-written
// framing (RESP) both run over it without knowing whether TLS is on.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "tenure/errors.hpp"
#include "tenure/net/endpoint.hpp"
#include "tenure/net/tls.hpp"

namespace tenure::net {

using std::chrono::milliseconds;
using tcp = boost::asio::ip::tcp;

class Stream {
 public:
  using executor_type = boost::asio::any_io_executor;
  using TlsStream = boost::asio::ssl::stream<tcp::socket>;

  explicit Stream(tcp::socket sock) : tcp_(std::move(sock)) {}
  Stream(tcp::socket sock, std::shared_ptr<TlsContext> tls);  // TLS, before the handshake
  Stream(Stream&&) = default;
  Stream& operator=(Stream&&) = default;

  executor_type get_executor() { return socket().get_executor(); }
  bool is_tls() const { return tls_ != nullptr; }
  tcp::socket& socket() { return tls_ ? tls_->next_layer() : *tcp_; }
  TlsStream* tls_stream() { return tls_.get(); }
  // Closes the socket (no TLS close_notify): pending operations end with operation_aborted.
  void close();

  template <class Buffers, class Handler>
  void async_read_some(const Buffers& b, Handler&& h) {
    if (tls_)
      tls_->async_read_some(b, std::forward<Handler>(h));
    else
      tcp_->async_read_some(b, std::forward<Handler>(h));
  }
  template <class Buffers, class Handler>
  void async_write_some(const Buffers& b, Handler&& h) {
    if (tls_)
      tls_->async_write_some(b, std::forward<Handler>(h));
    else
      tcp_->async_write_some(b, std::forward<Handler>(h));
  }

 private:
  std::optional<tcp::socket> tcp_;
  std::shared_ptr<TlsContext> keep_ctx_;
  std::unique_ptr<TlsStream> tls_;
};

// Resolves ep.host (names and literals), connects to its addresses in turn and, when ep.tls,
// runs the TLS handshake (SNI, verification from `tls`), all within `timeout`. The stream's I/O
// objects are bound to `ex`, and the connect's own handlers run there too: pass a strand (or a
// single-threaded executor). done runs on `ex` exactly once, never inline. `service` names the
// server in messages ("etcd"). Errors:
//   Errc::timeout      "etcd at https://h:2379: connect did not finish within 2000 ms (...)"
//   Errc::unreachable  resolve failure, refused, unreachable network, TLS handshake failure
//                      (certificate errors say which check failed and which option to fix)
// Cancel by calling the returned function (done then runs with Errc::timeout "cancelled").
using ConnectDone = std::function<void(Result<std::shared_ptr<Stream>>)>;
std::function<void()> async_connect(boost::asio::any_io_executor ex, const Endpoint& ep,
                                    std::shared_ptr<TlsContext> tls, milliseconds timeout,
                                    std::string service, ConnectDone done);

}  // namespace tenure::net
