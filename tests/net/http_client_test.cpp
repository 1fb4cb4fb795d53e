// HttpClient against the scripted server: keep-alive, JSON, status mapping, content type, body
// limit, deadlines, cancel, close, and callbacks that never run inline.
#include "http_test_helpers.hpp"

using namespace std::chrono_literals;
using namespace tenure;
using namespace tenure::net;
using namespace tenure::testing;

TEST(HttpClient, JsonOverOneKeptAliveConnection) {
  IoThreads io;
  HttpTestServer srv([](const HttpTestRequest& r) {
    return Reply::json(200, R"({"path":")" + r.target + R"("})");
  });
  auto c = make_client(io, {srv.url()});
  for (int i = 0; i < 3; ++i) {
    auto r = get(*c, "/v1/kv/x?index=" + std::to_string(i));
    ASSERT_TRUE(r.ok()) << r.status.message;
    auto j = r.value.json();
    ASSERT_TRUE(j.ok()) << j.status.message;
    EXPECT_EQ(j.value["path"], "/v1/kv/x?index=" + std::to_string(i));
    EXPECT_EQ(r.value.endpoint, srv.url());
  }
  EXPECT_EQ(srv.connections(), 1);
  EXPECT_EQ(c->idle_connections(), 1u);
  auto reqs = srv.requests();
  ASSERT_EQ(reqs.size(), 3u);
  EXPECT_EQ(reqs[0].header("Host"), "127.0.0.1:" + std::to_string(srv.port()));
  EXPECT_EQ(reqs[0].header("User-Agent"), "tenure");
}

TEST(HttpClient, PostsJsonBodies) {
  IoThreads io;
  HttpTestServer srv([](const HttpTestRequest& r) { return Reply::json(200, r.body); });
  auto c = make_client(io, {srv.url()});
  Box<HttpResult> box;
  c->request_json("POST", "/v3/kv/range", {{"key", "Zm9v"}},
                  [&](HttpResult r) { box.set(std::move(r)); });
  auto r = box.wait();
  ASSERT_TRUE(r && r->ok()) << (r ? r->status.message : "");
  EXPECT_EQ(r->value.json().value["key"], "Zm9v");
  EXPECT_EQ(srv.requests()[0].header("Content-Type"), "application/json");
}

TEST(HttpClient, MapsStatusesOntoErrc) {
  IoThreads io;
  std::atomic<int> status{0};
  HttpTestServer srv([&](const HttpTestRequest&) {
    const int s = status.load();
    std::vector<std::pair<std::string, std::string>> extra;
    if (s == 429 || s == 503) extra.emplace_back("Retry-After", "3");
    return Reply::status(s, R"({"message":"server says )" + std::to_string(s) + R"("})",
                         "application/json", extra);
  });
  auto c = make_client(io, {srv.url()});
  const std::pair<int, Errc> cases[] = {{401, Errc::auth_failed}, {403, Errc::permission_denied},
                                        {404, Errc::backend},     {409, Errc::backend},
                                        {410, Errc::backend},     {429, Errc::backend},
                                        {500, Errc::backend},     {503, Errc::backend}};
  for (auto [code, errc] : cases) {
    status = code;
    auto r = get(*c, "/x");
    EXPECT_EQ(r.status.code, errc) << code;
    EXPECT_EQ(r.value.status, code);  // kept for the caller (404/409/410 branches)
    EXPECT_EQ(r.status.detail.http_status, code);
    EXPECT_EQ(r.status.detail.retry_after, r.value.retry_after) << code;
    EXPECT_TRUE(contains(r.status.message,
                         "testsrv at " + srv.url() + " answered HTTP " + std::to_string(code)))
        << r.status.message;
    EXPECT_TRUE(contains(r.status.message, "server says " + std::to_string(code)))
        << r.status.message;
    if (code == 429 || code == 503) {
      ASSERT_TRUE(r.value.retry_after.has_value()) << code;
      EXPECT_EQ(r.value.retry_after->count(), 3000);
      EXPECT_TRUE(contains(r.status.message, "retry after 3000 ms")) << r.status.message;
    } else {
      EXPECT_FALSE(r.value.retry_after.has_value());
    }
  }
  EXPECT_EQ(srv.connections(), 1);  // error answers keep the connection
}

TEST(HttpClient, WrongContentTypeIsAClearError) {
  IoThreads io;
  HttpTestServer srv([](const HttpTestRequest&) {
    return Reply::status(200, "<html>proxy login</html>", "text/html");
  });
  auto c = make_client(io, {srv.url()});
  auto r = get(*c, "/v3/kv/range");
  ASSERT_TRUE(r.ok()) << r.status.message;
  auto j = r.value.json();
  EXPECT_EQ(j.status.code, Errc::backend);
  EXPECT_TRUE(contains(j.status.message, "Content-Type 'text/html'")) << j.status.message;
  EXPECT_TRUE(contains(j.status.message, srv.url())) << j.status.message;
}

