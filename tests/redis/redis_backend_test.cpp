// The Redis backend below the state machine: clear errors, TLS, pub/sub wake-up, the ledger,
// fencing tokens, connection sharing.
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <thread>

#include "redis_test_support.hpp"

namespace tenure::testing::redis {
namespace {

std::string url() { return env("TENURE_TEST_REDIS_URL"); }
std::string port() { return env("TENURE_TEST_REDIS_PORT"); }

// A loopback TCP server that is not Redis: answers every connection with `banner` (or says
// nothing when banner is empty) and keeps it open until the test ends.
class FakeServer {
 public:
  explicit FakeServer(std::string banner) : banner_(std::move(banner)) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a);
    ::listen(fd_, 16);
    socklen_t len = sizeof a;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    th_ = std::thread([this] {
      for (;;) {
        int c = ::accept(fd_, nullptr, nullptr);
        if (c < 0) return;
        if (!banner_.empty()) (void)!::write(c, banner_.data(), banner_.size());
        clients_.push_back(c);
      }
    });
  }
  ~FakeServer() {
    ::shutdown(fd_, SHUT_RDWR);
    ::close(fd_);
    th_.join();
    for (int c : clients_) ::close(c);
  }
  int port() const { return port_; }

 private:
  std::string banner_;
  int fd_ = -1;
  int port_ = 0;
  std::thread th_;
  std::vector<int> clients_;
};

TEST(RedisErrors, WrongPasswordIsAuthFailed) {
  TENURE_REQUIRE_REDIS();
  ASSERT_NE(cli("ACL SETUSER tenure-pw-user on '>right-password' '~*' '&*' +@all").find("OK"),
            std::string::npos);
  Sessions ss;
  auto s =
      ss.open("redis://tenure-pw-user:wrong-password@127.0.0.1:" + port(), unique_name("pw"), "a");
  ASSERT_TRUE(s.ok()) << s.status.message;
  auto r = ss.acquire(s.value);
  EXPECT_EQ(r.status.code, Errc::auth_failed) << r.status.message;
  EXPECT_NE(r.status.message.find("WRONGPASS"), std::string::npos) << r.status.message;
  EXPECT_EQ(r.status.message.find("wrong-password"), std::string::npos) << "password leaked";
  // The right password works.
  auto ok =
      ss.open("redis://tenure-pw-user:right-password@127.0.0.1:" + port(), unique_name("pw"), "a");
  ASSERT_TRUE(ok.ok());
  auto r2 = ss.acquire(ok.value);
  ASSERT_TRUE(r2.ok()) << r2.status.message;
  EXPECT_TRUE(r2.value.acquired);
}

TEST(RedisErrors, MissingCommandGrantNamesIt) {
  TENURE_REQUIRE_REDIS();
  // Everything but scripting.
  cli("ACL SETUSER tenure-noscript reset on '>pw' '~*' '&*' +@all -@scripting");
  Sessions ss;
  auto s = ss.open("redis://tenure-noscript:pw@127.0.0.1:" + port(), unique_name("acl"), "a");
  ASSERT_TRUE(s.ok());
  auto r = ss.acquire(s.value);
  EXPECT_EQ(r.status.code, Errc::permission_denied) << r.status.message;
  EXPECT_NE(r.status.message.find("+evalsha"), std::string::npos) << r.status.message;
  EXPECT_NE(r.status.message.find("ACL SETUSER tenure-noscript"), std::string::npos)
      << r.status.message;
}

TEST(RedisErrors, MissingKeyGrantNamesThePrefix) {
  TENURE_REQUIRE_REDIS();
  cli("ACL SETUSER tenure-otherkeys reset on '>pw' '~other:*' '&*' +@all");
  Sessions ss;
  auto s = ss.open("redis://tenure-otherkeys:pw@127.0.0.1:" + port(), unique_name("acl"), "a");
  ASSERT_TRUE(s.ok());
  auto r = ss.acquire(s.value);
  EXPECT_EQ(r.status.code, Errc::permission_denied) << r.status.message;
  EXPECT_NE(r.status.message.find("~tenure:*"), std::string::npos) << r.status.message;
}

