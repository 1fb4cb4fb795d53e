// Auth hooks: a fixed header token, a bearer token re-read from a rotating file, and a minted
// token refreshed once after a 401. Secrets never appear in messages.
#include <cstdio>
#include <fstream>

#include "http_test_helpers.hpp"

using namespace std::chrono_literals;
using namespace tenure;
using namespace tenure::net;
using namespace tenure::testing;

namespace {

void write_file(const std::string& path, const std::string& text) {
  // Replaced by rename, as Kubernetes rotates projected tokens.
  const std::string tmp = path + ".tmp";
  std::ofstream(tmp) << text;
  ASSERT_EQ(std::rename(tmp.c_str(), path.c_str()), 0);
}

std::string temp_dir() {
  char dir[] = "/tmp/tenure-net-auth-XXXXXX";
  EXPECT_NE(::mkdtemp(dir), nullptr);
  return dir;
}

}  // namespace

TEST(HttpAuth, HeaderTokenIsSentAndNeverEchoed) {
  IoThreads io;
  HttpTestServer srv([](const HttpTestRequest& r) {
    if (r.header("X-Consul-Token") != "consul-SECRET-1")
      return Reply::status(403, R"({"message":"ACL not found"})");
    return Reply::status(403, "Permission denied", "text/plain");
  });
  HttpClientOptions o;
  o.auth = header_token("X-Consul-Token", "consul-SECRET-1");
  auto c = make_client(io, {srv.url()}, o);
  auto r = get(*c, "/v1/session/create");
  EXPECT_EQ(r.status.code, Errc::permission_denied);
  EXPECT_EQ(srv.requests().at(0).header("X-Consul-Token"), "consul-SECRET-1");
  EXPECT_FALSE(contains(r.status.message, "SECRET")) << r.status.message;
}

TEST(HttpAuth, BearerTokenFileIsReReadWhenRotated) {
  IoThreads io;
  const std::string dir = temp_dir();
  const std::string path = dir + "/token";
  write_file(path, "k8s-SECRET-one\n");
  HttpTestServer srv([](const HttpTestRequest&) { return Reply::json(200, "{}"); });
  HttpClientOptions o;
  o.auth = bearer_token_file(path, "backend.token_file");
  auto c = make_client(io, {srv.url()}, o);
  ASSERT_TRUE(get(*c, "/api").ok());
  write_file(path, "k8s-SECRET-two");
  ASSERT_TRUE(get(*c, "/api").ok());
  auto reqs = srv.requests();
  ASSERT_EQ(reqs.size(), 2u);
  EXPECT_EQ(reqs[0].header("Authorization"), "Bearer k8s-SECRET-one");
  EXPECT_EQ(reqs[1].header("Authorization"), "Bearer k8s-SECRET-two");
  // Gone: a clear error naming the file and the option, before anything is sent.
  std::remove(path.c_str());
  auto r = get(*c, "/api");
  EXPECT_EQ(r.status.code, Errc::auth_failed);
  EXPECT_TRUE(contains(r.status.message, path)) << r.status.message;
  EXPECT_TRUE(contains(r.status.message, "backend.token_file")) << r.status.message;
  EXPECT_EQ(srv.requests().size(), 2u);
}

// etcd: POST /v3/auth/authenticate mints a token; the server forgets it (expiry) and answers 401
// with "invalid auth token"; the client fetches a new one and sends the request once more.
TEST(HttpAuth, RefreshOnceAfter401) {
  IoThreads io;
  std::mutex mu;
  std::string valid;  // the token the server accepts now
  int minted = 0;
  bool always_401 = false;
  HttpTestServer srv([&](const HttpTestRequest& r) {
    std::lock_guard<std::mutex> lk(mu);
    if (r.target == "/v3/auth/authenticate") {
      valid = "etcd-SECRET-" + std::to_string(++minted);
      return Reply::json(200, R"({"token":")" + valid + R"("})");
    }
    if (always_401 || r.header("Authorization") != valid)
      return Reply::status(401, R"({"error":"etcdserver: invalid auth token","code":16})");
    return Reply::json(200, R"({"kvs":[]})");
  });
  std::shared_ptr<HttpClient> c;
  std::atomic<int> fetches{0};
  HttpClientOptions o;
  o.auth = refreshing_token("Authorization", [&](std::function<void(Result<std::string>)> done) {
    ++fetches;
    HttpRequest req;
    req.method = "POST";
    req.target = "/v3/auth/authenticate";
    req.body = R"({"name":"root","password":"pw"})";
    req.skip_auth = true;
    c->request(req, [done](HttpResult r) {
      if (!r.ok()) return done(r.status);
      done(r.value.json().value["token"].get<std::string>());
    });
  });
  c = make_client(io, {srv.url()}, o);
  // First use: fetched before the request.
  auto r = get(*c, "/v3/kv/range");
  ASSERT_TRUE(r.ok()) << r.status.message;
  EXPECT_EQ(fetches.load(), 1);
  // Expired: 401, refresh, one more send.
  {
    std::lock_guard<std::mutex> lk(mu);
    valid = "expired";
  }
  r = get(*c, "/v3/kv/range");
  ASSERT_TRUE(r.ok()) << r.status.message;
  EXPECT_EQ(fetches.load(), 2);
  // Still 401 after the refresh: fails after exactly one retry, without the token in the text.
  {
    std::lock_guard<std::mutex> lk(mu);
    always_401 = true;
  }
  const size_t before = srv.requests().size();
  r = get(*c, "/v3/kv/range");
  EXPECT_EQ(r.status.code, Errc::auth_failed);
  EXPECT_EQ(r.value.status, 401);
  EXPECT_TRUE(contains(r.status.message, "invalid auth token")) << r.status.message;
  EXPECT_FALSE(contains(r.status.message, "SECRET")) << r.status.message;
  EXPECT_EQ(srv.requests().size() - before, 3u);  // the GET, the authenticate, the GET again
  EXPECT_EQ(fetches.load(), 3);
  c->close();
}
