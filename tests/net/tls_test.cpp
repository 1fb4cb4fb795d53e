// TlsContext: loading from files and inline PEM, clear errors, and handshakes against the test
// server: right CA, wrong CA, host-name mismatch, insecure, client certificates.
#include "tenure/net/tls.hpp"
#include "http_test_helpers.hpp"
#include "tenure/net/stream.hpp"

using namespace std::chrono_literals;
using namespace tenure;
using namespace tenure::net;
using namespace tenure::testing;

namespace {

HttpTestServer tls_server(bool require_client_cert = false) {
  const auto& p = test_pki();
  HttpTestServer::Tls t{p.server_cert, p.server_key, require_client_cert ? p.ca_cert : ""};
  return HttpTestServer([](const HttpTestRequest&) { return Reply::json(200, R"({"ok":true})"); },
                        t);
}

std::shared_ptr<TlsContext> ctx(TlsOptions o) {
  auto c = TlsContext::create(o);
  EXPECT_TRUE(c.ok()) << c.status.message;
  return c.value;
}

HttpResult get_over_tls(IoThreads& io, int port, std::shared_ptr<TlsContext> tls,
                        const std::string& host = "127.0.0.1") {
  HttpClientOptions o;
  o.tls = std::move(tls);
  auto c = make_client(io, {"https://" + host + ":" + std::to_string(port)}, o);
  return get(*c, "/v3/ping");
}

}  // namespace

TEST(TlsContext, ErrorsNameTheOptionAndFileNeverThePem) {
  const auto& p = test_pki();
  TlsOptions o;
  o.ca_file = p.dir + "/missing.pem";
  auto c = TlsContext::create(o);
  EXPECT_EQ(c.status.code, Errc::invalid_argument);
  EXPECT_TRUE(contains(c.status.message, "missing.pem")) << c.status.message;
  EXPECT_TRUE(contains(c.status.message, "tls_ca_file")) << c.status.message;

  o.ca_file_option = "backend.tls_ca";  // Redis's name for it
  c = TlsContext::create(o);
  EXPECT_TRUE(contains(c.status.message, "backend.tls_ca")) << c.status.message;
  EXPECT_FALSE(contains(c.status.message, "tls_ca_file")) << c.status.message;

  o = {};
  o.ca_pem = "not a certificate SECRET-SENTINEL";
  c = TlsContext::create(o);
  EXPECT_EQ(c.status.code, Errc::invalid_argument);
  EXPECT_TRUE(contains(c.status.message, "inline PEM (option tls_ca_pem")) << c.status.message;
  EXPECT_FALSE(contains(c.status.message, "SECRET-SENTINEL")) << c.status.message;

  o = {};
  o.cert_file = p.client_cert;
  o.key_pem = "-----BEGIN PRIVATE KEY-----\nSECRET-SENTINEL\n-----END PRIVATE KEY-----\n";
  c = TlsContext::create(o);
  EXPECT_EQ(c.status.code, Errc::invalid_argument);
  EXPECT_TRUE(contains(c.status.message, "client key")) << c.status.message;
  EXPECT_FALSE(contains(c.status.message, "SECRET-SENTINEL")) << c.status.message;

  o = {};
  o.ca_file = p.ca_cert;
  o.ca_pem = TestPki::read(p.ca_cert);
  c = TlsContext::create(o);
  EXPECT_TRUE(contains(c.status.message, "given twice")) << c.status.message;

  o = {};
  o.cert_file = p.client_cert;
  c = TlsContext::create(o);
  EXPECT_TRUE(contains(c.status.message, "needs both")) << c.status.message;

  o = {};
  o.cert_file = p.client_cert;
  o.key_file = p.server_key;  // another certificate's key
  o.option_prefix = "backend.tls_";
  c = TlsContext::create(o);
  EXPECT_TRUE(contains(c.status.message, "does not belong")) << c.status.message;
  EXPECT_TRUE(contains(c.status.message, "backend.tls_key_file")) << c.status.message;
}

TEST(TlsContext, HandshakeWithCaFromFileOrInlinePem) {
  IoThreads io;
  auto srv = tls_server();
  TlsOptions o;
  o.ca_file = test_pki().ca_cert;
  auto r = get_over_tls(io, srv.port(), ctx(o));
  ASSERT_TRUE(r.ok()) << r.status.message;
  EXPECT_EQ(r.value.status, 200);
  o = {};
  o.ca_pem = TestPki::read(test_pki().ca_cert);
  r = get_over_tls(io, srv.port(), ctx(o), "localhost");  // a name, checked against the DNS SAN
  ASSERT_TRUE(r.ok()) << r.status.message;
}

