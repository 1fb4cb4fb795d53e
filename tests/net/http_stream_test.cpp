// Streamed responses (etcd watch/keep-alive, Kubernetes watch): values delivered one by one as
// they arrive, across chunk boundaries; cuts, idle timeouts, non-2xx answers, close.
#include "http_test_helpers.hpp"

using namespace std::chrono_literals;
using namespace tenure;
using namespace tenure::net;
using namespace tenure::testing;

namespace {

struct Recorder {
  std::mutex mu;
  std::vector<nlohmann::json> values;
  std::vector<std::chrono::steady_clock::time_point> at;
  std::optional<HttpResponse> head;
  bool end_before_head = false;
  Box<Status> end;

  StreamHandlers handlers() {
    StreamHandlers h;
    h.on_head = [this](const HttpResponse& r) {
      std::lock_guard<std::mutex> lk(mu);
      head = r;
    };
    h.on_value = [this](nlohmann::json v) {
      std::lock_guard<std::mutex> lk(mu);
      EXPECT_EQ(end.count(), 0) << "a value after the end";
      values.push_back(std::move(v));
      at.push_back(std::chrono::steady_clock::now());
    };
    h.on_end = [this](Status s) { end.set(std::move(s)); };
    return h;
  }
  size_t count() {
    std::lock_guard<std::mutex> lk(mu);
    return values.size();
  }
};

HttpRequest watch_request() {
  HttpRequest r;
  r.method = "POST";
  r.target = "/v3/watch";
  r.body = R"({"create_request":{"key":"Zm9v"}})";
  r.content_type = "application/json";
  return r;
}

}  // namespace

TEST(HttpStream, ValuesArriveOneByOneAcrossChunkBoundaries) {
  IoThreads io;
  // One value split over chunks, two values in one chunk, a value cut right after its brace.
  HttpTestServer srv([](const HttpTestRequest&) {
    return Reply::chunked(
        200,
        {R"({"result":{"header":{"revision":"1"},"created":true}})", R"({"result":{"ev)",
         R"(ents":[{"kv":{"key":"Zm9v"}}]}}{"result":{"n":3})", "}\n", R"({"result":{"n":4}})"},
        150ms);
  });
  auto c = make_client(io, {srv.url()});
  Recorder rec;
  const auto t0 = std::chrono::steady_clock::now();
  auto s = c->stream(watch_request(), rec.handlers());
  auto end = rec.end.wait();
  ASSERT_TRUE(end.has_value());
  EXPECT_TRUE(end->ok()) << end->message;
  std::lock_guard<std::mutex> lk(rec.mu);
  ASSERT_EQ(rec.values.size(), 4u);
  EXPECT_TRUE(rec.values[0]["result"]["created"].get<bool>());
  EXPECT_EQ(rec.values[1]["result"]["events"][0]["kv"]["key"], "Zm9v");
  EXPECT_EQ(rec.values[2]["result"]["n"], 3);
  EXPECT_EQ(rec.values[3]["result"]["n"], 4);
  ASSERT_TRUE(rec.head.has_value());
  EXPECT_EQ(rec.head->status, 200);
  // Delivered as they came, not at the end: the first value long before the last chunk (750 ms).
  EXPECT_LT(rec.at[0] - t0, 600ms);
  EXPECT_GE(rec.at[3] - rec.at[0], 300ms);
}

TEST(HttpStream, NewlineDelimitedWatch) {
  IoThreads io;
  HttpTestServer srv([](const HttpTestRequest&) {
    return Reply::chunked(
        200,
        {"{\"type\":\"ADDED\",\"object\":{\"kind\":\"Lease\"}}\n{\"type\":\"MOD", "IFIED\"}\n"},
        10ms, true, "application/json;stream=watch");
  });
  auto c = make_client(io, {srv.url()});
  Recorder rec;
  HttpRequest req;
  req.target = "/apis/coordination.k8s.io/v1/namespaces/default/leases?watch=1";
  auto s = c->stream(req, rec.handlers());
  auto end = rec.end.wait();
  ASSERT_TRUE(end && end->ok()) << (end ? end->message : "");
  ASSERT_EQ(rec.count(), 2u);
  EXPECT_EQ(rec.values[1]["type"], "MODIFIED");
}

