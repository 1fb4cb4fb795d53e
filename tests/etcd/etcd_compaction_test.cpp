// A follower whose watch start revision is compacted before its watch is created reads the
// election again and watches anew: the handover still reaches it, and at no instant do two lead.
// The follower reaches etcd through a fault proxy that delays its replies, so each of its reads
// comes back late while the test compacts the server every 50 ms: the watch it then creates
// from "the revision after the read" is already compacted and etcd cancels it.
#include <atomic>
#include <memory>
#include <thread>

#include "etcd_gateway.hpp"
#include "etcd_test_support.hpp"
#include "fault_proxy.hpp"
#include "tenure/elector.hpp"
#include "tenure/log.hpp"

namespace tenure::testing {
namespace {

using backends::etcd::base64_encode;

// Puts a key and compacts the server to the put's revision; returns that revision (0: failed).
int64_t put_and_compact(etcd::Gateway& gw, const std::string& key) {
  auto put = gw.post("kv/put", {{"key", base64_encode(key)}, {"value", base64_encode("x")}});
  if (put.is_discarded() || !put.contains("header")) return 0;
  int64_t rev = std::stoll(put["header"].value("revision", std::string("0")));
  auto c = gw.post("kv/compaction", {{"revision", std::to_string(rev)}});
  return c.is_discarded() ? 0 : rev;
}

TEST(EtcdBackend, CompactedWatchRevisionRecoversNeverTwoLeaders) {
  TENURE_REQUIRE_ETCD();
  const std::string url = env("TENURE_TEST_ETCD_URL");
  const std::string hp = etcd::host_port(url);
  const auto election = unique_name("compact");
  // Compaction cancels are logged by the backend: the proof that the fault happened.
  auto canceled = std::make_shared<std::atomic<int>>(0);
  ASSERT_TRUE(set_log_sink(LogLevel::info, [canceled, election](const LogRecord& r) {
                if (r.facility == "etcd" && r.election == election &&
                    r.message.find("compacted") != std::string::npos)
                  ++*canceled;
              }).ok());

  faults::FaultProxy proxy(uint16_t(std::stoi(hp.substr(hp.rfind(':') + 1))));
  // Replies delayed 250 ms: well within the request timeout (550 ms at this timing).
  Timing t{milliseconds(2000), milliseconds(1400), milliseconds(300)};
  std::vector<std::unique_ptr<Elector>> es;
  es.push_back(make_elector(url, election, "a", t, milliseconds(3000)));
  es.push_back(make_elector("etcd://127.0.0.1:" + std::to_string(proxy.port()), election, "b", t,
                            milliseconds(3000)));
  ASSERT_TRUE(es[0]->start().ok());
  ASSERT_TRUE(wait_until([&] { return es[0]->status().is_leader; }, 10s));

  OneLeaderSampler sampler(es);
  proxy.delay_replies(milliseconds(250));
  ASSERT_TRUE(es[1]->start().ok());
  etcd::Gateway gw(hp);
  int64_t last = 0;
  for (auto until = std::chrono::steady_clock::now() + 4s; std::chrono::steady_clock::now() < until;
       std::this_thread::sleep_for(50ms))
    last = std::max(last, put_and_compact(gw, "tenure-test/compact/" + election));
  proxy.pass();
  EXPECT_GT(last, 0) << "the test could not compact the server";
  EXPECT_GT(canceled->load(), 0) << "no watch of b was canceled for a compacted revision: the "
                                    "test did not produce its fault";
  std::this_thread::sleep_for(1s);
  EXPECT_TRUE(es[0]->status().is_leader) << "a lost office while b's watches were canceled";
  EXPECT_FALSE(es[1]->status().is_leader);

  // b watches again from a fresh revision: a's resignation reaches it.
  auto t0 = std::chrono::steady_clock::now();
  ASSERT_TRUE(es[0]->stop().ok());
  EXPECT_TRUE(wait_until([&] { return es[1]->status().is_leader; }, 5s))
      << "b did not take over after its compacted watch";
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 2s) << "the handover was not pushed";
  EXPECT_TRUE(sampler.finish()) << "two leaders at once";
  EXPECT_TRUE(es[1]->stop().ok());
  ASSERT_TRUE(set_log_sink(LogLevel::off, nullptr).ok());
  gw.post("kv/deleterange", {{"key", base64_encode("tenure-test/compact/" + election)}});
}

}  // namespace
}  // namespace tenure::testing
