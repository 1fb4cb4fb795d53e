// Go electors on etcd's own concurrency.Election (tests/etcd/interop, etcd_elect) and tenure
// electors in one election. Every leader, Go or tenure, writes records while it believes it
// leads, each in a txn guarded only by its own candidate key (create revision == its token). If
// two ever led at once, both would write and the records' write order would interleave tokens;
// the check below finds that. It also checks that both kinds led.
#include <atomic>
#include <cstdio>
#include <map>
#include <set>
#include <thread>

#include "etcd_gateway.hpp"
#include "etcd_test_support.hpp"
#include "tenure/elector.hpp"

namespace tenure::testing {
namespace {

using backends::etcd::base64_encode;
using backends::etcd::KeyValue;
using backends::etcd::parse_kvs;
using backends::etcd::prefix_end;
using nlohmann::json;

TEST(EtcdInterop, GoConcurrencyElectionAndTenureShareOneElection) {
  TENURE_REQUIRE_ETCD();
  const std::string go = env("TENURE_TEST_ETCD_GO_ELECT");
  if (go.empty()) {
    if (under_ci()) FAIL() << "TENURE_TEST_ETCD_GO_ELECT not set (etcd.sh builds it)";
    GTEST_SKIP() << "TENURE_TEST_ETCD_GO_ELECT not set: " << etcd::kStartHint;
  }
  const std::string url = env("TENURE_TEST_ETCD_URL");
  const std::string hp = etcd::host_port(url);
  const std::string election = unique_name("interop");
  const std::string pfx = "/tenure/" + election;  // what concurrency.NewElection is given
  const std::string log = "/tenure-interop-log/" + election + "/";
  etcd::Gateway gw(hp);

  // Go candidates: 4 rounds each of campaign, 300 ms of guarded writes, resign.
  std::vector<std::unique_ptr<ChildProcess>> gos;
  for (int i = 0; i < 2; ++i) {
    gos.push_back(std::make_unique<ChildProcess>(std::vector<std::string>{
        go, "candidate", "-endpoints", hp, "-election", pfx, "-name", "go-" + std::to_string(i),
        "-ttl", "2", "-hold", "300", "-rounds", "4", "-log", log, "-write-every", "10"}));
    ASSERT_TRUE(gos.back()->started());
  }

  // tenure candidates: while leading, the same guarded writes; resign after 300 ms.
  std::atomic<bool> stop{false};
  std::vector<std::thread> writers;
  std::vector<std::unique_ptr<Elector>> es;
  for (int i = 0; i < 2; ++i) {
    ElectorOptions o;
    o.backend_url = url;
    o.election = election;
    o.identity = "tenure-" + std::to_string(i);
    o.timing = {milliseconds(2000), milliseconds(1400), milliseconds(300)};
    auto r = Elector::create(o);
    ASSERT_TRUE(r.ok()) << r.status.message;
    es.push_back(std::move(r.value));
    ASSERT_TRUE(es.back()->start().ok());
  }
  for (size_t i = 0; i < es.size(); ++i) {
    writers.emplace_back([&, i] {
      auto& e = *es[i];
      int seq = 0;
      while (!stop) {
        auto st = e.status();
        if (!st.is_leader) {
          std::this_thread::sleep_for(2ms);
          continue;
        }
        // Our candidate key: the one whose create revision is our token.
        auto all = gw.post("kv/range", json{{"key", base64_encode(pfx + "/")},
                                            {"range_end", base64_encode(prefix_end(pfx + "/"))}});
        auto kvs = parse_kvs(all);
        std::string mine;
        if (kvs.ok())
          for (auto& kv : kvs.value)
            if (uint64_t(kv.create_revision) == st.token) mine = kv.key;
        auto until = std::chrono::steady_clock::now() + 300ms;
        while (!mine.empty() && !stop && std::chrono::steady_clock::now() < until &&
               e.status().is_leader) {
          char key[200];
          std::snprintf(key, sizeof key, "%s%020llu/%s/%06d", log.c_str(),
                        (unsigned long long)st.token, ("tenure-" + std::to_string(i)).c_str(),
                        seq++);
          gw.post(
              "kv/txn",
              json{{"compare", json::array({json{{"key", base64_encode(mine)},
                                                 {"target", "CREATE"},
                                                 {"result", "EQUAL"},
                                                 {"create_revision", std::to_string(st.token)}}})},
                   {"success", json::array({json{
                                   {"request_put",
                                    json{{"key", base64_encode(key)},
                                         {"value", base64_encode(std::to_string(st.token))}}}}})}});
          std::this_thread::sleep_for(10ms);
        }
        e.resign();
        std::this_thread::sleep_for(50ms);
      }
    });
  }
  for (auto& g : gos) g->wait();
  std::this_thread::sleep_for(1s);
  stop = true;
  for (auto& w : writers) w.join();
  for (auto& e : es) e->stop();

  // The records in write order (mod revision).
  auto all = gw.post("kv/range", json{{"key", base64_encode(log)},
                                      {"range_end", base64_encode(prefix_end(log))},
                                      {"sort_target", "MOD"},
                                      {"sort_order", "ASCEND"}});
  auto kvs = parse_kvs(all);
  ASSERT_TRUE(kvs.ok()) << all.dump();
  ASSERT_GT(kvs.value.size(), 20u) << "too few records to judge";
  uint64_t last = 0;
  std::map<uint64_t, std::string> who;
  std::set<std::string> kinds, names;
  for (auto& kv : kvs.value) {
    auto rest = kv.key.substr(log.size());
    uint64_t token = std::stoull(rest.substr(0, 20));
    std::string name = rest.substr(21, rest.find('/', 21) - 21);
    EXPECT_GE(token, last) << "records of token " << last << " and " << token
                           << " interleave: two leaders at once";
    last = std::max(last, token);
    auto [it, fresh] = who.emplace(token, name);
    EXPECT_EQ(it->second, name) << "token " << token << " used by two electors";
    kinds.insert(name.substr(0, name.find('-')));
    names.insert(name);
  }
  EXPECT_TRUE(kinds.count("go")) << "no Go elector ever led";
  EXPECT_TRUE(kinds.count("tenure")) << "no tenure elector ever led";
  std::printf("[ info ] %zu records, %zu terms, leaders: ", kvs.value.size(), who.size());
  for (auto& n : names) std::printf("%s ", n.c_str());
  std::printf("\n");
}

}  // namespace
}  // namespace tenure::testing
