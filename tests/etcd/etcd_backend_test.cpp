// etcd-specific behaviour against real etcd 3.6: one server lease for many electors, a lease
// revoked from outside (TTL 0), the cluster member a client talks to killed, clear errors.
#include <atomic>
#include <thread>

#include "etcd_test_support.hpp"
#include "tenure/elector.hpp"

namespace tenure::testing {
namespace {

std::unique_ptr<Elector> make(const std::string& url, const std::string& election,
                              const std::string& identity,
                              Timing t = {milliseconds(2000), milliseconds(1400),
                                          milliseconds(300)}) {
  return make_elector(url, election, identity, t, milliseconds(3000));
}

// Lease IDs the server knows, from /v3/lease/leases.
size_t server_leases(const std::string& url) {
  auto out = etcd::post("lease/leases", "{}", url);
  size_t n = 0;
  for (size_t p = 0; (p = out.find("\"ID\"", p)) != std::string::npos; ++p) ++n;
  return n;
}

TEST(EtcdBackend, ManyElectorsShareOneServerLease) {
  TENURE_REQUIRE_ETCD();
  const std::string url = env("TENURE_TEST_ETCD_URL");
  size_t before = server_leases(url);
  std::vector<std::unique_ptr<Elector>> es;
  for (int i = 0; i < 50; ++i) {
    es.push_back(make(url, unique_name("shared"), "s"));
    ASSERT_TRUE(es.back());
    ASSERT_TRUE(es.back()->start().ok());
  }
  ASSERT_TRUE(wait_until([&] { return count_leaders(es) == 50; }, 20s))
      << count_leaders(es) << " of 50 lead";
  // Other tests' leases may come and go meanwhile; 50 own leases would show.
  EXPECT_LE(server_leases(url), before + 2) << "electors did not share the server lease";
  for (auto& e : es) EXPECT_TRUE(e->stop().ok());
  EXPECT_TRUE(wait_until([&] { return server_leases(url) <= before; }, 5s))
      << "the shared lease was not revoked when its last elector stopped";
}

TEST(EtcdBackend, SecondElectorOfOneElectionInOneProcessGetsItsOwnKey) {
  TENURE_REQUIRE_ETCD();
  const std::string url = env("TENURE_TEST_ETCD_URL");
  auto election = unique_name("twice");
  auto a = make(url, election, "a");
  auto b = make(url, election, "b");
  ASSERT_TRUE(a->start().ok());
  ASSERT_TRUE(wait_until([&] { return a->status().is_leader; }, 10s));
  ASSERT_TRUE(b->start().ok());
  std::this_thread::sleep_for(500ms);
  EXPECT_FALSE(b->status().is_leader) << "two leaders from one process";
  auto t0 = std::chrono::steady_clock::now();
  ASSERT_TRUE(a->stop().ok());
  ASSERT_TRUE(wait_until([&] { return b->status().is_leader; }, 5s));
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 2s) << "handover was not pushed";
}

TEST(EtcdBackend, LeaseRevokedFromOutsideStepsDownAtOnce) {
  TENURE_REQUIRE_ETCD();
  const std::string url = env("TENURE_TEST_ETCD_URL");
  auto election = unique_name("revoked");
  auto a = make(url, election, "a");
  EventLog la;
  a->set_callback(la.callback());
  ASSERT_TRUE(a->start().ok());
  ASSERT_TRUE(la.wait_type(EventType::elected, 10s));
  // The candidate key carries the lease: read it and revoke that lease, as an operator might.
  auto kv = etcd::post("kv/range",
                       "{\"key\":\"" + etcd::sh("printf %s /tenure/" + election + "/ | base64") +
                           "\",\"range_end\":\"" +
                           etcd::sh("printf %s /tenure/" + election + "0 | base64") + "\"}");
  auto p = kv.find("\"lease\":\"");
  ASSERT_NE(p, std::string::npos) << kv;
  auto id = kv.substr(p + 9, kv.find('"', p + 9) - p - 9);
  auto t0 = std::chrono::steady_clock::now();
  etcd::post("lease/revoke", "{\"ID\":\"" + id + "\"}");
  Event e;
  ASSERT_TRUE(la.wait_type(EventType::revoked, 5s, &e)) << "leader kept leading on a revoked lease";
  auto ms = std::chrono::duration_cast<milliseconds>(std::chrono::steady_clock::now() - t0);
  EXPECT_LT(ms.count(), 1400) << "stepped down only after " << ms.count() << " ms";
  // It campaigns again on a fresh lease and leads again (alone in the election).
  EXPECT_TRUE(la.wait_type(EventType::elected, 10s)) << "no new campaign after the lease loss";
  a->stop();
}

TEST(EtcdBackend, KilledClusterMemberClientMovesOnNeverTwoLeaders) {
  TENURE_REQUIRE_ETCD();
  const std::string url = env("TENURE_TEST_ETCD_CLUSTER_URL");
  ASSERT_FALSE(env("TENURE_TEST_ETCD_CTL").empty());
  auto election = unique_name("member");
  std::vector<std::unique_ptr<Elector>> es;
  for (int i = 0; i < 3; ++i) {
    es.push_back(make(url, election, "m-" + std::to_string(i)));
    ASSERT_TRUE(es.back()->start().ok());
  }
  ASSERT_TRUE(wait_until([&] { return count_leaders(es) == 1; }, 10s));
  OneLeaderSampler sampler(es);
  // The client starts with the first endpoint and stays on the one that works: member 1.
  std::string out = etcd::sh(env("TENURE_TEST_ETCD_CTL") + " kill-member " +
                             env("TENURE_TEST_ETCD_STATE") + " 1 2>&1");
  // Hand leadership over while member 1 is down: the successor must reach etcd through 2 or 3.
  for (auto& e : es)
    if (e->status().is_leader) {
      e->stop();
      break;
    }
  bool moved = wait_until([&] { return count_leaders(es) == 1; }, 15s);
  std::this_thread::sleep_for(2s);
  bool steady = count_leaders(es) == 1;
  const bool one = sampler.finish();
  std::string back = etcd::sh(env("TENURE_TEST_ETCD_CTL") + " start-member " +
                              env("TENURE_TEST_ETCD_STATE") + " 1 2>&1");
  EXPECT_TRUE(one) << "two leaders at once while a member was down";
  EXPECT_TRUE(moved) << "no leader while member 1 was down: " << out;
  EXPECT_TRUE(steady) << "leadership did not settle with member 1 down";
  for (auto& e : es) e->stop();
}

void expect_error(const std::string& url, Errc code, const std::string& must_mention) {
  auto e = make(url, unique_name("err"), "x",
                {milliseconds(2000), milliseconds(1400), milliseconds(300)});
  ASSERT_TRUE(e);
  EventLog l;
  e->set_callback(l.callback());
  ASSERT_TRUE(e->start().ok());
  Event ev;
  ASSERT_TRUE(l.wait_type(EventType::error, 15s, &ev)) << "no error event for " << url;
  EXPECT_EQ(ev.code, code) << ev.message;
  EXPECT_NE(ev.message.find(must_mention), std::string::npos) << ev.message;
  EXPECT_FALSE(e->status().is_leader);
  e->stop();
}

TEST(EtcdBackend, WrongPasswordIsAuthFailedWithoutThePassword) {
  TENURE_REQUIRE_ETCD();
  auto hp = etcd::host_port(env("TENURE_TEST_ETCD_AUTH_URL"));
  expect_error("etcd://tenure:Sekrit-Wrong@" + hp, Errc::auth_failed, "tenure");
  auto e = make("etcd://tenure:Sekrit-Wrong@" + hp, unique_name("err"), "x");
  EventLog l;
  e->set_callback(l.callback());
  ASSERT_TRUE(e->start().ok());
  Event ev;
  ASSERT_TRUE(l.wait_type(EventType::error, 15s, &ev));
  EXPECT_EQ(ev.message.find("Sekrit-Wrong"), std::string::npos)
      << "password leaked: " << ev.message;
  e->stop();
}

TEST(EtcdBackend, NoCredentialsOnAnAuthServerSaysSo) {
  TENURE_REQUIRE_ETCD();
  expect_error(env("TENURE_TEST_ETCD_AUTH_URL"), Errc::auth_failed, "user:password");
}

TEST(EtcdBackend, NonEtcdPortIsNamed) {
  TENURE_REQUIRE_ETCD();
  // etcd's peer port speaks HTTP but has no /v3 API.
  expect_error("etcd://127.0.0.1:" + env("TENURE_TEST_ETCD_PEER_PORT"), Errc::backend,
               "client port");
}

TEST(EtcdBackend, UnreachableEndpointsAreNamed) {
  TENURE_REQUIRE_ETCD();
  expect_error("etcd://127.0.0.1:1,127.0.0.1:2", Errc::unreachable, "127.0.0.1");
}

}  // namespace
}  // namespace tenure::testing
