// Endpoints, the backoff numbers, the JSON stream splitter, the deadline queue and the
// connection registry.
#include <atomic>
#include <boost/asio/post.hpp>

#include "net_test_support.hpp"
#include "tenure/net/backoff.hpp"
#include "tenure/net/deadline_queue.hpp"
#include "tenure/net/endpoint.hpp"
#include "tenure/net/json_stream.hpp"
#include "tenure/net/registry.hpp"

using namespace std::chrono_literals;
using namespace tenure;
using namespace tenure::net;
using tenure::testing::Box;
using tenure::testing::IoThreads;

TEST(Endpoint, ParsesSchemesPortsAndIpv6) {
  auto e = parse_endpoint("https://etcd-1:2379", 80, false);
  ASSERT_TRUE(e.ok()) << e.status.message;
  EXPECT_EQ(e.value.host, "etcd-1");
  EXPECT_EQ(e.value.port, 2379);
  EXPECT_TRUE(e.value.tls);
  e = parse_endpoint("[::1]:8500", 1, false);
  ASSERT_TRUE(e.ok()) << e.status.message;
  EXPECT_EQ(e.value.host, "::1");
  EXPECT_EQ(e.value.authority(), "[::1]:8500");
  EXPECT_EQ(e.value.describe(), "http://[::1]:8500");
  e = parse_endpoint("host", 2379, true);
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e.value.port, 2379);
  EXPECT_TRUE(e.value.tls);
  auto list = parse_endpoints("http://a:1,b:2,https://[fe80::1]:3", 9, false);
  ASSERT_TRUE(list.ok()) << list.status.message;
  ASSERT_EQ(list.value.size(), 3u);
  EXPECT_EQ(list.value[1].host, "b");
  EXPECT_TRUE(list.value[2].tls);
}

TEST(Endpoint, RefusesBadInputWithReasons) {
  auto e = parse_endpoint("ftp://h:1", 1, false);
  EXPECT_EQ(e.status.code, Errc::bad_url);
  EXPECT_NE(e.status.message.find("unknown scheme 'ftp'"), std::string::npos);
  e = parse_endpoint("::1:2379", 1, false);
  EXPECT_NE(e.status.message.find("brackets"), std::string::npos);
  e = parse_endpoint("h:99999", 1, false);
  EXPECT_NE(e.status.message.find("1 to 65535"), std::string::npos);
  e = parse_endpoint("http://user:secret@h:1", 1, false);
  EXPECT_EQ(e.status.code, Errc::bad_url);
  EXPECT_EQ(e.status.message.find("secret"), std::string::npos) << e.status.message;
  auto l = parse_endpoints("a:1,,b:2", 1, false);
  EXPECT_NE(l.status.message.find("empty endpoint"), std::string::npos);
}

TEST(Backoff, DocumentedNumbers) {
  Backoff b(kBackoff, 42);
  // 50 ms doubling to a 2 s cap; each delay 80..100 % of its nominal value.
  const int64_t nominal[] = {50, 100, 200, 400, 800, 1600, 2000, 2000};
  for (int64_t n : nominal) {
    EXPECT_EQ(b.peek_nominal().count(), n);
    const auto d = b.next().count();
    EXPECT_LE(d, n);
    EXPECT_GE(d, n * 8 / 10);
  }
  b.reset();
  EXPECT_EQ(b.peek_nominal().count(), 50);
  // Two connections draw different delays (jitter spreads reconnects).
  Backoff x(kBackoff, 1), y(kBackoff, 2);
  int differ = 0;
  for (int i = 0; i < 6; ++i) differ += x.next() != y.next();
  EXPECT_GT(differ, 0);
}

TEST(JsonStream, SplitsValuesAcrossArbitraryBoundaries) {
  const std::string text = R"({"a":1,"s":"} { \" ]"}  {"b":[1,{"c":2}]})"
                           "\n"
                           R"([3,4])"
                           "\n";
  for (size_t cut = 1; cut <= text.size(); ++cut) {  // every split point, byte by byte
    JsonStreamSplitter s(1024);
    std::vector<nlohmann::json> got;
    for (size_t i = 0; i < text.size(); i += cut) {
      Status st = s.feed(std::string_view(text).substr(i, cut),
                         [&](nlohmann::json v) { got.push_back(v); });
      ASSERT_TRUE(st.ok()) << st.message;
    }
    ASSERT_EQ(got.size(), 3u) << "cut " << cut;
    EXPECT_EQ(got[0]["s"], "} { \" ]");
    EXPECT_EQ(got[1]["b"][1]["c"], 2);
    EXPECT_EQ(got[2][1], 4);
    EXPECT_FALSE(s.mid_value());
  }
}