TEST(HttpClient, BodyLimitNamesTheLimit) {
  IoThreads io;
  HttpTestServer srv([](const HttpTestRequest& r) {
    if (r.target == "/chunked")
      return Reply::chunked(200, {std::string(600, 'a'), std::string(600, 'b')});
    return Reply::status(200, std::string(5000, 'x'), "text/plain");
  });
  HttpClientOptions o;
  o.max_body = 1000;
  auto c = make_client(io, {srv.url()}, o);
  ASSERT_EQ(c->options().max_body, 1000u);
  for (const char* path : {"/big", "/chunked"}) {
    auto r = get(*c, path);
    EXPECT_EQ(r.status.code, Errc::backend)
        << path << " body " << r.value.body.size() << " " << r.value.status;
    EXPECT_TRUE(contains(r.status.message, "exceeds the body limit of 1000 bytes"))
        << r.status.message;
  }
  HttpRequest req;
  req.target = "/big";
  req.max_body = 10000;  // per request
  EXPECT_TRUE(call(*c, req).ok());
}

TEST(HttpClient, PerRequestDeadline) {
  IoThreads io;
  HttpTestServer srv([](const HttpTestRequest&) { return Reply::json(200, "{}").then_pause(0ms); });
  srv.set_handler(
      [](const HttpTestRequest& r) { return json_after(r.target == "/slow" ? 3000ms : 150ms); });
  HttpClientOptions o;
  o.request_timeout = 100ms;
  auto c = make_client(io, {srv.url()}, o);
  const auto t0 = std::chrono::steady_clock::now();
  auto r = get(*c, "/slow");
  EXPECT_EQ(r.status.code, Errc::timeout);
  EXPECT_TRUE(contains(r.status.message,
                       "no answer from testsrv at " + srv.url() + " to GET /slow within 100 ms"))
      << r.status.message;
  EXPECT_TRUE(contains(r.status.message, "waiting for the response")) << r.status.message;
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 2000ms);
  // A long poll sets its own, longer timeout.
  HttpRequest poll;
  poll.target = "/v1/kv/leader?index=7&wait=1s";
  poll.timeout = 2000ms;
  auto p = call(*c, poll);
  EXPECT_TRUE(p.ok()) << p.status.message;
}

TEST(HttpClient, LongPollCancelRunsNoCallback) {
  IoThreads io;
  HttpTestServer srv([](const HttpTestRequest&) { return Reply::json(200, "{}").then_pause(0ms); });
  srv.set_handler([](const HttpTestRequest&) {
    Reply rep;
    rep.then_pause(5000ms);  // a blocking query with nothing new
    return rep;
  });
  auto c = make_client(io, {srv.url()});
  Box<HttpResult> box;
  HttpRequest poll;
  poll.target = "/v1/kv/leader?index=7&wait=5m";
  poll.timeout = 10000ms;
  auto call = c->request(poll, [&](HttpResult r) { box.set(std::move(r)); });
  ASSERT_TRUE(wait_until_requests(srv, 1));
  call->cancel();
  call->cancel();  // idempotent
  EXPECT_FALSE(box.wait(300ms).has_value());
  // The client still works (the cancelled poll's connection is not reused).
  srv.set_handler([](const HttpTestRequest&) { return Reply::json(200, "{}"); });
  EXPECT_TRUE(get(*c, "/v1/status/leader").ok());
  EXPECT_EQ(box.count(), 0);
}

TEST(HttpClient, CloseRunsNoFurtherCallbacks) {
  IoThreads io;
  HttpTestServer srv([](const HttpTestRequest&) { return json_after(300ms); });
  auto c = make_client(io, {srv.url()});
  std::atomic<int> calls{0};
  for (int i = 0; i < 5; ++i) c->request(HttpRequest{}, [&](HttpResult) { ++calls; });
  ASSERT_TRUE(wait_until_requests(srv, 1));
  c->close();
  c->request(HttpRequest{}, [&](HttpResult) { ++calls; });  // after close: never answered
  std::this_thread::sleep_for(600ms);
  EXPECT_EQ(calls.load(), 0);
}

TEST(HttpClient, CallbacksRunOnTheExecutorNeverInline) {
  IoThreads io;
  auto c = make_client(io, {"http://127.0.0.1:" + std::to_string(HttpTestServer::dead_port())});
  std::atomic<bool> was_inline{false}, on_io{false};
  Box<HttpResult> box;
  // A refused connect can complete on an io thread before request() returns, so the test asks
  // which thread ran the callback, not whether request() had returned.
  const auto caller = std::this_thread::get_id();
  c->request(HttpRequest{}, [&](HttpResult r) {
    was_inline = std::this_thread::get_id() == caller;
    on_io = io.on_io_thread();
    box.set(std::move(r));
  });
  auto r = box.wait();
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->status.code, Errc::unreachable);
  EXPECT_FALSE(was_inline.load());
  EXPECT_TRUE(on_io.load());
  EXPECT_EQ(box.count(), 1);
}
