#include "http_test_server.hpp"

#include <strings.h>
#include <sys/socket.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <cstdio>
#include <fstream>
#include <map>
#include <sstream>
#include <stdexcept>

namespace tenure::testing {

namespace asio = boost::asio;
namespace http = boost::beast::http;
using tcp = asio::ip::tcp;

std::string HttpTestRequest::header(const std::string& name) const {
  for (const auto& [k, v] : headers)
    if (strcasecmp(k.c_str(), name.c_str()) == 0) return v;
  return {};
}

namespace {
std::string head(int code, const std::string& content_type,
                 const std::vector<std::pair<std::string, std::string>>& extra) {
  std::string reason = http::obsolete_reason(http::int_to_status(unsigned(code))).to_string();
  std::string h =
      "HTTP/1.1 " + std::to_string(code) + " " + (reason.empty() ? "Whatever" : reason) + "\r\n";
  if (!content_type.empty()) h += "Content-Type: " + content_type + "\r\n";
  for (const auto& [k, v] : extra) h += k + ": " + v + "\r\n";
  return h;
}
}  // namespace

Reply Reply::status(int code, std::string body, std::string content_type,
                    std::vector<std::pair<std::string, std::string>> extra) {
  Reply r;
  std::string h =
      head(code, body.empty() && content_type == "application/json" ? "" : content_type, extra);
  h += "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
  r.steps.push_back({std::move(h)});
  return r;
}

Reply Reply::chunked(int code, const std::vector<std::string>& chunks,
                     std::chrono::milliseconds gap, bool finish, std::string content_type) {
  Reply r;
  r.steps.push_back({head(code, content_type, {}) + "Transfer-Encoding: chunked\r\n\r\n"});
  for (const auto& c : chunks) {
    char len[32];
    std::snprintf(len, sizeof len, "%zx\r\n", c.size());
    r.steps.push_back({std::string(len) + c + "\r\n", gap});
  }
  if (finish) r.steps.push_back({"0\r\n\r\n", gap});
  return r;
}

Reply& Reply::then_pause(std::chrono::milliseconds d) {
  steps.push_back({"", d});
  return *this;
}
Reply& Reply::then_cut() {
  steps.push_back({"", {}, true});
  return *this;
}
Reply& Reply::then_write(std::string raw) {
  steps.push_back({std::move(raw)});
  return *this;
}

std::string TestPki::read(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TestPki TestPki::make(const std::string& dir) {
  TestPki p;
  p.dir = dir;
  auto run = [&](const std::string& what, const std::string& cmd) {
    const std::string full = "cd '" + dir + "' && " + cmd + " >>openssl.log 2>&1";
    if (std::system(full.c_str()) != 0)
      throw std::runtime_error("making the test PKI failed at: " + what + " (see " + dir +
                               "/openssl.log)");
  };
  std::system(("mkdir -p '" + dir + "'").c_str());
  const std::string ec = "-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes";
  run("CA",
      "openssl req -x509 " + ec + " -keyout ca.key -out ca.pem -days 2 -subj '/CN=tenure test CA'");
  run("other CA", "openssl req -x509 " + ec +
                      " -keyout other.key -out other.pem -days 2 -subj '/CN=unrelated CA'");
  std::ofstream(dir + "/server.ext")
      << "subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n";
  run("server csr",
      "openssl req " + ec + " -keyout server.key -out server.csr -subj '/CN=localhost'");
  run("server cert",
      "openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 "
      "-extfile server.ext -out server.pem");
  std::ofstream(dir + "/client.ext") << "extendedKeyUsage=clientAuth\n";
  run("client csr",
      "openssl req " + ec + " -keyout client.key -out client.csr -subj '/CN=tenure-client'");
  run("client cert",
      "openssl x509 -req -in client.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 "
      "-extfile client.ext -out client.pem");
  p.ca_cert = dir + "/ca.pem";
  p.other_ca_cert = dir + "/other.pem";
  p.server_cert = dir + "/server.pem";
  p.server_key = dir + "/server.key";
  p.client_cert = dir + "/client.pem";
  p.client_key = dir + "/client.key";
  return p;
}

struct HttpTestServer::Impl {
  asio::io_context io;
  tcp::acceptor acceptor{io};
  std::unique_ptr<asio::ssl::context> ssl;
  std::atomic<bool> stopped{false};
  std::mutex mu;  // everything below
  Handler handler;
  std::vector<HttpTestRequest> requests;
  std::map<int, int> open_fds;  // connection id -> fd, to wake blocked reads on stop
  std::vector<std::thread> threads;
  std::thread acceptor_thread;
  std::atomic<int>* connections = nullptr;

  void accept_loop() {
    while (!stopped.load()) {
      tcp::socket sock(io);
      boost::system::error_code ec;
      acceptor.accept(sock, ec);
      if (ec || stopped.load()) return;
      const int id = connections->fetch_add(1) + 1;
      std::lock_guard<std::mutex> lk(mu);
      open_fds[id] = sock.native_handle();
      threads.emplace_back([this, id, s = std::move(sock)]() mutable { serve(std::move(s), id); });
    }
  }

  void serve(tcp::socket sock, int id) {
    if (ssl) {
      asio::ssl::stream<tcp::socket&> tls(sock, *ssl);
      boost::system::error_code ec;
      tls.handshake(asio::ssl::stream_base::server, ec);
      if (!ec) exchange(tls, id);
    } else {
      exchange(sock, id);
    }
    std::lock_guard<std::mutex> lk(mu);
    open_fds.erase(id);
    boost::system::error_code ec;
    sock.close(ec);
  }

  template <class S>
  void exchange(S& s, int id) {
    boost::beast::flat_buffer buf;
    while (!stopped.load()) {
      http::request<http::string_body> req;
      boost::system::error_code ec;
      http::read(s, buf, req, ec);
      if (ec) return;
      HttpTestRequest r;
      r.method = std::string(req.method_string());
      r.target = std::string(req.target());
      r.body = req.body();
      r.connection = id;
      for (const auto& f : req)
        r.headers.emplace_back(std::string(f.name_string()), std::string(f.value()));
      Handler h;
      {
        std::lock_guard<std::mutex> lk(mu);
        requests.push_back(r);
        h = handler;
      }
      Reply reply = h(r);
      for (const auto& st : reply.steps) {
        if (!sleep(st.pause_before) || st.cut) return;
        if (!st.bytes.empty()) asio::write(s, asio::buffer(st.bytes), ec);
        if (ec) return;
      }
      if (reply.close_after || !req.keep_alive()) return;
    }
  }

  bool sleep(std::chrono::milliseconds d) {  // false when stopped meanwhile
    const auto end = std::chrono::steady_clock::now() + d;
    while (std::chrono::steady_clock::now() < end) {
      if (stopped.load()) return false;
      std::this_thread::sleep_for(std::min<std::chrono::steady_clock::duration>(
          std::chrono::milliseconds(5), end - std::chrono::steady_clock::now()));
    }
    return !stopped.load();
  }
};

HttpTestServer::HttpTestServer(Handler handler) : HttpTestServer(std::move(handler), Tls{}) {}

HttpTestServer::HttpTestServer(Handler handler, Tls tls) : impl_(std::make_shared<Impl>()) {
  impl_->handler = std::move(handler);
  impl_->connections = &connections_;
  if (!tls.cert_file.empty()) {
    impl_->ssl = std::make_unique<asio::ssl::context>(asio::ssl::context::tls_server);
    impl_->ssl->use_certificate_chain_file(tls.cert_file);
    impl_->ssl->use_private_key_file(tls.key_file, asio::ssl::context::pem);
    if (!tls.client_ca_file.empty()) {
      impl_->ssl->load_verify_file(tls.client_ca_file);
      impl_->ssl->set_verify_mode(asio::ssl::verify_peer | asio::ssl::verify_fail_if_no_peer_cert);
    }
  }
  tcp::endpoint ep(asio::ip::make_address("127.0.0.1"), 0);
  impl_->acceptor.open(ep.protocol());
  impl_->acceptor.set_option(tcp::acceptor::reuse_address(true));
  impl_->acceptor.bind(ep);
  impl_->acceptor.listen();
  port_ = impl_->acceptor.local_endpoint().port();
  impl_->acceptor_thread = std::thread([impl = impl_.get()] { impl->accept_loop(); });
}

HttpTestServer::~HttpTestServer() { stop(); }

std::string HttpTestServer::url() const {
  return std::string(impl_->ssl ? "https" : "http") + "://127.0.0.1:" + std::to_string(port_);
}

void HttpTestServer::set_handler(Handler h) {
  std::lock_guard<std::mutex> lk(impl_->mu);
  impl_->handler = std::move(h);
}

std::vector<HttpTestRequest> HttpTestServer::requests() const {
  std::lock_guard<std::mutex> lk(impl_->mu);
  return impl_->requests;
}

void HttpTestServer::stop() {
  if (impl_->stopped.exchange(true)) return;
  // shutdown(2) wakes the blocked accept and reads without racing on Asio's socket objects.
  ::shutdown(impl_->acceptor.native_handle(), SHUT_RDWR);
  impl_->acceptor_thread.join();
  std::vector<std::thread> threads;
  {
    std::lock_guard<std::mutex> lk(impl_->mu);
    for (auto& [id, fd] : impl_->open_fds) ::shutdown(fd, SHUT_RDWR);
    threads.swap(impl_->threads);
  }
  for (auto& t : threads) t.join();
  boost::system::error_code ec;
  impl_->acceptor.close(ec);
}

int HttpTestServer::dead_port() {
  asio::io_context io;
  tcp::acceptor a(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  return a.local_endpoint().port();  // closed on return: nothing listens there now
}

}  // namespace tenure::testing
