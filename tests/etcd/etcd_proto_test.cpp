// The etcd gateway's bodies and answers, without a server: base64, ranges, the key layout that
// concurrency.Election uses, error mapping, and the election order.
#include <gtest/gtest.h>

#include "etcd/etcd_proto.hpp"

namespace tenure::backends::etcd {
namespace {

TEST(EtcdProto, Base64RoundTripsEveryLength) {
  EXPECT_EQ(base64_encode(""), "");
  EXPECT_EQ(base64_encode("f"), "Zg==");
  EXPECT_EQ(base64_encode("fo"), "Zm8=");
  EXPECT_EQ(base64_encode("foo"), "Zm9v");
  EXPECT_EQ(base64_encode("/t/e/a"), "L3QvZS9h");  // as etcd answered it
  std::string bytes;
  for (int i = 0; i < 256; ++i) bytes += char(i);
  for (size_t n = 0; n <= bytes.size(); n += 7) {
    std::string out;
    ASSERT_TRUE(base64_decode(base64_encode(bytes.substr(0, n)), out));
    EXPECT_EQ(out, bytes.substr(0, n));
  }
  std::string out;
  EXPECT_TRUE(base64_decode("Zg", out));  // padding optional
  EXPECT_EQ(out, "f");
  EXPECT_FALSE(base64_decode("Z", out));
  EXPECT_FALSE(base64_decode("Zm9*", out));
}

TEST(EtcdProto, PrefixEndCoversThePrefix) {
  EXPECT_EQ(prefix_end("/a/"), "/a0");
  EXPECT_EQ(prefix_end(std::string("a\xff", 2)), "b");
  EXPECT_EQ(prefix_end(std::string("\xff\xff", 2)), std::string(1, '\0'));
}

TEST(EtcdProto, KeyLayoutMatchesConcurrencyElection) {
  // Go: NewElection(s, "/tenure/jobs") writes "/tenure/jobs/" + fmt.Sprintf("%x", leaseID).
  auto l = make_layout("", "jobs");
  EXPECT_EQ(l.election_prefix, "/tenure/jobs/");
  EXPECT_EQ(l.candidate_key(0x694d7d2a3ab8c10b), "/tenure/jobs/694d7d2a3ab8c10b");
  EXPECT_EQ(l.runs_prefix, "/tenure/.tenure-runs/jobs/");
  EXPECT_EQ(make_layout("/svc/", "x").election_prefix, "/svc/x/");
  EXPECT_EQ(make_layout("/", "x").election_prefix, "/x/");  // NewElection(s, "/x")
  EXPECT_EQ(lease_hex(255), "ff");
  EXPECT_EQ(lease_hex(-1), "-1");
  EXPECT_EQ(lease_hex(INT64_MIN), "-8000000000000000");
}

TEST(EtcdProto, ParsesInt64AsStringOrNumber) {
  auto j = json::parse(R"({"a":"9223372036854775807","b":12,"c":"x","d":1.5})");
  EXPECT_EQ(get_int64(j, "a").value, INT64_MAX);
  EXPECT_EQ(get_int64(j, "b").value, 12);
  EXPECT_EQ(get_int64(j, "missing").value, 0);
  EXPECT_EQ(get_int64(j, "c").status.code, Errc::backend);
  EXPECT_EQ(get_int64(j, "d").status.code, Errc::backend);
}

TEST(EtcdProto, TxnBodyHasTheGatewayShape) {
  auto b = txn_body({create_revision_is("/t/e/a", 0)}, {put_op("/t/e/a", "me", 42)},
                    {range_op("/t/e/a")});
  EXPECT_EQ(b["compare"][0]["target"], "CREATE");
  EXPECT_EQ(b["compare"][0]["result"], "EQUAL");
  EXPECT_EQ(b["compare"][0]["create_revision"], "0");
  EXPECT_EQ(b["compare"][0]["key"], "L3QvZS9h");
  EXPECT_EQ(b["success"][0]["request_put"]["lease"], "42");
  EXPECT_EQ(b["success"][0]["request_put"]["value"], "bWU=");
  EXPECT_EQ(b["failure"][0]["request_range"]["key"], "L3QvZS9h");
  auto d = txn_body({mod_revision_is("k", 7)}, {delete_op("k")}, {});
  EXPECT_EQ(d["compare"][0]["target"], "MOD");
  EXPECT_EQ(d["success"][0]["request_delete_range"]["key"], "aw==");
}

TEST(EtcdProto, ParsesTxnAnswers) {
  // Answers as etcd 3.6.16 sent them (curl), a failed create with the existing key's range.
  auto j = json::parse(
      R"({"header":{"revision":"2"},"responses":[{"response_range":{"header":{"revision":"2"},)"
      R"("kvs":[{"key":"L3QvZS9h","create_revision":"2","mod_revision":"2","version":"1",)"
      R"("value":"bWU=","lease":"1829202727535123462"}],"count":"1"}}]})");
  auto r = parse_txn(j);
  ASSERT_TRUE(r.ok()) << r.status.message;
  EXPECT_FALSE(r.value.succeeded);
  EXPECT_EQ(r.value.revision, 2);
  ASSERT_EQ(r.value.ranges.size(), 1u);
  ASSERT_EQ(r.value.ranges[0].size(), 1u);
  EXPECT_EQ(r.value.ranges[0][0].key, "/t/e/a");
  EXPECT_EQ(r.value.ranges[0][0].value, "me");
  EXPECT_EQ(r.value.ranges[0][0].lease, 1829202727535123462);
  auto ok = parse_txn(json::parse(
      R"({"header":{"revision":"3"},"succeeded":true,"responses":[{"response_put":{"header":{"revision":"3"}}}]})"));
  ASSERT_TRUE(ok.ok());
  EXPECT_TRUE(ok.value.succeeded);
  EXPECT_EQ(ok.value.revision, 3);
}

TEST(EtcdProto, ParsesWatchStream) {
  auto created =
      parse_watch_message(json::parse(R"({"result":{"header":{"revision":"3"},"created":true}})"));
  ASSERT_TRUE(created.ok());
  EXPECT_TRUE(created.value.created);
  auto ev = parse_watch_message(json::parse(
      R"({"result":{"header":{"revision":"3"},"events":[{"kv":{"key":"L3QvZS9h","create_revision":"2",)"
      R"("mod_revision":"2","version":"1","value":"bWU="}},{"type":"DELETE","kv":{"key":"L3QvZS9h",)"
      R"("mod_revision":"3"}}]}})"));
  ASSERT_TRUE(ev.ok()) << ev.status.message;
  ASSERT_EQ(ev.value.events.size(), 2u);
  EXPECT_FALSE(ev.value.events[0].is_delete);  // a PUT has no "type"
  EXPECT_TRUE(ev.value.events[1].is_delete);
  EXPECT_EQ(ev.value.events[1].kv.key, "/t/e/a");
  auto compacted = parse_watch_message(json::parse(
      R"({"result":{"header":{"raft_term":"2"},"canceled":true,"compact_revision":"1366"}})"));
  ASSERT_TRUE(compacted.ok());
  EXPECT_TRUE(compacted.value.canceled);
  EXPECT_EQ(compacted.value.compact_revision, 1366);
  auto err = parse_watch_message(json::parse(
      R"({"error":{"grpc_code":16,"http_code":401,"message":"etcdserver: invalid auth token"}})"));
  EXPECT_EQ(err.status.code, Errc::auth_failed);
}

TEST(EtcdProto, KeepAliveTtlZeroMeansGone) {
  EXPECT_EQ(parse_keepalive_ttl(json::parse(R"({"result":{"ID":"5","TTL":"2"}})")).value, 2);
  EXPECT_EQ(parse_keepalive_ttl(json::parse(R"({"result":{"header":{},"ID":"123"}})")).value, 0);
}

TEST(EtcdProto, MapsGatewayErrors) {
  auto e = [](const char* body) {
    return error_from_body(json::parse(body), "127.0.0.1:2379", "txn");
  };
  EXPECT_FALSE(e(R"({"header":{"revision":"1"}})"));
  auto bad_pw =
      e(R"({"code":3,"message":"etcdserver: authentication failed, invalid user ID or password"})");
  ASSERT_TRUE(bad_pw);
  EXPECT_EQ(bad_pw->code, Errc::auth_failed);
  EXPECT_NE(bad_pw->message.find("127.0.0.1:2379"), std::string::npos);
  EXPECT_EQ(e(R"({"code":3,"message":"etcdserver: user name is empty"})")->code, Errc::auth_failed);
  EXPECT_EQ(e(R"({"code":7,"message":"etcdserver: permission denied"})")->code,
            Errc::permission_denied);
  EXPECT_EQ(e(R"({"code":5,"message":"etcdserver: requested lease not found"})")->code, Errc::lost);
  EXPECT_EQ(e(R"({"code":14,"message":"etcdserver: no leader"})")->code, Errc::unreachable);
  EXPECT_TRUE(
      is_invalid_token(json::parse(R"({"code":16,"message":"etcdserver: invalid auth token"})")));
}

TEST(EtcdProto, ElectionOrderIsCreateRevision) {
  std::vector<KeyValue> kvs(3);
  kvs[0].key = "c";
  kvs[0].create_revision = 30;
  kvs[1].key = "a";
  kvs[1].create_revision = 10;
  kvs[2].key = "b";
  kvs[2].create_revision = 20;
  EXPECT_EQ(lowest_create(kvs)->key, "a");
  EXPECT_EQ(newest_before(kvs, 30)->key, "b");
  EXPECT_EQ(newest_before(kvs, 20)->key, "a");
  EXPECT_EQ(newest_before(kvs, 10), nullptr);
  EXPECT_EQ(lowest_create({}), nullptr);
}

}  // namespace
}  // namespace tenure::backends::etcd