TEST(RedisErrors, NonRedisPortIsNamed) {
  TENURE_REQUIRE_REDIS();  // uses the runtime only, but keep the suite's rule simple
  Sessions ss;
  FakeServer http("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n");
  auto s = ss.open("redis://127.0.0.1:" + std::to_string(http.port()), unique_name("x"), "a");
  ASSERT_TRUE(s.ok());
  auto r = ss.acquire(s.value);
  EXPECT_FALSE(r.ok());
  EXPECT_NE(r.status.message.find("Redis protocol"), std::string::npos) << r.status.message;
  EXPECT_NE(r.status.message.find("port"), std::string::npos) << r.status.message;

  FakeServer silent("");
  auto s2 = ss.open("redis://127.0.0.1:" + std::to_string(silent.port()), unique_name("x"), "a");
  ASSERT_TRUE(s2.ok());
  auto t0 = std::chrono::steady_clock::now();
  auto r2 = ss.acquire(s2.value);
  auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0);
  EXPECT_EQ(r2.status.code, Errc::timeout) << r2.status.message;
  EXPECT_NE(r2.status.message.find("Redis port"), std::string::npos) << r2.status.message;
  EXPECT_LT(ms.count(), 1000) << "a request must time out below renew_deadline";
}

TEST(RedisErrors, ClosedPortIsUnreachable) {
  TENURE_REQUIRE_REDIS();
  int port_no;
  {
    FakeServer tmp("");
    port_no = tmp.port();
  }
  Sessions ss;
  auto s = ss.open("redis://127.0.0.1:" + std::to_string(port_no), unique_name("x"), "a");
  ASSERT_TRUE(s.ok());
  auto r = ss.acquire(s.value);
  EXPECT_EQ(r.status.code, Errc::unreachable) << r.status.message;
  EXPECT_NE(r.status.message.find("refused"), std::string::npos) << r.status.message;
}

TEST(RedisErrors, KeyOfWrongTypeNamesTheKey) {
  TENURE_REQUIRE_REDIS();
  auto election = unique_name("wrongtype");
  cli("HSET 'tenure:{" + election + "}:lease' field value");
  Sessions ss;
  auto s = ss.open(url(), election, "a");
  ASSERT_TRUE(s.ok());
  auto r = ss.acquire(s.value);
  EXPECT_EQ(r.status.code, Errc::backend) << r.status.message;
  EXPECT_NE(r.status.message.find("tenure:{" + election + "}:lease"), std::string::npos)
      << r.status.message;
  EXPECT_NE(r.status.message.find("prefix"), std::string::npos) << r.status.message;

  // A string that is not a lease record, and a token counter that is not a number.
  auto e2 = unique_name("wrongtype");
  cli("SET 'tenure:{" + e2 + "}:lease' hello");
  auto s2 = ss.open(url(), e2, "a");
  auto r2 = ss.acquire(s2.value);
  EXPECT_EQ(r2.status.code, Errc::backend) << r2.status.message;
  auto e3 = unique_name("wrongtype");
  cli("SET 'tenure:{" + e3 + "}:token' not-a-number");
  auto s3 = ss.open(url(), e3, "a");
  auto r3 = ss.acquire(s3.value);
  EXPECT_EQ(r3.status.code, Errc::backend) << r3.status.message;
  EXPECT_NE(r3.status.message.find(":token"), std::string::npos) << r3.status.message;
}

