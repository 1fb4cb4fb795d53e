#include <gtest/gtest.h>

#include "tenure/ledger.hpp"
#include "tenure/options.hpp"
#include "tenure/url.hpp"

namespace tenure {
namespace {

TEST(Url, ParsesEveryPart) {
  auto r = parse_url("redis://user:p%40ss@127.0.0.1:6380/2?prefix=app%3A&x=1");
  ASSERT_TRUE(r.ok()) << r.status.message;
  EXPECT_EQ(r.value.scheme, "redis");
  EXPECT_EQ(r.value.user, "user");
  EXPECT_EQ(r.value.password, "p@ss");
  EXPECT_TRUE(r.value.has_password);
  EXPECT_EQ(r.value.host, "127.0.0.1");
  EXPECT_EQ(r.value.port, 6380);
  EXPECT_EQ(r.value.path, "/2");
  EXPECT_EQ(r.value.query.at("prefix"), "app:");
  // Only values of keys known to be harmless are shown.
  EXPECT_EQ(r.value.redacted(), "redis://user:***@127.0.0.1:6380/2?prefix=app%3A&x=***");
}

// Secrets passed as query parameters (libpq's password, sslpassword) never show either.
TEST(Url, RedactsSecretQueryValues) {
  auto r = parse_url(
      "postgres://app@db:5432/x?sslmode=require&password=hunter2&sslpassword=k3y&application_name="
      "a&Auth_Token=t0k");
  ASSERT_TRUE(r.ok()) << r.status.message;
  EXPECT_EQ(r.value.redacted(),
            "postgres://app@db:5432/x?sslmode=require&password=***&sslpassword=***&"
            "application_name=a&Auth_Token=***");
  auto both = parse_url("redis://u:pw@h:1?password=pw2");
  ASSERT_TRUE(both.ok());
  EXPECT_EQ(both.value.redacted(), "redis://u:***@h:1?password=***");
  // A malformed URL's error message is redacted the same way.
  auto bad = parse_url("postgres://u:pw@h:notaport/db?password=pw2");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status.message.find("pw2"), std::string::npos) << bad.status.message;
  EXPECT_EQ(bad.status.message.find(":pw@"), std::string::npos) << bad.status.message;
}

TEST(Url, FileAndIpv6) {
  auto f = parse_url("file:///var/lib/tenure");
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(f.value.host, "");
  EXPECT_EQ(f.value.path, "/var/lib/tenure");
  auto v6 = parse_url("postgres://u@[::1]:5432/db");
  ASSERT_TRUE(v6.ok()) << v6.status.message;
  EXPECT_EQ(v6.value.host, "::1");
  EXPECT_EQ(v6.value.port, 5432);
  EXPECT_FALSE(v6.value.has_password);
}

TEST(Url, SeveralHosts) {
  auto r = parse_url("etcd://u:pw@h1:2379,h2:2380,[::1]:2381,h4/prefix?x=1");
  ASSERT_TRUE(r.ok()) << r.status.message;
  ASSERT_EQ(r.value.hosts.size(), 4u);
  EXPECT_EQ(r.value.hosts[0].host, "h1");
  EXPECT_EQ(r.value.hosts[0].port, 2379);
  EXPECT_EQ(r.value.hosts[1].host, "h2");
  EXPECT_EQ(r.value.hosts[1].port, 2380);
  EXPECT_EQ(r.value.hosts[2].host, "::1");
  EXPECT_EQ(r.value.hosts[2].port, 2381);
  EXPECT_EQ(r.value.hosts[3].host, "h4");
  EXPECT_EQ(r.value.hosts[3].port, 0) << "no port given";
  // host/port stay hosts[0] for backends that take one host.
  EXPECT_EQ(r.value.host, "h1");
  EXPECT_EQ(r.value.port, 2379);
  EXPECT_EQ(r.value.path, "/prefix");
  EXPECT_EQ(r.value.password, "pw");
  EXPECT_EQ(r.value.redacted(), "etcd://u:***@h1:2379,h2:2380,[::1]:2381,h4/prefix?x=***");
  auto v6 = parse_url("etcd://[fe80::1%25eth0]:2379,[2001:db8::2]");
  ASSERT_TRUE(v6.ok()) << v6.status.message;
  ASSERT_EQ(v6.value.hosts.size(), 2u);
  EXPECT_EQ(v6.value.hosts[0].host, "fe80::1%eth0");
  EXPECT_EQ(v6.value.hosts[1].host, "2001:db8::2");
  EXPECT_EQ(v6.value.hosts[1].port, 0);
  auto none = parse_url("file:///var/lib/tenure");
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none.value.hosts.empty());
}