TEST(JsonStream, ReportsOversizeGarbageAndCut) {
  JsonStreamSplitter s(10);
  auto st = s.feed(R"({"aaaaaaaaaaaaaaaa":1})", [](nlohmann::json) {});
  EXPECT_EQ(st.code, Errc::backend);
  EXPECT_NE(st.message.find("limit of 10 bytes"), std::string::npos) << st.message;
  JsonStreamSplitter g(100);
  st = g.feed("<html>", [](nlohmann::json) {});
  EXPECT_NE(st.message.find("other than JSON"), std::string::npos) << st.message;
  JsonStreamSplitter c(100);
  EXPECT_TRUE(c.feed(R"({"a":)", [](nlohmann::json) {}).ok());
  EXPECT_TRUE(c.mid_value());
  EXPECT_EQ(c.buffered(), 5u);
}

TEST(DeadlineQueue, FiresInOrderOnTheExecutorAndCancels) {
  IoThreads io;
  auto ex = io.strand();
  auto q = DeadlineQueue::create(ex);
  std::mutex mu;
  std::vector<int> order;
  Box<bool> all;
  const auto t0 = DeadlineQueue::Clock::now();
  // Added out of order; one cancelled; many share the one timer.
  auto add = [&](int ms, int tag) {
    return q->add(t0 + std::chrono::milliseconds(ms), [&, tag, ex] {
      EXPECT_TRUE(ex.target<boost::asio::strand<boost::asio::io_context::executor_type>>()
                      ->running_in_this_thread());
      std::lock_guard<std::mutex> lk(mu);
      order.push_back(tag);
      if (order.size() == 4) all.set(true);
    });
  };
  add(60, 3);
  const auto c = add(30, 99);
  add(10, 1);
  add(40, 2);
  add(80, 4);
  EXPECT_TRUE(q->cancel(c));
  EXPECT_FALSE(q->cancel(c));
  ASSERT_TRUE(all.wait());
  std::this_thread::sleep_for(30ms);
  std::lock_guard<std::mutex> lk(mu);
  EXPECT_EQ(order, (std::vector<int>{1, 2, 3, 4}));
  EXPECT_GE(DeadlineQueue::Clock::now() - t0, 80ms);
  EXPECT_EQ(q->size(), 0u);
}

TEST(DeadlineQueue, NeverInlineAndCloseDropsAll) {
  IoThreads io;
  auto q = DeadlineQueue::create(io.strand());
  std::atomic<int> ran{0};
  std::atomic<bool> inline_run{false};
  // Already due: still posted, never run inside add(). The io threads may run it before add()
  // returns, so the test asks which thread ran it, not whether it ran yet.
  const auto caller = std::this_thread::get_id();
  q->add(DeadlineQueue::Clock::now() - 1s, [&] {
    if (std::this_thread::get_id() == caller) inline_run = true;
    ran++;
  });
  EXPECT_FALSE(inline_run.load());
  for (int i = 0; i < 100; ++i) q->add_after(50ms, [&] { ran += 1000; });
  q->close();
  EXPECT_EQ(q->add_after(1ms, [&] { ran += 1000; }), 0u);
  std::this_thread::sleep_for(120ms);
  EXPECT_LE(ran.load(), 1);  // the due one may have run before close; the others never
}

namespace {
struct Shared : Abandonable {
  explicit Shared(std::atomic<int>* a) : abandoned(a) {}
  void abandon() override { ++*abandoned; }
  std::atomic<int>* abandoned;
};
}  // namespace

TEST(ConnectionRegistry, OnePerKeyPerRuntimeAbandonedAtShutdown) {
  std::atomic<int> abandoned{0};
  std::atomic<int> made{0};
  std::shared_ptr<Shared> keep;
  {
    IoThreads io;
    auto& reg = ConnectionRegistry::of(io.strand());
    auto make = [&]() -> std::shared_ptr<Shared> {
      ++made;
      auto s = std::make_shared<Shared>(&abandoned);
      return s;
    };
    auto a = reg.get_or_create<Shared>("etcd://h1", make);
    auto b = ConnectionRegistry::of(io.strand()).get_or_create<Shared>("etcd://h1", make);
    auto c = reg.get_or_create<Shared>("etcd://h2", make);
    EXPECT_EQ(a, b);
    EXPECT_NE(a, c);
    EXPECT_EQ(made.load(), 2);
    EXPECT_EQ(reg.live_objects(), 2u);
    c.reset();  // freed with its last user, created anew on next use
    EXPECT_EQ(reg.live_objects(), 1u);
    reg.track(a);
    keep = a;
    io.stop();
  }  // the io_context's destruction shuts the service down
  EXPECT_EQ(abandoned.load(), 1);
  // A new runtime never sees the old objects.
  IoThreads io2;
  auto d = ConnectionRegistry::of(io2.strand()).get_or_create<Shared>("etcd://h1", [&] {
    ++made;
    return std::make_shared<Shared>(&abandoned);
  });
  EXPECT_NE(d, keep);
  EXPECT_EQ(made.load(), 3);
}

TEST(ConnectionRegistry, OwnStrandIsSeparateFromTheCallersStrand) {
  IoThreads io;
  auto a = io.strand();
  auto b = own_strand(a);
  EXPECT_NE(a, b);
  Box<bool> ran;
  boost::asio::post(b, [&] { ran.set(true); });
  EXPECT_TRUE(ran.wait().has_value());
}
