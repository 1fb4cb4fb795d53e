// File backend: a holder that keeps its kernel lock but stopped renewing (frozen by SIGSTOP, a
// paused container) is replaced once its lease has expired by the host's monotonic clock, and
// once thawed it steps down and never writes as leader again.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include "../support/backend_sessions.hpp"
#include "../support/test_support.hpp"
#include "file/file_store.hpp"
#include "file/lock_stamp.hpp"

namespace tenure::testing {
namespace {

using Steady = std::chrono::steady_clock;

constexpr int kLeaseMs = 1500, kRenewMs = 1000, kRetryMs = 200;

std::string temp_dir() {
  char tmpl[] = "/tmp/tenure-takeover-XXXXXX";
  return ::mkdtemp(tmpl);
}

std::vector<std::string> child_args(const std::string& dir, const std::string& id) {
  const char* child = std::getenv("TENURE_TEST_CHILD");
  return {
      child ? child : "/nonexistent", "file://" + dir,         "job", id, std::to_string(kLeaseMs),
      std::to_string(kRenewMs),       std::to_string(kRetryMs)};
}

uint64_t token_of(const std::string& line) {  // "elected 7"
  return std::stoull(line.substr(line.find(' ') + 1));
}

int count_prefix(const ChildProcess& c, const std::string& prefix) {
  int n = 0;
  for (auto& l : c.lines()) n += l.rfind(prefix, 0) == 0;
  return n;
}

std::unique_ptr<Elector> make_standby(const std::string& dir, const std::string& id) {
  ElectorOptions o;
  o.backend_url = "file://" + dir;
  o.election = "job";
  o.identity = id;
  o.timing = {milliseconds(kLeaseMs), milliseconds(kRenewMs), milliseconds(kRetryMs)};
  auto r = Elector::create(o);
  EXPECT_TRUE(r.ok()) << r.status.message;
  return std::move(r.value);
}

TEST(FileTakeover, FrozenHolderIsReplacedWithinItsLease) {
  ASSERT_TRUE(std::getenv("TENURE_TEST_CHILD"));
  auto dir = temp_dir();
  ChildProcess holder(child_args(dir, "holder"));
  auto first = holder.wait_line("elected", 20s);
  ASSERT_FALSE(first.empty());
  auto standby = make_standby(dir, "standby");
  EventLog log;
  standby->set_callback(log.callback());
  ASSERT_TRUE(standby->start().ok());
  // A holder that renews is never replaced: two full leases pass without a takeover.
  EXPECT_FALSE(log.wait_type(EventType::elected, milliseconds(2 * kLeaseMs)));

  auto frozen_at = Steady::now();
  holder.kill(SIGSTOP);
  Event el;
  ASSERT_TRUE(log.wait_type(EventType::elected, milliseconds(kLeaseMs + 3000), &el))
      << "no takeover of a frozen holder";
  auto took = std::chrono::duration_cast<milliseconds>(Steady::now() - frozen_at).count();
  std::printf("[ info ] frozen holder replaced after %lld ms (lease %d ms)\n", (long long)took,
              kLeaseMs);
  // Not before the holder's lease ended: its last renewal was at most one retry period before
  // the freeze.
  EXPECT_GE(took, kLeaseMs - kRetryMs - 50);
  EXPECT_GT(el.token, token_of(first));

  holder.kill(SIGCONT);
  auto revoked = holder.wait_line("revoked", 5s);
  EXPECT_FALSE(revoked.empty()) << "the thawed holder did not step down";
  // Thawed, it stays a follower: no new election, and the record is still the standby's.
  std::this_thread::sleep_for(milliseconds(2 * kLeaseMs));
  EXPECT_EQ(count_prefix(holder, "elected"), 1);
  EXPECT_TRUE(standby->status().is_leader);
  auto rec = backends::file::read_lease(dir + "/job.lease");
  ASSERT_TRUE(rec.ok() && rec.value);
  EXPECT_EQ(rec.value->holder, "standby");
  EXPECT_EQ(rec.value->token, el.token);
  ASSERT_TRUE(standby->stop().ok());
  // The thawed holder, a follower again, is elected next with a greater token.
  auto next = holder.wait_line("elected", 20s);
  ASSERT_FALSE(next.empty());
  EXPECT_GT(token_of(next), el.token);
}

TEST(FileTakeover, TwoStandbysTakeOverAFrozenHolderOnce) {
  ASSERT_TRUE(std::getenv("TENURE_TEST_CHILD"));
  auto dir = temp_dir();
  ChildProcess holder(child_args(dir, "holder"));
  ASSERT_FALSE(holder.wait_line("elected", 20s).empty());
  ChildProcess a(child_args(dir, "a")), b(child_args(dir, "b"));
  ASSERT_FALSE(a.wait_line("leader holder", 5s).empty());
  ASSERT_FALSE(b.wait_line("leader holder", 5s).empty());
  holder.kill(SIGSTOP);
  ASSERT_TRUE(
      wait_until([&] { return count_prefix(a, "elected") + count_prefix(b, "elected") > 0; },
                 milliseconds(kLeaseMs + 3000)));
  // The loser of the race must not lead as well, not even later on.
  std::this_thread::sleep_for(milliseconds(2 * kLeaseMs));
  EXPECT_EQ(count_prefix(a, "elected") + count_prefix(b, "elected"), 1);
  holder.kill(SIGCONT);
  EXPECT_FALSE(holder.wait_line("revoked", 5s).empty());
}

// Below the state machine: a holder whose stamp is older than its lease is replaced, and the
// replaced session can neither renew, nor record a run, nor clear the successor's record.
TEST(FileTakeover, ReplacedSessionCannotRenewRecordOrRelease) {
  auto dir = temp_dir();
  BackendSessions s;
  auto h = s.open("file://" + dir, "job", "h");
  auto n = s.open("file://" + dir, "job", "n");
  ASSERT_TRUE(h.ok() && n.ok());
  auto won = s.acquire(h.value);
  ASSERT_TRUE(won.ok() && won.value.acquired);
  uint64_t old_token = won.value.record.token;
  auto lost = s.acquire(n.value);
  ASSERT_TRUE(lost.ok());
  EXPECT_FALSE(lost.value.acquired) << "a fresh holder is not replaced";
  ASSERT_TRUE(lost.value.retry_at.has_value()) << "a standby is told when the lease would expire";
  EXPECT_GT(*lost.value.retry_at, s.executor(n.value)->now());

  int fd = ::open((dir + "/job.lock").c_str(), O_RDWR | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  backends::file::LockStamp st{"another-boot", backends::file::host_monotonic_ms() - 10000, 1500, 1,
                               "h"};
  ASSERT_TRUE(backends::file::write_stamp(fd, st).ok());
  lost = s.acquire(n.value);
  ASSERT_TRUE(lost.ok());
  EXPECT_FALSE(lost.value.acquired) << "a stamp from another boot says nothing about expiry";

  st.boot_id = backends::file::this_boot_id();
  ASSERT_TRUE(backends::file::write_stamp(fd, st).ok());
  ::close(fd);
  auto took = s.acquire(n.value);
  ASSERT_TRUE(took.ok()) << took.status.message;
  ASSERT_TRUE(took.value.acquired);
  EXPECT_EQ(took.value.record.token, old_token + 1);

  auto renewed = s.renew(h.value, old_token);
  EXPECT_EQ(renewed.status.code, Errc::lost) << renewed.status.message;
  auto claim = s.claim(h.value, "job-1", old_token, "h", UnfinishedPolicy::retry);
  EXPECT_EQ(claim.status.code, Errc::fenced) << claim.status.message;
  auto released = s.release(h.value, old_token);
  EXPECT_FALSE(released.ok());
  auto rec = backends::file::read_lease(dir + "/job.lease");
  ASSERT_TRUE(rec.ok() && rec.value);
  EXPECT_EQ(rec.value->holder, "n");
  EXPECT_EQ(rec.value->token, old_token + 1);
  EXPECT_TRUE(s.renew(n.value, old_token + 1).ok());
  auto again = s.acquire(h.value);
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(again.value.acquired);
  EXPECT_EQ(again.value.record.holder, "n");
}

}  // namespace
}  // namespace tenure::testing