TEST(Url, BadHostListsSayWhatIsWrong) {
  struct Case {
    const char* url;
    const char* says;
  };
  for (const Case& c :
       {Case{"etcd://h1:2379,,h2:2379", "empty host"}, Case{"etcd://h1:2379,", "empty host"},
        Case{"etcd://,h1", "empty host"}, Case{"etcd://h1:2379,h2:x", "not a number"},
        Case{"etcd://h1,h2:70000", "1..65535"}, Case{"etcd://h1,[::1", "unclosed '['"},
        Case{"etcd://h1,[::1]x", "junk after the IPv6 host"},
        Case{"etcd://[]:2379", "empty brackets"}, Case{"etcd://[zz::1]:2379", "hex digits"},
        Case{"etcd://::1:2379", "needs brackets"}, Case{"etcd://h1:", "without a port"}}) {
    auto r = parse_url(c.url);
    ASSERT_FALSE(r.ok()) << c.url;
    EXPECT_EQ(r.status.code, Errc::bad_url) << c.url;
    EXPECT_NE(r.status.message.find(c.says), std::string::npos)
        << c.url << ": " << r.status.message;
  }
  // A bad port in the second host may be a password missing its '@': not shown.
  auto leak = parse_url("etcd://h1:2379,user:s3cret/x");
  ASSERT_FALSE(leak.ok());
  EXPECT_EQ(leak.status.message.find("s3cret"), std::string::npos) << leak.status.message;
}

TEST(Url, RejectsMalformedWithoutLeakingPasswords) {
  for (const char* bad : {"", "127.0.0.1:6379", "://x", "redis://h:99999", "redis://h:12a",
                          "redis://h:", "redis://[::1", "redis://h/%zz", "has space://x"}) {
    auto r = parse_url(bad);
    EXPECT_EQ(r.status.code, Errc::bad_url) << bad;
    EXPECT_FALSE(r.status.message.empty());
  }
  auto r = parse_url("redis://u:secret@h:99999");
  EXPECT_EQ(r.status.code, Errc::bad_url);
  EXPECT_EQ(r.status.message.find("secret"), std::string::npos) << r.status.message;
}

TEST(Options, TimingRuleAndMessages) {
  EXPECT_TRUE(validate_timing({}).ok());
  auto s = validate_timing({milliseconds(100), milliseconds(200), milliseconds(50)});
  EXPECT_EQ(s.code, Errc::invalid_timing);
  EXPECT_NE(s.message.find("lease_duration=100 ms"), std::string::npos) << s.message;
  EXPECT_EQ(validate_timing({milliseconds(300), milliseconds(200), milliseconds(200)}).code,
            Errc::invalid_timing);
  EXPECT_EQ(validate_timing({milliseconds(300), milliseconds(200), milliseconds(0)}).code,
            Errc::invalid_timing);
}

TEST(Options, SetFromStrings) {
  ElectorOptions o;
  EXPECT_TRUE(set_option(o, "lease_duration_ms", "9000").ok());
  EXPECT_EQ(o.timing.lease_duration.count(), 9000);
  EXPECT_EQ(set_option(o, "lease_duration_ms", "9s").code, Errc::invalid_argument);
  EXPECT_EQ(set_option(o, "observe_only", "maybe").code, Errc::invalid_argument);
  EXPECT_TRUE(set_option(o, "observe_only", "true").ok());
  EXPECT_TRUE(o.observe_only);
  EXPECT_TRUE(set_option(o, "backend.prefix", "x:").ok());
  EXPECT_EQ(o.backend_options.at("prefix"), "x:");
  auto s = set_option(o, "lease_duraton_ms", "1");
  EXPECT_EQ(s.code, Errc::unknown_option);
  EXPECT_NE(s.message.find("lease_duration_ms"), std::string::npos);
}

TEST(Options, Names) {
  EXPECT_TRUE(validate_election_name("nightly-report_v2.1").ok());
  EXPECT_EQ(validate_election_name(".hidden").code, Errc::invalid_name);
  EXPECT_EQ(validate_election_name("a/b").code, Errc::invalid_name);
  EXPECT_EQ(validate_election_name(std::string(129, 'a')).code, Errc::invalid_name);
  EXPECT_TRUE(validate_identity("web-1@host:8080").ok());
  EXPECT_EQ(validate_identity("a b").code, Errc::invalid_name);
  EXPECT_EQ(validate_identity("").code, Errc::invalid_name);
  EXPECT_TRUE(validate_identity(default_identity()).ok());
  EXPECT_NE(default_identity(), default_identity());
}

}  // namespace
}  // namespace tenure

namespace tenure {
namespace {

TEST(Ledger, ClaimRule) {
  RunRecord none;
  EXPECT_TRUE(may_claim(none, 5, UnfinishedPolicy::skip));
  RunRecord r = started_run("job", 4, "old");
  EXPECT_EQ(r.status, RunStatus::started);
  EXPECT_GT(r.started_unix_ms, 0);
  EXPECT_TRUE(may_claim(r, 5, UnfinishedPolicy::retry)) << "an older leader's unfinished run";
  EXPECT_FALSE(may_claim(r, 5, UnfinishedPolicy::skip));
  EXPECT_FALSE(may_claim(r, 4, UnfinishedPolicy::retry)) << "our own run in progress";
  EXPECT_FALSE(may_claim(r, 3, UnfinishedPolicy::retry)) << "a newer leader's run";
  r.status = RunStatus::finished;
  EXPECT_FALSE(may_claim(r, 9, UnfinishedPolicy::retry));
  r.status = RunStatus::failed;
  EXPECT_TRUE(may_claim(r, 9, UnfinishedPolicy::skip));
  EXPECT_EQ(validate_job_key("report:2026-11-26/eu@1").code, Errc::ok);
  EXPECT_EQ(validate_job_key("").code, Errc::invalid_argument);
  EXPECT_EQ(validate_job_key("a b").code, Errc::invalid_argument);
}

}  // namespace
}  // namespace tenure
