// Damaged or hand-edited file:// records (issue 14): every field is range-checked and a bad one
// is reported with the file's path, never converted with undefined behaviour or silently reset;
// a token at the top of its range refuses leadership instead of wrapping to 0.
#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>

#include "../support/test_support.hpp"
#include "file/file_store.hpp"
#include "memory/memory_backend.hpp"
#include "tenure/fencing.hpp"

namespace tenure::testing {
namespace {

std::string temp_dir() {
  char tmpl[] = "/tmp/tenure-hostile-XXXXXX";
  return ::mkdtemp(tmpl);
}

void write(const std::string& path, const std::string& text) { std::ofstream(path) << text; }

TEST(HostileRecord, EveryBadLeaseFieldIsReportedWithThePath) {
  const std::string path = temp_dir() + "/job.lease";
  const std::string ok = R"("holder":"x","token":5,"lease_duration_ms":3000,)"
                         R"("acquired_unix_ms":1700000000000,"transitions":2,"pid":7)";
  write(path, "{" + ok + "}");
  auto good = backends::file::read_lease(path);
  ASSERT_TRUE(good.ok()) << good.status.message;
  EXPECT_EQ(good.value->token, 5u);
  EXPECT_EQ(good.value->pid, 7);

  const std::vector<std::string> bad = {
      R"({"holder":"x","token":1,"pid":1e300})",
      R"({"holder":"x","token":1,"pid":-1})",
      R"({"holder":"x","token":1,"pid":4294967296})",
      R"({"holder":"x","token":18446744073709551615})",
      R"({"holder":"x","token":9223372036854775808})",
      R"({"holder":"x","token":-1})",
      R"({"holder":"x","token":1e19})",
      R"({"holder":"x","token":1.5})",
      R"({"holder":"x","token":"7"})",
      R"({"holder":"x","token":true})",
      R"({"holder":"x","token":null})",
      R"({"holder":"x","token":99999999999999999999999})",
      R"({"holder":"x"})",
      R"({"holder":"x","token":1,"lease_duration_ms":-9223372036854775808})",
      R"({"holder":"x","token":1,"lease_duration_ms":-1})",
      R"({"holder":"x","token":1,"lease_duration_ms":86400001})",
      R"({"holder":"x","token":1,"acquired_unix_ms":-5})",
      R"({"holder":"x","token":1,"acquired_unix_ms":1e300})",
      R"({"holder":"x","token":1,"transitions":-1})",
      R"({"holder":"x","token":1,"transitions":18446744073709551615})",
      R"({"holder":7,"token":1})",
      R"({"holder":"a b","token":1})",
      "{\"holder\":\"\\u001b[31m\",\"token\":1}",
      R"([1,2,3])",
      R"("x")",
      R"(null)",
  };
  for (const auto& text : bad) {
    write(path, text);
    auto r = backends::file::read_lease(path);
    EXPECT_FALSE(r.ok()) << text;
    EXPECT_NE(r.status.message.find(path), std::string::npos) << r.status.message;
    EXPECT_NE(r.status.message.find("not a valid tenure record"), std::string::npos)
        << r.status.message;
  }
  write(path, R"({"holder":"x","token":1,"pid":1e300})");
  auto r = backends::file::read_lease(path);
  EXPECT_NE(r.status.message.find("'pid'"), std::string::npos) << "names the field";
}

TEST(HostileRecord, EveryBadRunFieldIsReportedWithThePath) {
  const std::string path = temp_dir() + "/run.json";
  write(path, R"({"job_key":"j","status":"finished","token":3,"holder":"h",)"
              R"("started_unix_ms":1,"finished_unix_ms":2,"detail":"d"})");
  auto good = backends::file::read_run(path);
  ASSERT_TRUE(good.ok()) << good.status.message;
  EXPECT_EQ(good.value->status, RunStatus::finished);

  const std::vector<std::string> bad = {
      R"({"job_key":"j","status":"finished","token":1e300})",
      R"({"job_key":"j","status":"finished","token":-1})",
      R"({"job_key":"j","status":"finished","token":0})",
      R"({"job_key":"j","status":"finished","token":18446744073709551615})",
      R"({"job_key":"j","status":"finished","token":1,"started_unix_ms":1e300})",
      R"({"job_key":"j","status":"finished","token":1,"finished_unix_ms":-9223372036854775808})",
      R"({"job_key":"j","status":"done","token":1})",
      R"({"job_key":"j","status":1,"token":1})",
      R"({"job_key":"","status":"finished","token":1})",
      R"({"job_key":"j","status":"finished","token":1,"holder":"a b"})",
      R"({"job_key":"j","status":"finished","token":1,"detail":5})",
      R"({"status":"finished","token":1})",
  };
  for (const auto& text : bad) {
    write(path, text);
    auto r = backends::file::read_run(path);
    EXPECT_FALSE(r.ok()) << text;
    EXPECT_NE(r.status.message.find(path), std::string::npos) << r.status.message;
  }
}

// A stored token at the top of the range: the next acquisition refuses to lead, naming the
// record, and the record keeps its token.
TEST(HostileRecord, FileTokenAtItsLimitRefusesToLead) {
  const std::string dir = temp_dir();
  const std::string path = dir + "/job.lease";
  write(path, R"({"holder":"","token":9223372036854775807})");
  ElectorOptions o;
  o.backend_url = "file://" + dir;
  o.election = "job";
  o.timing = {milliseconds(3000), milliseconds(2000), milliseconds(100)};
  auto e = Elector::create(o);
  ASSERT_TRUE(e.ok()) << e.status.message;
  EventLog log;
  e.value->set_callback(log.callback());
  ASSERT_TRUE(e.value->start().ok());
  Event err;
  ASSERT_TRUE(log.wait_type(EventType::error, 5s, &err));
  EXPECT_NE(err.message.find("refusing to lead"), std::string::npos) << err.message;
  EXPECT_NE(err.message.find(path), std::string::npos) << err.message;
  EXPECT_FALSE(e.value->status().is_leader);
  EXPECT_FALSE(log.wait_type(EventType::elected, 300ms)) << "never leads with a wrapped token";
  auto rec = backends::file::read_lease(path);
  ASSERT_TRUE(rec.ok()) << rec.status.message;
  EXPECT_EQ(rec.value->token, kMaxFencingToken);
  ASSERT_TRUE(e.value->stop().ok());

  // One below the limit still works, and hands out the limit itself.
  write(path, R"({"holder":"","token":9223372036854775806})");
  auto e2 = Elector::create(o);
  ASSERT_TRUE(e2.ok()) << e2.status.message;
  EventLog log2;
  e2.value->set_callback(log2.callback());
  ASSERT_TRUE(e2.value->start().ok());
  Event el;
  ASSERT_TRUE(log2.wait_type(EventType::elected, 5s, &el));
  EXPECT_EQ(el.token, kMaxFencingToken);
}

// -1 and 2^64-1 used to be read as 2^64-1 and wrap to token 0: now the record is reported.
TEST(HostileRecord, FileTokenOutOfRangeIsReportedNotWrapped) {
  for (const char* tok : {"18446744073709551615", "-1"}) {
    const std::string dir = temp_dir();
    write(dir + "/job.lease", std::string(R"({"holder":"","token":)") + tok + "}");
    ElectorOptions o;
    o.backend_url = "file://" + dir;
    o.election = "job";
    o.timing = {milliseconds(3000), milliseconds(2000), milliseconds(100)};
    auto e = Elector::create(o);
    ASSERT_TRUE(e.ok()) << e.status.message;
    EventLog log;
    e.value->set_callback(log.callback());
    ASSERT_TRUE(e.value->start().ok());
    Event err;
    ASSERT_TRUE(log.wait_type(EventType::error, 5s, &err)) << tok;
    EXPECT_NE(err.message.find(dir + "/job.lease"), std::string::npos) << err.message;
    EXPECT_NE(err.message.find("'token'"), std::string::npos) << err.message;
    EXPECT_FALSE(log.wait_type(EventType::elected, 300ms)) << tok;
  }
}

TEST(HostileRecord, MemoryTokenAtItsLimitRefusesToLead) {
  backends::set_memory_token("hostile", "job", kMaxFencingToken);
  ElectorOptions o;
  o.backend_url = "memory://hostile";
  o.election = "job";
  o.timing = {milliseconds(3000), milliseconds(2000), milliseconds(100)};
  auto e = Elector::create(o);
  ASSERT_TRUE(e.ok()) << e.status.message;
  EventLog log;
  e.value->set_callback(log.callback());
  ASSERT_TRUE(e.value->start().ok());
  Event err;
  ASSERT_TRUE(log.wait_type(EventType::error, 5s, &err));
  EXPECT_NE(err.message.find("refusing to lead"), std::string::npos) << err.message;
  EXPECT_FALSE(log.wait_type(EventType::elected, 300ms));
}

}  // namespace
}  // namespace tenure::testing
