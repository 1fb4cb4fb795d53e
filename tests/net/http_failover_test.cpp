// Several endpoints: connect failures move on, broken connections move on only for idempotent
// requests, a stale kept-alive connection is retried once on a fresh one.
#include <boost/asio/ip/tcp.hpp>

#include "http_test_helpers.hpp"

using namespace std::chrono_literals;
using namespace tenure;
using namespace tenure::net;
using namespace tenure::testing;

namespace {
std::string dead_url() { return "http://127.0.0.1:" + std::to_string(HttpTestServer::dead_port()); }
}  // namespace

TEST(HttpFailover, FirstEndpointDownSecondAnswers) {
  IoThreads io;
  HttpTestServer live([](const HttpTestRequest&) { return Reply::json(200, R"({"member":2})"); });
  auto c = make_client(io, {dead_url(), live.url()});
  auto r = get(*c, "/v3/maintenance/status");
  ASSERT_TRUE(r.ok()) << r.status.message;
  EXPECT_EQ(r.value.endpoint, live.url());
  // The endpoint that answered is tried first from now on.
  r = get(*c, "/v3/maintenance/status");
  ASSERT_TRUE(r.ok()) << r.status.message;
  EXPECT_EQ(live.connections(), 1);
}

TEST(HttpFailover, AllEndpointsDownSaysSo) {
  IoThreads io;
  auto c = make_client(io, {dead_url(), dead_url()});
  HttpRequest req;
  req.method = "PUT";  // not idempotent, but a refused connect never reached a server
  auto r = call(*c, req);
  EXPECT_EQ(r.status.code, Errc::unreachable);
  EXPECT_TRUE(contains(r.status.message, "no endpoint of testsrv could be used (tried 2)"))
      << r.status.message;
  EXPECT_TRUE(contains(r.status.message, "cannot connect to testsrv at http://127.0.0.1:"))
      << r.status.message;
}

TEST(HttpFailover, ConnectionCutMidBodyFailsOverOnlyWhenIdempotent) {
  IoThreads io;
  HttpTestServer cutter([](const HttpTestRequest&) {
    Reply rep;
    rep.then_write(
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"par");
    rep.then_cut();
    return rep;
  });
  HttpTestServer good(
      [](const HttpTestRequest&) { return Reply::json(200, R"({"from":"good"})"); });
  auto c = make_client(io, {cutter.url(), good.url()});
  auto r = get(*c, "/v3/kv/range");  // GET: safe to send again
  ASSERT_TRUE(r.ok()) << r.status.message;
  EXPECT_EQ(r.value.endpoint, good.url());

  auto c2 = make_client(io, {cutter.url(), good.url()});
  HttpRequest post;
  post.method = "POST";
  post.target = "/v3/kv/txn";
  post.body = "{}";
  post.content_type = "application/json";
  r = call(*c2, post);
  EXPECT_EQ(r.status.code, Errc::unreachable);
  EXPECT_TRUE(contains(r.status.message, "not retried, as the request may have been applied"))
      << r.status.message;
  EXPECT_EQ(good.requests().size(), 1u) << "the POST went to a second server";

  post.idempotent = true;  // a write the caller knows is safe to repeat (guarded by a revision)
  auto c3 = make_client(io, {cutter.url(), good.url()});
  r = call(*c3, post);
  EXPECT_TRUE(r.ok()) << r.status.message;
  EXPECT_EQ(good.requests().size(), 2u);
}

TEST(HttpFailover, StaleKeptAliveConnectionIsRetriedOnAFreshOne) {
  IoThreads io;
  // Answers, then closes the connection without saying so (as a server's idle timeout does).
  HttpTestServer srv([](const HttpTestRequest&) {
    Reply rep = Reply::json(200, "{}");
    rep.close_after = true;
    return rep;
  });
  auto c = make_client(io, {srv.url()});
  ASSERT_TRUE(get(*c, "/a").ok());
  std::this_thread::sleep_for(50ms);  // the server's close reaches us
  HttpRequest post;
  post.method = "POST";
  post.target = "/b";
  auto r = call(*c, post);  // goes out on the dead pooled connection first
  ASSERT_TRUE(r.ok()) << r.status.message;
  EXPECT_EQ(srv.connections(), 2);
  EXPECT_EQ(srv.requests().size(), 2u) << "the POST was applied twice";
}

TEST(HttpFailover, DeadlineCoversAllAttempts) {
  IoThreads io;
  // A listener that never accepts: TCP completes from the backlog and the request waits for an
  // answer that never comes; the request's deadline ends it, not a per-endpoint one.
  boost::asio::io_context lio;
  boost::asio::ip::tcp::acceptor hole(lio, {boost::asio::ip::make_address("127.0.0.1"), 0});
  HttpClientOptions o;
  o.request_timeout = 200ms;
  auto c = make_client(
      io, {"http://127.0.0.1:" + std::to_string(hole.local_endpoint().port()), dead_url()}, o);
  const auto t0 = std::chrono::steady_clock::now();
  auto r = get(*c, "/x");
  EXPECT_EQ(r.status.code, Errc::timeout);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 2000ms);
}
