#include "tenure/net/stream.hpp"

#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>

namespace tenure::net {

namespace asio = boost::asio;
namespace ssl = boost::asio::ssl;

Stream::Stream(tcp::socket sock, std::shared_ptr<TlsContext> tls)
    : keep_ctx_(std::move(tls)),
      tls_(std::make_unique<TlsStream>(std::move(sock), keep_ctx_->native())) {}

void Stream::close() {
  boost::system::error_code ec;
  socket().shutdown(tcp::socket::shutdown_both, ec);
  socket().close(ec);
}

namespace {

// One connect attempt: resolve, try each address, TLS handshake; all on its own strand, the
// deadline timer closing whatever is in progress.
struct ConnectOp : std::enable_shared_from_this<ConnectOp> {
  enum class Stage { resolving, connecting, handshake };

  ConnectOp(asio::any_io_executor user, const Endpoint& e, std::shared_ptr<TlsContext> t,
            milliseconds to, std::string svc, ConnectDone d)
      : user_ex(std::move(user)),
        strand(user_ex),
        resolver(strand),
        socket(strand),
        timer(strand),
        ep(e),
        tls(std::move(t)),
        timeout(to),
        service(std::move(svc)),
        done(std::move(d)) {}

  asio::any_io_executor user_ex;
  asio::any_io_executor strand;  // the caller's strand: the stream's I/O runs on it
  tcp::resolver resolver;
  tcp::socket socket;
  std::shared_ptr<Stream> stream;  // during the handshake
  asio::steady_timer timer;
  Endpoint ep;
  std::shared_ptr<TlsContext> tls;
  milliseconds timeout;
  std::string service;
  ConnectDone done;
  Stage stage = Stage::resolving;
  bool finished = false;

  std::string where() const { return service + " at " + ep.describe(); }

  void start() {
    timer.expires_after(timeout);
    timer.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
      if (!ec) self->abort(false);
    });
    resolver.async_resolve(ep.host, std::to_string(ep.port),
                           [self = shared_from_this()](const boost::system::error_code& ec,
                                                       tcp::resolver::results_type results) {
                             self->on_resolved(ec, std::move(results));
                           });
  }

  void abort(bool cancelled) {
    if (finished) return;
    const char* what = stage == Stage::resolving    ? "resolving the host name"
                       : stage == Stage::connecting ? "TCP connect"
                                                    : "TLS handshake";
    boost::system::error_code ec;
    resolver.cancel();
    socket.close(ec);
    if (stream) stream->close();
    if (cancelled)
      return finish(make_error(Errc::timeout, "connecting to " + where() + " was cancelled"));
    finish(make_error(Errc::timeout,
                      "cannot connect to " + where() + ": no answer within " +
                          std::to_string(timeout.count()) + " ms (stuck in " + what +
                          "; check that the host is up and no firewall drops the packets)"));
  }

  void on_resolved(const boost::system::error_code& ec, tcp::resolver::results_type results) {
    if (finished) return;
    if (ec)
      return finish(make_error(Errc::unreachable, "cannot resolve the host of " + where() + ": " +
                                                      ec.message() +
                                                      " (check the host name and DNS)"));
    stage = Stage::connecting;
    asio::async_connect(
        socket, results,
        [self = shared_from_this()](const boost::system::error_code& ec, const tcp::endpoint&) {
          self->on_connected(ec);
        });
  }

  void on_connected(const boost::system::error_code& ec) {
    if (finished) return;
    if (ec)
      return finish(make_error(Errc::unreachable,
                               "cannot connect to " + where() + ": " + ec.message() +
                                   " (is the server running and listening on this port?)"));
    boost::system::error_code ignored;
    socket.set_option(tcp::no_delay(true), ignored);
    if (!ep.tls) return finish(std::make_shared<Stream>(std::move(socket)));
    stage = Stage::handshake;
    stream = std::make_shared<Stream>(std::move(socket), tls);
    if (Status s = tls->prepare(stream->tls_stream()->native_handle(), ep.host); !s.ok())
      return finish(s);
    stream->tls_stream()->async_handshake(
        ssl::stream_base::client, [self = shared_from_this()](const boost::system::error_code& ec) {
          self->on_handshake(ec);
        });
  }

  void on_handshake(const boost::system::error_code& ec) {
    if (finished) return;
    if (!ec) return finish(std::move(stream));
    std::string why = ec.message();
    const long v = SSL_get_verify_result(stream->tls_stream()->native_handle());
    const TlsOptions& o = tls->options();
    if (v != X509_V_OK) {
      why =
          std::string("the server's certificate was refused: ") + X509_verify_cert_error_string(v);
      if (v == X509_V_ERR_HOSTNAME_MISMATCH || v == X509_V_ERR_IP_ADDRESS_MISMATCH)
        why += " (it does not name '" + tls->peer_name(ep.host) + "'; set " + o.option_prefix +
               "server_name to the name it carries, or use that name in the endpoint)";
      else
        why += " (set " + o.name(o.ca_file_option, "ca_file") + " or " +
               o.name(o.ca_pem_option, "ca_pem") + " to the CA that signed it)";
    }
    stream->close();
    finish(make_error(Errc::unreachable, "TLS handshake with " + where() + " failed: " + why));
  }

  void finish(Result<std::shared_ptr<Stream>> r) {
    if (finished) return;
    finished = true;
    timer.cancel();
    asio::post(user_ex, [d = std::move(done), r = std::move(r)]() mutable { d(std::move(r)); });
  }
};

}  // namespace

std::function<void()> async_connect(asio::any_io_executor ex, const Endpoint& ep,
                                    std::shared_ptr<TlsContext> tls, milliseconds timeout,
                                    std::string service, ConnectDone done) {
  if (ep.tls && !tls) {
    asio::post(ex, [done = std::move(done), ep] {
      done(make_error(Errc::invalid_argument, "endpoint " + ep.describe() + " needs TLS settings"));
    });
    return [] {};
  }
  auto op = std::make_shared<ConnectOp>(ex, ep, std::move(tls), timeout, std::move(service),
                                        std::move(done));
  asio::post(op->strand, [op] { op->start(); });
  std::weak_ptr<ConnectOp> weak = op;
  return [weak] {
    if (auto op = weak.lock()) asio::post(op->strand, [op] { op->abort(true); });
  };
}

}  // namespace tenure::net