TEST(HttpStream, CutMidValueEndsWithUnreachable) {
  IoThreads io;
  HttpTestServer srv([](const HttpTestRequest&) {
    Reply rep = Reply::chunked(200, {R"({"result":1})", R"({"result":{"ha)"}, 20ms, false);
    rep.then_cut();
    return rep;
  });
  auto c = make_client(io, {srv.url()});
  Recorder rec;
  auto s = c->stream(watch_request(), rec.handlers());
  auto end = rec.end.wait();
  ASSERT_TRUE(end.has_value());
  EXPECT_EQ(end->code, Errc::unreachable);
  EXPECT_TRUE(contains(end->message, "cut inside a value; 14 bytes of it were dropped"))
      << end->message;
  EXPECT_TRUE(contains(end->message, "/v3/watch")) << end->message;
  EXPECT_EQ(rec.count(), 1u);
}

TEST(HttpStream, NonSuccessAnswerEndsTheStream) {
  IoThreads io;
  HttpTestServer srv([](const HttpTestRequest&) {
    return Reply::status(410, R"({"kind":"Status","message":"too old resource version"})");
  });
  auto c = make_client(io, {srv.url()});
  Recorder rec;
  auto s = c->stream(watch_request(), rec.handlers());
  auto end = rec.end.wait();
  ASSERT_TRUE(end.has_value());
  EXPECT_EQ(end->code, Errc::backend);
  EXPECT_TRUE(contains(end->message, "answered HTTP 410: too old resource version"))
      << end->message;
  std::lock_guard<std::mutex> lk(rec.mu);
  ASSERT_TRUE(rec.head.has_value());
  EXPECT_EQ(rec.head->status, 410);
  EXPECT_TRUE(rec.values.empty());
}

TEST(HttpStream, IdleTimeoutAndValueLimit) {
  IoThreads io;
  HttpTestServer srv([](const HttpTestRequest& r) {
    if (r.target == "/big")
      return Reply::chunked(200, {"{\"v\":\"" + std::string(3000, 'x') + "\"}"});
    return Reply::chunked(200, {R"({"keepalive":1})"}, 0ms, false).then_pause(5000ms);
  });
  auto c = make_client(io, {srv.url()});
  Recorder rec;
  HttpRequest req;
  req.target = "/idle";
  req.idle_timeout = 200ms;
  auto s = c->stream(req, rec.handlers());
  auto end = rec.end.wait();
  ASSERT_TRUE(end.has_value());
  EXPECT_EQ(end->code, Errc::timeout);
  EXPECT_TRUE(contains(end->message, "got nothing within 200 ms (idle)")) << end->message;
  EXPECT_EQ(rec.count(), 1u);

  Recorder big;
  req.target = "/big";
  req.max_body = 1000;
  auto s2 = c->stream(req, big.handlers());
  end = big.end.wait();
  ASSERT_TRUE(end.has_value());
  EXPECT_EQ(end->code, Errc::backend);
  EXPECT_TRUE(contains(end->message, "exceeds the limit of 1000 bytes")) << end->message;
}

TEST(HttpStream, CloseStopsDeliveryAndEnd) {
  IoThreads io;
  HttpTestServer srv([](const HttpTestRequest&) {
    std::vector<std::string> many(100, R"({"tick":1})");
    return Reply::chunked(200, many, 20ms);
  });
  auto c = make_client(io, {srv.url()});
  Recorder rec;
  auto s = c->stream(watch_request(), rec.handlers());
  ASSERT_TRUE(eventually([&] { return rec.count() >= 2; }, 5000ms));
  s->close();
  const size_t n = rec.count();
  std::this_thread::sleep_for(200ms);
  EXPECT_LE(rec.count(), n + 1);  // at most one already on its way when close() ran
  EXPECT_EQ(rec.end.count(), 0);
}

TEST(HttpStream, OpensOnTheSecondEndpointWhenTheFirstIsDown) {
  IoThreads io;
  HttpTestServer srv([](const HttpTestRequest&) { return Reply::chunked(200, {R"({"ok":1})"}); });
  auto c = make_client(
      io, {"http://127.0.0.1:" + std::to_string(HttpTestServer::dead_port()), srv.url()});
  Recorder rec;
  auto s = c->stream(watch_request(), rec.handlers());
  auto end = rec.end.wait();
  ASSERT_TRUE(end && end->ok()) << (end ? end->message : "");
  EXPECT_EQ(rec.count(), 1u);
}