TEST(RedisErrors, BadOptionsRefusedAtCreation) {
  Sessions ss;
  auto a = ss.open("redis://127.0.0.1:6379", "e", "a", Sessions::default_timing(), {{"nope", "1"}});
  EXPECT_EQ(a.status.code, Errc::unknown_option) << a.status.message;
  auto b = ss.open("redis://127.0.0.1:6379", "e", "a", Sessions::default_timing(),
                   {{"timeout_ms", "5000"}});
  EXPECT_EQ(b.status.code, Errc::invalid_timing) << b.status.message;
  auto c = ss.open("rediss://127.0.0.1:6379", "e", "a", Sessions::default_timing(),
                   {{"tls_ca", "/nonexistent/ca.pem"}});
  EXPECT_EQ(c.status.code, Errc::invalid_argument) << c.status.message;
  auto d = ss.open("redis://127.0.0.1:6379/x", "e", "a");
  EXPECT_EQ(d.status.code, Errc::bad_url) << d.status.message;
}

TEST(RedisTls, ConnectsWithTheTestCa) {
  TENURE_REQUIRE_REDIS();
  Sessions ss;
  auto s = ss.open(env("TENURE_TEST_REDISS_URL"), unique_name("tls"), "a",
                   Sessions::default_timing(), {{"tls_ca", env("TENURE_TEST_REDIS_CA")}});
  ASSERT_TRUE(s.ok()) << s.status.message;
  auto r = ss.acquire(s.value);
  ASSERT_TRUE(r.ok()) << r.status.message;
  EXPECT_TRUE(r.value.acquired);
  EXPECT_TRUE(ss.renew(s.value, r.value.record.token).ok());
  EXPECT_TRUE(ss.release(s.value, r.value.record.token).ok());
}

TEST(RedisTls, ClientCertificateAccepted) {
  TENURE_REQUIRE_REDIS();
  Sessions ss;
  auto s =
      ss.open(env("TENURE_TEST_REDISS_URL"), unique_name("tls"), "a", Sessions::default_timing(),
              {{"tls_ca", env("TENURE_TEST_REDIS_CA")},
               {"tls_cert", env("TENURE_TEST_REDIS_CLIENT_CERT")},
               {"tls_key", env("TENURE_TEST_REDIS_CLIENT_KEY")}});
  ASSERT_TRUE(s.ok()) << s.status.message;
  auto r = ss.acquire(s.value);
  ASSERT_TRUE(r.ok()) << r.status.message;
  EXPECT_TRUE(r.value.acquired);
}

TEST(RedisTls, UnknownCaIsAClearError) {
  TENURE_REQUIRE_REDIS();
  Sessions ss;
  // Without tls_ca the system store does not know the test CA.
  auto s = ss.open(env("TENURE_TEST_REDISS_URL"), unique_name("tls"), "a");
  ASSERT_TRUE(s.ok());
  auto r = ss.acquire(s.value);
  EXPECT_EQ(r.status.code, Errc::unreachable) << r.status.message;
  EXPECT_NE(r.status.message.find("certificate verify failed"), std::string::npos)
      << r.status.message;
  EXPECT_NE(r.status.message.find("tls_ca"), std::string::npos) << r.status.message;
}

TEST(RedisTls, PlainUrlOnTlsPortIsAClearError) {
  TENURE_REQUIRE_REDIS();
  Sessions ss;
  auto s =
      ss.open("redis://127.0.0.1:" + env("TENURE_TEST_REDIS_TLS_PORT"), unique_name("tls"), "a");
  ASSERT_TRUE(s.ok());
  auto r = ss.acquire(s.value);
  EXPECT_FALSE(r.ok());
  EXPECT_NE(r.status.message.find("rediss://"), std::string::npos) << r.status.message;
}

