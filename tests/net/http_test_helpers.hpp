// Synchronous wrappers for the HTTP client tests, and the test PKI made once per process.
#pragma once

#include <cstdlib>
#include <string>

#include "http_test_server.hpp"
#include "net_test_support.hpp"
#include "tenure/net/http_client.hpp"

namespace tenure::testing {

inline const TestPki& test_pki() {
  static const TestPki pki = [] {
    char dir[] = "/tmp/tenure-net-pki-XXXXXX";
    if (!::mkdtemp(dir)) throw std::runtime_error("mkdtemp failed");
    return TestPki::make(dir);
  }();
  return pki;
}

inline std::shared_ptr<net::HttpClient> make_client(IoThreads& io, std::vector<std::string> urls,
                                                    net::HttpClientOptions o = {}) {
  o.endpoints.clear();
  for (auto& u : urls) {
    auto ep = net::parse_endpoint(u, 80, false);
    EXPECT_TRUE(ep.ok()) << ep.status.message;
    o.endpoints.push_back(ep.value);
  }
  if (o.service == "HTTP server") o.service = "testsrv";
  auto c = net::HttpClient::create(io.strand(), std::move(o));
  EXPECT_TRUE(c.ok()) << c.status.message;
  return c.value;
}

inline net::HttpResult call(net::HttpClient& c, net::HttpRequest req) {
  Box<net::HttpResult> box;
  c.request(std::move(req), [&](net::HttpResult r) { box.set(std::move(r)); });
  auto r = box.wait(std::chrono::seconds(20));
  EXPECT_TRUE(r.has_value()) << "the request's callback never ran";
  return r ? *r : net::HttpResult(make_error(Errc::internal, "no callback"));
}

inline net::HttpResult get(net::HttpClient& c, const std::string& target) {
  net::HttpRequest req;
  req.target = target;
  return call(c, std::move(req));
}

inline bool wait_until_requests(const HttpTestServer& srv, size_t n,
                                std::chrono::milliseconds limit = std::chrono::seconds(10)) {
  const auto end = std::chrono::steady_clock::now() + limit;
  while (srv.requests().size() < n) {
    if (std::chrono::steady_clock::now() > end) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return true;
}

// "{}" with status 200 after a pause: a slow server.
inline Reply json_after(std::chrono::milliseconds pause, const std::string& body = "{}") {
  Reply rep;
  rep.then_pause(pause);
  for (auto& s : Reply::json(200, body).steps) rep.steps.push_back(s);
  return rep;
}

inline bool contains(const std::string& hay, const std::string& needle) {
  return hay.find(needle) != std::string::npos;
}

}  // namespace tenure::testing