TEST(TlsContext, WrongCaIsRefusedWithAHint) {
  IoThreads io;
  auto srv = tls_server();
  TlsOptions o;
  o.ca_file = test_pki().other_ca_cert;
  auto r = get_over_tls(io, srv.port(), ctx(o));
  EXPECT_EQ(r.status.code, Errc::unreachable);
  EXPECT_TRUE(contains(r.status.message, "certificate was refused")) << r.status.message;
  EXPECT_TRUE(contains(r.status.message, "tls_ca_file")) << r.status.message;
  EXPECT_EQ(r.value.status, 0);
  // The explicit test-only switch accepts it.
  o.insecure = true;
  r = get_over_tls(io, srv.port(), ctx(o));
  EXPECT_TRUE(r.ok()) << r.status.message;
}

TEST(TlsContext, HostNameMismatchIsRefused) {
  IoThreads io;
  auto srv = tls_server();
  TlsOptions o;
  o.ca_file = test_pki().ca_cert;
  o.server_name = "etcd.example.org";
  auto r = get_over_tls(io, srv.port(), ctx(o));
  EXPECT_EQ(r.status.code, Errc::unreachable);
  EXPECT_TRUE(contains(r.status.message, "does not name 'etcd.example.org'")) << r.status.message;
  o.verify_host = false;  // chain still checked, the name not
  r = get_over_tls(io, srv.port(), ctx(o));
  EXPECT_TRUE(r.ok()) << r.status.message;
}

TEST(TlsContext, ClientCertificateFromFilesOrInline) {
  IoThreads io;
  auto srv = tls_server(true);
  const auto& p = test_pki();
  TlsOptions o;
  o.ca_file = p.ca_cert;
  auto r = get_over_tls(io, srv.port(), ctx(o));
  EXPECT_FALSE(r.ok()) << "the server requires a client certificate";
  o.cert_file = p.client_cert;
  o.key_file = p.client_key;
  r = get_over_tls(io, srv.port(), ctx(o));
  ASSERT_TRUE(r.ok()) << r.status.message;
  o.cert_file.clear();
  o.key_file.clear();
  o.cert_pem = TestPki::read(p.client_cert);  // as kubeconfig's client-certificate-data carries it
  o.key_pem = TestPki::read(p.client_key);
  r = get_over_tls(io, srv.port(), ctx(o));
  ASSERT_TRUE(r.ok()) << r.status.message;
}

TEST(Connect, DeadlineAndRefusal) {
  IoThreads io;
  // Refused: nothing listens.
  Box<Result<std::shared_ptr<Stream>>> refused;
  Endpoint ep{"127.0.0.1", HttpTestServer::dead_port(), false};
  async_connect(io.strand(), ep, nullptr, 1000ms, "testsrv",
                [&](auto r) { refused.set(std::move(r)); });
  auto r = refused.wait();
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->status.code, Errc::unreachable);
  EXPECT_TRUE(contains(r->status.message, "testsrv at http://127.0.0.1:")) << r->status.message;
  // A TLS handshake that never answers: a listener that never accepts (the kernel completes the
  // TCP handshake from its backlog; nobody reads the ClientHello).
  boost::asio::io_context lio;
  boost::asio::ip::tcp::acceptor silent(lio, {boost::asio::ip::make_address("127.0.0.1"), 0});
  const int silent_port = silent.local_endpoint().port();
  TlsOptions o;
  o.ca_file = test_pki().ca_cert;
  Box<Result<std::shared_ptr<Stream>>> slow;
  const auto t0 = std::chrono::steady_clock::now();
  async_connect(io.strand(), Endpoint{"127.0.0.1", silent_port, true}, ctx(o), 200ms, "testsrv",
                [&](auto r) { slow.set(std::move(r)); });
  r = slow.wait();
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->status.code, Errc::timeout);
  EXPECT_TRUE(contains(r->status.message, "TLS handshake")) << r->status.message;
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 5s);
  // Names resolve: "localhost" reaches a loopback server.
  HttpTestServer ok([](const HttpTestRequest&) { return Reply::json(200, "{}"); });
  Box<Result<std::shared_ptr<Stream>>> named;
  async_connect(io.strand(), Endpoint{"localhost", ok.port(), false}, nullptr, 2000ms, "testsrv",
                [&](auto r) { named.set(std::move(r)); });
  r = named.wait();
  ASSERT_TRUE(r.has_value());
  EXPECT_TRUE(r->ok()) << r->status.message;
}