TEST(RedisLease, TokensGrowAndRecordsAreComplete) {
  TENURE_REQUIRE_REDIS();
  Sessions ss;
  auto election = unique_name("tokens");
  auto a = ss.open(url(), election, "holder-a").value;
  auto b = ss.open(url(), election, "holder-b").value;
  auto r1 = ss.acquire(a);
  ASSERT_TRUE(r1.ok() && r1.value.acquired) << r1.status.message;
  EXPECT_EQ(r1.value.record.holder, "holder-a");
  EXPECT_EQ(r1.value.record.lease_duration, milliseconds(1500));
  EXPECT_GT(r1.value.record.acquired_unix_ms, 1600000000000);
  auto rb = ss.acquire(b);
  ASSERT_TRUE(rb.ok());
  EXPECT_FALSE(rb.value.acquired);
  EXPECT_EQ(rb.value.record.holder, "holder-a");
  EXPECT_EQ(rb.value.record.token, r1.value.record.token);
  EXPECT_GT(rb.value.record.expires_in_ms, 1000);
  ASSERT_TRUE(ss.release(a, r1.value.record.token).ok());
  auto rd = ss.read(b);
  ASSERT_TRUE(rd.ok());
  EXPECT_TRUE(rd.value.holder.empty());
  EXPECT_EQ(rd.value.token, r1.value.record.token) << "read reports the last epoch's token";
  auto r2 = ss.acquire(b);
  ASSERT_TRUE(r2.ok() && r2.value.acquired);
  EXPECT_GT(r2.value.record.token, r1.value.record.token);
  EXPECT_EQ(r2.value.record.transitions, r1.value.record.transitions + 1);
  // The token counter never expires.
  EXPECT_EQ(cli("PTTL 'tenure:{" + election + "}:token'"), "-1\n");
}

TEST(RedisLease, TokenNeverGoesBackwardsWhenTheCounterIsLost) {
  TENURE_REQUIRE_REDIS();
  Sessions ss;
  auto election = unique_name("seed");
  auto a = ss.open(url(), election, "a").value;
  auto r1 = ss.acquire(a);
  ASSERT_TRUE(r1.ok() && r1.value.acquired);
  // Data loss (a restart without persistence, a failover to a lagging replica): the counter is
  // gone. It is seeded from the server clock, so the next token is still larger.
  cli("DEL 'tenure:{" + election + "}:lease' 'tenure:{" + election + "}:token'");
  auto r2 = ss.acquire(a);
  ASSERT_TRUE(r2.ok() && r2.value.acquired) << r2.status.message;
  EXPECT_GT(r2.value.record.token, r1.value.record.token);
}

TEST(RedisLease, CustomPrefixAndDatabase) {
  TENURE_REQUIRE_REDIS();
  Sessions ss;
  auto election = unique_name("prefix");
  auto a = ss.open(url() + "/3", election, "a", Sessions::default_timing(), {{"prefix", "myapp:"}});
  ASSERT_TRUE(a.ok()) << a.status.message;
  auto r = ss.acquire(a.value);
  ASSERT_TRUE(r.ok() && r.value.acquired) << r.status.message;
  EXPECT_EQ(cli("-n 3 EXISTS 'myapp:{" + election + "}:lease'"), "1\n");
  EXPECT_EQ(cli("EXISTS 'myapp:{" + election + "}:lease'"), "0\n");
}

TEST(RedisWake, ReleaseWakesWatcherByPubSub) {
  TENURE_REQUIRE_REDIS();
  Sessions ss;
  auto election = unique_name("pubsub");
  auto a = ss.open(url(), election, "a").value;
  auto b = ss.open(url(), election, "b").value;
  std::atomic<int> wakes{0};
  ss.start(b, [&wakes] { ++wakes; });
  auto r = ss.acquire(a);
  ASSERT_TRUE(r.ok() && r.value.acquired);
  ASSERT_TRUE(wait_until([&] { return wakes.load() >= 1; }, 2000ms)) << "no wake on acquire";
  std::this_thread::sleep_for(50ms);
  int before = wakes.load();
  auto t0 = std::chrono::steady_clock::now();
  ASSERT_TRUE(ss.release(a, r.value.record.token).ok());
  ASSERT_TRUE(wait_until([&] { return wakes.load() > before; }, 1000ms, 1ms));
  auto us =
      std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - t0);
  // Nothing but the channel can wake b here (no lease of b's, no poll while subscribed); the
  // bound is generous for loaded and sanitizer runs. The latency itself is in bench/.
  EXPECT_LT(us.count(), 1000000) << "release wake-up took " << us.count() << " us";
}

