// Every message of the URL and option paths, for URLs with a secret in every position (password
// with each reserved character unencoded, password without its '@', secret query keys however
// spelled, a fragment), contains no three consecutive bytes of the secret.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "postgres/pg_config.hpp"
#include "redis/redis_config.hpp"
#include "tenure/elector.hpp"
#include "tenure/url.hpp"

namespace tenure {
namespace {

const std::vector<std::string> kSecrets = {"Qz7Vw9Kx",  "Qz7/Vw9Kx", "Qz7?Vw9Kx", "Qz7#Vw9Kx",
                                           "Qz7@Vw9Kx", "Qz7&Vw9Kx", "Qz7:Vw9Kx", "Qz7%zzVw9",
                                           "Qz7 Vw9Kx", "86429"};

// {S} is replaced by the secret.
const std::vector<std::string> kTemplates = {
    "redis://:{S}@127.0.0.1:6379",
    "redis://user:{S}@127.0.0.1:6379/0",
    "redis://user:{S}@127.0.0.1:6379/x",
    "rediss://user:{S}@127.0.0.1:1?tls_ca=/nonexistent",
    "redis://user:{S}@127.0.0.1:99999",
    "redis://user:{S}@127.0.0.1:6379?unknown=1",
    "redis://user:{S}@127.0.0.1:6379?prefix={}",
    "redis://user:{S}",
    "redis://:{S}",
    "redis://user:{S}@",
    "redis:///:{S}@127.0.0.1",
    "redis:/:{S}@127.0.0.1",
    "redis//:{S}@127.0.0.1",
    "postgres://app:{S}@127.0.0.1:5432/db",
    "postgres://app:{S}@127.0.0.1:5432/db?mode=bogus",
    "postgres://app:{S}@127.0.0.1:5432/db?nosuchkey=1",
    "postgres://127.0.0.1/db?password={S}&nosuchkey=1",
    "postgres://127.0.0.1/db?PASSWORD={S}&x=%zz",
    "postgres://127.0.0.1/db?pa%73sword={S}&x=%zz",
    "postgres://127.0.0.1/db?pa%73sword={S}&mode=bogus",
    "postgres://127.0.0.1/db?sslpassword={S}&mode=bogus",
    "postgres://127.0.0.1/db?auth_token={S}&mode=bogus",
    "postgres://127.0.0.1/db?mode=bogus#{S}",
    "postgres://127.0.0.1:notaport/db?password={S}",
    "file://u:{S}@localhost/tmp/x",
    "file://u:{S}@host/tmp/x",
    "memory://u:{S}@ns/path",
    "nosuch://u:{S}@h",
};

std::string fill(const std::string& t, const std::string& secret) {
  std::string out = t;
  auto at = out.find("{S}");
  if (at != std::string::npos) out.replace(at, 3, secret);
  return out;
}

void expect_clean(const std::string& message, const std::string& secret, const std::string& url) {
  for (size_t i = 0; i + 3 <= secret.size(); ++i) {
    const std::string piece = secret.substr(i, 3);
    EXPECT_EQ(message.find(piece), std::string::npos)
        << "'" << piece << "' of the secret in: " << message << "\n  url: " << url;
  }
}

BackendContext context(const Url& u) {
  BackendContext ctx;
  ctx.url = u;
  ctx.election = "e";
  ctx.identity = "me";
  return ctx;
}

TEST(UrlSecrets, NoMessageShowsAnyPartOfTheSecret) {
  int checked = 0;
  for (const auto& secret : kSecrets) {
    for (const auto& t : kTemplates) {
      // "redis://user:pass@word" is a valid URL with host "word": no parser can tell.
      if (secret.find('@') != std::string::npos && t.size() > 3 &&
          t.compare(t.size() - 3, 3, "{S}") == 0)
        continue;
      const std::string url = fill(t, secret);
      auto parsed = parse_url(url);
      std::vector<std::string> messages = {parsed.status.message};
      if (parsed.ok()) {
        messages.push_back(parsed.value.redacted());
        const BackendContext ctx = context(parsed.value);
        if (parsed.value.scheme == "redis" || parsed.value.scheme == "rediss") {
          auto s = backends::redis::parse_settings(ctx);
          messages.push_back(s.status.message);
          if (s.ok()) messages.push_back(s.value.conn.display);
        }
        if (parsed.value.scheme == "postgres") {
          auto c = backends::pg::parse_config(ctx);
          messages.push_back(c.status.message);
          if (c.ok()) messages.push_back(c.value.conn.where);
        }
      }
      // The whole path a program takes (no connection is made for these backends).
      if (url.rfind("postgres", 0) != 0) {
        ElectorOptions o;
        o.backend_url = url;
        o.election = "e";
        auto e = Elector::create(o);
        messages.push_back(e.status.message);
      }
      for (const auto& m : messages) expect_clean(m, secret, url);
      ++checked;
    }
  }
  EXPECT_GT(checked, static_cast<int>(kSecrets.size() * (kTemplates.size() - 3)));
}

// The examples from issue 14, exactly as reported.
TEST(UrlSecrets, ReportedExamples) {
  for (const char* url : {"redis://:pa/ss@127.0.0.1:6379", "redis://user:p#ss@host:1",
                          "redis://u:p?ss@h", "postgres://h/db?pa%73sword=hunter2&x=%zz"}) {
    auto r = parse_url(url);
    ASSERT_FALSE(r.ok()) << url;
    for (const char* piece : {"pa/", "/ss", "p#s", "#ss", "p?s", "?ss", "hunter2"})
      EXPECT_EQ(r.status.message.find(piece), std::string::npos) << r.status.message;
  }
  auto r = parse_url("redis://:pa/ss@127.0.0.1:6379");
  EXPECT_NE(r.status.message.find("redis://***@127.0.0.1:6379"), std::string::npos)
      << r.status.message;
  EXPECT_NE(r.status.message.find("%2F"), std::string::npos) << "says how to fix it";
}

TEST(UrlSecrets, RedactionKeepsWhatIsHarmless) {
  auto r =
      parse_url("postgres://app:pw@db:5432/x?sslmode=require&Password=a&pa%73sword=b&mode=lease");
  ASSERT_TRUE(r.ok()) << r.status.message;
  EXPECT_EQ(r.value.redacted(),
            "postgres://app:***@db:5432/x?sslmode=require&Password=***&pa%73sword=***&mode=lease");
  auto f = parse_url("file:///tmp/a@b");
  ASSERT_TRUE(f.ok()) << f.status.message;
  EXPECT_EQ(f.value.path, "/tmp/a@b");
  EXPECT_EQ(f.value.redacted(), "file:///tmp/a@b");
  // A password without its '@' reads as a port; the message hides it.
  auto p = parse_url("redis://user:hunter2");
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.status.message.find("hunter2"), std::string::npos) << p.status.message;
  EXPECT_NE(p.status.message.find("redis://user:***"), std::string::npos) << p.status.message;
  // Control characters never reach a log line raw.
  auto c = parse_url("redis://h\x1b[31m:1");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status.message.find('\x1b'), std::string::npos);
}

}  // namespace
}  // namespace tenure
