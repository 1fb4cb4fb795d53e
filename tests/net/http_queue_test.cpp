// HttpClient's per-endpoint connection cap: requests beyond max_conns_per_endpoint wait in FIFO
// order (urgent ones first) with their own timeout running, and a request that timed out while
// waiting was never sent.
#include <mutex>

#include "http_test_helpers.hpp"

using namespace std::chrono_literals;
using namespace tenure;
using namespace tenure::net;
using namespace tenure::testing;

namespace {

// Sends every request at once and waits for all answers.
std::vector<HttpResult> call_all(HttpClient& c, std::vector<HttpRequest> reqs) {
  std::mutex mu;
  std::vector<HttpResult> out(reqs.size(), HttpResult(make_error(Errc::internal, "no answer")));
  Box<bool> all;
  auto left = std::make_shared<std::atomic<size_t>>(reqs.size());
  for (size_t i = 0; i < reqs.size(); ++i)
    c.request(std::move(reqs[i]), [&, i, left](HttpResult r) {
      {
        std::lock_guard<std::mutex> lk(mu);
        out[i] = std::move(r);
      }
      if (--*left == 0) all.set(true);
    });
  EXPECT_TRUE(all.wait(20s).has_value()) << "not every request was answered";
  std::lock_guard<std::mutex> lk(mu);
  return out;
}

HttpRequest req(const std::string& target, milliseconds timeout = 5000ms, bool urgent = false) {
  HttpRequest r;
  r.target = target;
  r.timeout = timeout;
  r.urgent = urgent;
  return r;
}

}  // namespace

TEST(HttpQueue, MoreRequestsThanConnectionsAllSucceedOnAtMostTheCap) {
  IoThreads io;
  HttpTestServer srv([](const HttpTestRequest&) { return Reply::json(200, "{}").then_pause(0ms); });
  srv.set_handler([](const HttpTestRequest&) { return json_after(50ms); });
  HttpClientOptions o;
  o.max_conns_per_endpoint = 3;
  auto c = make_client(io, {srv.url()}, o);
  std::vector<HttpRequest> reqs;
  for (int i = 0; i < 30; ++i) reqs.push_back(req("/r" + std::to_string(i)));
  auto rs = call_all(*c, std::move(reqs));
  for (auto& r : rs) EXPECT_TRUE(r.ok()) << r.status.message;
  EXPECT_EQ(srv.requests().size(), 30u);
  EXPECT_LE(srv.connections(), 3);
  EXPECT_GE(srv.connections(), 1);
}

TEST(HttpQueue, UrgentRequestsGoFirstThenFifo) {
  IoThreads io;
  HttpTestServer srv([](const HttpTestRequest&) { return Reply::json(200, "{}"); });
  srv.set_handler(
      [](const HttpTestRequest& r) { return json_after(r.target == "/first" ? 300ms : 0ms); });
  HttpClientOptions o;
  o.max_conns_per_endpoint = 1;
  auto c = make_client(io, {srv.url()}, o);
  // /first holds the only connection; the rest queue behind it in the order sent.
  std::vector<HttpRequest> reqs{req("/first"), req("/a"), req("/b"),
                                req("/keepalive", 5000ms, true), req("/c")};
  auto rs = call_all(*c, std::move(reqs));
  for (auto& r : rs) EXPECT_TRUE(r.ok()) << r.status.message;
  std::vector<std::string> order;
  for (auto& r : srv.requests()) order.push_back(r.target);
  EXPECT_EQ(order, (std::vector<std::string>{"/first", "/keepalive", "/a", "/b", "/c"}));
  EXPECT_EQ(srv.connections(), 1);
}

TEST(HttpQueue, ATimeoutWhileWaitingIsATimeoutAndNothingIsSent) {
  IoThreads io;
  HttpTestServer srv(
      [](const HttpTestRequest& r) { return json_after(r.target == "/slow" ? 1500ms : 0ms); });
  HttpClientOptions o;
  o.max_conns_per_endpoint = 1;
  auto c = make_client(io, {srv.url()}, o);
  Box<HttpResult> slow, queued;
  c->request(req("/slow", 5000ms), [&](HttpResult r) { slow.set(std::move(r)); });
  const auto t0 = std::chrono::steady_clock::now();
  c->request(req("/queued", 200ms), [&](HttpResult r) { queued.set(std::move(r)); });
  auto q = queued.wait(5s);
  const auto waited = std::chrono::steady_clock::now() - t0;
  ASSERT_TRUE(q.has_value());
  EXPECT_EQ(q->status.code, Errc::timeout) << q->status.message;
  // At its own deadline (200 ms), not when /slow gave the connection back (1500 ms).
  EXPECT_LT(waited, 1200ms);
  auto s = slow.wait(5s);
  ASSERT_TRUE(s.has_value());
  EXPECT_TRUE(s->ok()) << s->status.message;
  for (auto& r : srv.requests()) EXPECT_NE(r.target, "/queued");
}