// A follower is told when the holder's TTL runs out (the core arms the wake-up at retry_at).
TEST(RedisWake, AcquireToldWhenTheHoldersLeaseExpires) {
  TENURE_REQUIRE_REDIS();
  Sessions ss;
  auto election = unique_name("expiry");
  Timing slow{milliseconds(800), milliseconds(600), milliseconds(500)};
  auto a = ss.open(url(), election, "a", slow).value;
  auto b = ss.open(url(), election, "b", slow).value;
  auto r = ss.acquire(a);
  ASSERT_TRUE(r.ok() && r.value.acquired);
  const auto t_acq = std::chrono::steady_clock::now();
  auto rb = ss.acquire(b);  // sees a's TTL
  ASSERT_TRUE(rb.ok());
  ASSERT_FALSE(rb.value.acquired);
  ASSERT_TRUE(rb.value.retry_at.has_value()) << "a follower is told when the lease can move";
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(*rb.value.retry_at - t_acq);
  EXPECT_GE(ms.count(), 600);
  EXPECT_LE(ms.count(), 900) << "retry_at " << ms.count() << " ms after acquire of an 800 ms lease";
  std::this_thread::sleep_until(*rb.value.retry_at);
  auto r2 = ss.acquire(b);
  ASSERT_TRUE(r2.ok());
  EXPECT_TRUE(r2.value.acquired) << "the lease is free at retry_at";
}

TEST(RedisLedger, ClaimFinishFence) {
  TENURE_REQUIRE_REDIS();
  Sessions ss;
  auto election = unique_name("ledger");
  auto a = ss.open(url(), election, "lead-a").value;
  auto b = ss.open(url(), election, "lead-b").value;
  auto ra = ss.acquire(a);
  ASSERT_TRUE(ra.ok() && ra.value.acquired);
  const uint64_t ta = ra.value.record.token;
  auto c1 = ss.claim(a, "job:1", ta, "lead-a", UnfinishedPolicy::retry);
  ASSERT_TRUE(c1.ok()) << c1.status.message;
  EXPECT_TRUE(c1.value.claimed);
  EXPECT_EQ(c1.value.previous.status, RunStatus::none);
  auto again = ss.claim(a, "job:1", ta, "lead-a", UnfinishedPolicy::retry);
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(again.value.claimed) << "same token claimed a started run twice";
  auto rd = ss.read_run(b, "job:1");
  ASSERT_TRUE(rd.ok());
  EXPECT_EQ(rd.value.status, RunStatus::started);
  EXPECT_EQ(rd.value.holder, "lead-a");
  EXPECT_EQ(rd.value.token, ta);

  // a's lease ends; b leads with a newer token: a's finish is fenced, b retries the job.
  ASSERT_TRUE(ss.release(a, ta).ok());
  auto rb = ss.acquire(b);
  ASSERT_TRUE(rb.ok() && rb.value.acquired);
  const uint64_t tb = rb.value.record.token;
  auto fa = ss.finish(a, "job:1", ta, true, "late");
  EXPECT_EQ(fa.status.code, Errc::fenced) << fa.status.message;
  auto ca = ss.claim(a, "job:2", ta, "lead-a", UnfinishedPolicy::retry);
  EXPECT_EQ(ca.status.code, Errc::fenced) << ca.status.message;
  auto skip = ss.claim(b, "job:1", tb, "lead-b", UnfinishedPolicy::skip);
  ASSERT_TRUE(skip.ok());
  EXPECT_FALSE(skip.value.claimed);
  EXPECT_EQ(skip.value.previous.holder, "lead-a");
  auto retry = ss.claim(b, "job:1", tb, "lead-b", UnfinishedPolicy::retry);
  ASSERT_TRUE(retry.ok());
  EXPECT_TRUE(retry.value.claimed);
  auto fb = ss.finish(b, "job:1", tb, true, "done by b");
  ASSERT_TRUE(fb.ok()) << fb.status.message;
  EXPECT_EQ(fb.value.status, RunStatus::finished);
  EXPECT_EQ(fb.value.detail, "done by b");
  EXPECT_GT(fb.value.finished_unix_ms, 0);
  auto done = ss.claim(b, "job:1", tb, "lead-b", UnfinishedPolicy::retry);
  ASSERT_TRUE(done.ok());
  EXPECT_FALSE(done.value.claimed) << "a finished job was claimed again";
  EXPECT_EQ(done.value.previous.status, RunStatus::finished);
  // A failed run may be claimed again.
  ASSERT_TRUE(ss.claim(b, "job:3", tb, "lead-b", UnfinishedPolicy::retry).value.claimed);
  ASSERT_TRUE(ss.finish(b, "job:3", tb, false, "boom").ok());
  EXPECT_TRUE(ss.claim(b, "job:3", tb, "lead-b", UnfinishedPolicy::skip).value.claimed);
  // Bad job keys are refused before any I/O.
  EXPECT_FALSE(ss.claim(b, "bad key with spaces", tb, "lead-b", UnfinishedPolicy::retry).ok());
}

TEST(RedisSharing, ManySessionsShareTwoConnections) {
  TENURE_REQUIRE_REDIS();
  auto count_clients = [] {
    auto out = cli("CLIENT LIST");
    return std::count(out.begin(), out.end(), '\n');
  };
  Sessions ss;
  // Warm up: one session opens the shared command and subscriber connections.
  auto first = ss.open(url(), unique_name("share"), "w").value;
  ss.start(first, [] {});
  ASSERT_TRUE(ss.acquire(first).ok());
  std::this_thread::sleep_for(200ms);
  auto base = count_clients();
  std::vector<LeaseBackend*> all;
  for (int i = 0; i < 200; ++i) {
    auto s = ss.open(url(), unique_name("share"), "s").value;
    ss.start(s, [] {});
    all.push_back(s);
  }
  for (auto* s : all) ASSERT_TRUE(ss.acquire(s).ok());
  std::this_thread::sleep_for(200ms);
  EXPECT_EQ(count_clients(), base) << "200 sessions opened connections of their own";
}

}  // namespace
}  // namespace tenure::testing::redis

namespace tenure::testing::redis {
namespace {

// Without CONFIG the server's keyspace events cannot be turned on: the elector still works
// (expiry is caught by timer and polling) and says so once, as an error event.
TEST(RedisErrors, NoConfigGrantIsReportedOnceAndStillElects) {
  TENURE_REQUIRE_REDIS();
  cli("ACL SETUSER tenure-noconfig reset on '>pw' '~*' '&*' +@all -config");
  ElectorOptions o;
  o.backend_url = "redis://tenure-noconfig:pw@127.0.0.1:" + port();
  o.election = unique_name("noconfig");
  o.identity = "a";
  o.timing = {milliseconds(3000), milliseconds(2000), milliseconds(200)};
  auto e = Elector::create(o);
  ASSERT_TRUE(e.ok()) << e.status.message;
  EventLog log;
  e.value->set_callback(log.callback());
  ASSERT_TRUE(e.value->start().ok());
  // The notice may come before or after the election: look at every event, in any order.
  auto first_error = [&](Event* out) {
    for (auto& ev : log.all())
      if (ev.type == EventType::error) {
        *out = ev;
        return true;
      }
    return false;
  };
  Event err;
  ASSERT_TRUE(wait_until([&] { return first_error(&err); }, 10s)) << "no event about the fallback";
  EXPECT_NE(err.message.find("notify-keyspace-events"), std::string::npos) << err.message;
  ASSERT_TRUE(wait_until([&] { return e.value->status().is_leader; }, 10s));
  std::this_thread::sleep_for(1s);
  int errors = 0;
  for (auto& ev : log.all()) errors += ev.type == EventType::error;
  EXPECT_EQ(errors, 1) << "reported more than once";
  EXPECT_TRUE(e.value->status().is_leader);
  e.value->stop();
}

}  // namespace
}  // namespace tenure::testing::redis
