// The leader-only scheduler on a fake wall clock: catch-up policies, misfire threshold, clock
// steps, failover mid-run. Electors use the memory backend on the shared runtime (run_once
// blocks, so it needs it); the wall clock the scheduler reads is the test's.
#include <date/date.h>
#include <gtest/gtest.h>

#include <atomic>

#include "../support/test_support.hpp"
#include "tenure/scheduler.hpp"

namespace tenure::testing {
namespace {

using namespace std::chrono;

SysSeconds utc(const std::string& iso) {
  std::istringstream in(iso);
  date::sys_seconds t;
  in >> date::parse("%Y-%m-%dT%H:%M:%SZ", t);
  return t;
}

JobSchedule job(const std::string& spec, CatchUp c, const std::string& tz = "") {
  JobSchedule js;
  js.job = "nightly";
  auto s = Schedule::parse(spec, tz);
  EXPECT_TRUE(s.ok()) << s.status.message;
  js.schedule = s.value;
  js.catch_up = c;
  return js;
}

std::vector<std::string> fmt(const std::vector<SysSeconds>& v) {
  std::vector<std::string> out;
  for (auto t : v) out.push_back(format_utc(t));
  return out;
}
using V = std::vector<std::string>;

TEST(DueFireTimes, Policies) {
  auto js = job("0 2 * * *", CatchUp::latest, "Europe/Berlin");
  js.catch_up_window = hours(1);
  js.misfire_threshold = seconds(60);
  // 02:00 Berlin = 01:00Z in January. On time:
  EXPECT_EQ(fmt(due_fire_times(js, utc("2026-01-10T01:00:30Z"))), V{"2026-01-10T01:00:00Z"});
  // 40 minutes late: latest still runs it, none does not.
  EXPECT_EQ(fmt(due_fire_times(js, utc("2026-01-10T01:40:00Z"))), V{"2026-01-10T01:00:00Z"});
  js.catch_up = CatchUp::none;
  EXPECT_TRUE(due_fire_times(js, utc("2026-01-10T01:40:00Z")).empty());
  EXPECT_EQ(fmt(due_fire_times(js, utc("2026-01-10T01:01:00Z"))), V{"2026-01-10T01:00:00Z"});
  // Outside the window: nothing, whatever the policy.
  js.catch_up = CatchUp::latest;
  EXPECT_TRUE(due_fire_times(js, utc("2026-01-10T02:00:01Z")).empty());
  // all: every fire time of the window, oldest first, bounded.
  auto every = job("*/10 * * * *", CatchUp::all);
  every.catch_up_window = minutes(30);
  EXPECT_EQ(fmt(due_fire_times(every, utc("2026-01-10T01:05:00Z"))),
            (V{"2026-01-10T00:40:00Z", "2026-01-10T00:50:00Z", "2026-01-10T01:00:00Z"}));
  every.catch_up_max = 2;
  EXPECT_EQ(fmt(due_fire_times(every, utc("2026-01-10T01:05:00Z"))),
            (V{"2026-01-10T00:50:00Z", "2026-01-10T01:00:00Z"}));
  every.catch_up = CatchUp::latest;
  EXPECT_EQ(fmt(due_fire_times(every, utc("2026-01-10T01:05:00Z"))), V{"2026-01-10T01:00:00Z"});
}

TEST(DueFireTimes, Validation) {
  auto js = job("@hourly", CatchUp::all);
  js.catch_up_max = 0;
  EXPECT_NE(validate_job_schedule(js).message.find("catch_up_max"), std::string::npos);
  js.catch_up_max = 1;
  js.job = "bad name";
  EXPECT_FALSE(validate_job_schedule(js).ok());
  EXPECT_FALSE(parse_catch_up("some").ok());
  EXPECT_EQ(parse_catch_up("all").value, CatchUp::all);
}

// A fake wall clock shared by the test and the schedulers.
struct FakeWall {
  std::atomic<int64_t> t;
  explicit FakeWall(const std::string& iso) : t(utc(iso).time_since_epoch().count()) {}
  SysSeconds now() const { return SysSeconds(seconds(t.load())); }
  void set(const std::string& iso) { t = utc(iso).time_since_epoch().count(); }
  void add(seconds d) { t += d.count(); }
};

class SchedulerTest : public ::testing::Test {
 protected:
  void SetUp() override { ns_ = unique_name("sched"); }

  std::unique_ptr<Elector> elector(const std::string& id) {
    ElectorOptions o;
    o.backend_url = "memory://" + ns_;
    o.election = "cron";
    o.identity = id;
    o.timing = Timing{milliseconds(3000), milliseconds(2000), milliseconds(200)};
    auto r = Elector::create(o);
    EXPECT_TRUE(r.ok()) << r.status.message;
    return std::move(r.value);
  }
  std::unique_ptr<Scheduler> scheduler(Elector& e, JobSchedule js, ScheduledJob fn) {
    SchedulerHooks h;
    h.now = [w = wall_] { return w->now(); };
    h.log = [this](const std::string& l) {
      std::lock_guard lock(mu_);
      log_.push_back(l);
    };
    h.max_sleep = milliseconds(20);
    auto r = Scheduler::create(e, std::move(js), std::move(fn), h);
    EXPECT_TRUE(r.ok()) << r.status.message;
    return std::move(r.value);
  }
  // A job that records its fire times.
  ScheduledJob recorder() {
    return [this](const FireContext& c, std::string& detail) {
      std::lock_guard lock(mu_);
      ran_.push_back(format_utc(c.fire_time));
      tokens_.push_back(c.token);
      detail = "ok";
      return true;
    };
  }
  V ran() {
    std::lock_guard lock(mu_);
    return ran_;
  }
  bool logged(const std::string& part) {
    std::lock_guard lock(mu_);
    for (auto& l : log_)
      if (l.find(part) != std::string::npos) return true;
    return false;
  }
  std::string all_log() {
    std::lock_guard lock(mu_);
    std::string s;
    for (auto& l : log_) s += l + "\n";
    return s;
  }
  static bool lead(Elector& e) {
    return wait_until([&] { return e.status().is_leader; }, 5000ms);
  }

  std::string ns_;
  std::shared_ptr<FakeWall> wall_ = std::make_shared<FakeWall>("2026-01-10T00:59:58Z");
  std::mutex mu_;
  V ran_, log_;
  std::vector<uint64_t> tokens_;
};

TEST_F(SchedulerTest, OnlyTheLeaderFiresAndEachFireTimeRunsOnce) {
  auto a = elector("a");
  auto b = elector("b");
  ASSERT_TRUE(a->start().ok());
  ASSERT_TRUE(lead(*a));
  ASSERT_TRUE(b->start().ok());
  auto js = job("*/30 * * * * *", CatchUp::latest);
  auto sa = scheduler(*a, js, recorder());
  auto sb = scheduler(*b, js, recorder());
  ASSERT_TRUE(sa->start().ok());
  ASSERT_TRUE(sb->start().ok());
  // 00:59:30 is due on start (latest, inside the window).
  ASSERT_TRUE(wait_until([&] { return ran().size() == 1; }, 5000ms));
  wall_->set("2026-01-10T01:00:00Z");
  ASSERT_TRUE(wait_until([&] { return ran().size() == 2; }, 5000ms));
  std::this_thread::sleep_for(200ms);  // many passes; nothing more may run
  EXPECT_EQ(ran(), (V{"2026-01-10T00:59:30Z", "2026-01-10T01:00:00Z"}));
  EXPECT_EQ(sb->runs_started(), 0u);
  auto rec = a->read_run("nightly@2026-01-10T01:00:00Z");
  ASSERT_TRUE(rec.ok());
  EXPECT_EQ(rec.value.status, RunStatus::finished);
  EXPECT_EQ(rec.value.detail, "ok");
}

TEST_F(SchedulerTest, ClockStepsAreDecidedByTheLedger) {
  auto a = elector("a");
  ASSERT_TRUE(a->start().ok());
  ASSERT_TRUE(lead(*a));
  wall_->set("2026-01-10T01:00:05Z");
  auto js = job("*/10 * * * *", CatchUp::latest);
  auto s = scheduler(*a, js, recorder());
  ASSERT_TRUE(s->start().ok());
  ASSERT_TRUE(wait_until([&] { return ran().size() == 1; }, 5000ms));
  // A backward step (NTP): 00:50 comes round again, but it was skipped when 01:00 ran, and
  // 01:00 has a finished record: neither runs.
  wall_->set("2026-01-10T00:59:00Z");
  std::this_thread::sleep_for(100ms);
  wall_->set("2026-01-10T01:00:30Z");
  std::this_thread::sleep_for(100ms);
  EXPECT_EQ(ran(), (V{"2026-01-10T01:00:00Z"}));
  // A forward step of 35 minutes (VM resume): latest runs the newest missed time, the two
  // before it are reported as skipped.
  wall_->set("2026-01-10T01:35:00Z");
  ASSERT_TRUE(wait_until([&] { return ran().size() == 2; }, 5000ms));
  EXPECT_EQ(ran().back(), "2026-01-10T01:30:00Z");
  EXPECT_TRUE(wait_until([&] { return logged("skipped 2 missed fire times"); }, 2000ms))
      << all_log();
}

TEST_F(SchedulerTest, CatchUpAllRunsEveryMissedTimeOldestFirst) {
  auto a = elector("a");
  ASSERT_TRUE(a->start().ok());
  ASSERT_TRUE(lead(*a));
  wall_->set("2026-01-10T01:05:00Z");
  // The last run on record: 00:30. Everything after it inside the window runs, oldest first.
  ASSERT_TRUE(a->run_once("nightly@2026-01-10T00:30:00Z", UnfinishedPolicy::retry,
                          [](uint64_t, std::string&) { return true; })
                  .ok());
  auto js = job("*/10 * * * *", CatchUp::all);
  js.catch_up_window = minutes(30);
  auto s = scheduler(*a, js, recorder());
  ASSERT_TRUE(s->start().ok());
  ASSERT_TRUE(wait_until([&] { return ran().size() == 3; }, 5000ms));
  EXPECT_EQ(ran(), (V{"2026-01-10T00:40:00Z", "2026-01-10T00:50:00Z", "2026-01-10T01:00:00Z"}));
}

TEST_F(SchedulerTest, CatchUpAllStartsANewJobWithItsNewestFireTimeNotABacklog) {
  auto a = elector("a");
  ASSERT_TRUE(a->start().ok());
  ASSERT_TRUE(lead(*a));
  wall_->set("2026-01-10T01:05:00Z");
  auto js = job("*/10 * * * *", CatchUp::all);
  js.catch_up_window = minutes(30);
  auto s = scheduler(*a, js, recorder());
  ASSERT_TRUE(s->start().ok());
  ASSERT_TRUE(wait_until([&] { return ran().size() == 1; }, 5000ms));
  std::this_thread::sleep_for(100ms);
  EXPECT_EQ(ran(), V{"2026-01-10T01:00:00Z"});
}

TEST_F(SchedulerTest, CatchUpNoneSkipsAFireTimePastTheMisfireThreshold) {
  auto a = elector("a");
  ASSERT_TRUE(a->start().ok());
  ASSERT_TRUE(lead(*a));
  wall_->set("2026-01-10T01:02:00Z");
  auto js = job("0 * * * *", CatchUp::none);
  js.misfire_threshold = seconds(60);
  auto s = scheduler(*a, js, recorder());
  ASSERT_TRUE(s->start().ok());
  std::this_thread::sleep_for(150ms);
  EXPECT_TRUE(ran().empty());
  wall_->set("2026-01-10T02:00:59Z");  // 59 s late: still on time
  ASSERT_TRUE(wait_until([&] { return ran().size() == 1; }, 5000ms));
  EXPECT_EQ(ran(), V{"2026-01-10T02:00:00Z"});
}

// A 02:30 Berlin job through both DST days, the wall clock walked in steps: once each day.
TEST_F(SchedulerTest, DaylightSavingDaysRunA0230JobOnce) {
  auto a = elector("a");
  ASSERT_TRUE(a->start().ok());
  ASSERT_TRUE(lead(*a));
  wall_->set("2026-03-29T00:50:00Z");  // 01:50 CET; at 01:00Z the clocks jump to 03:00 CEST
  auto js = job("30 2 * * *", CatchUp::latest, "Europe/Berlin");
  auto s = scheduler(*a, js, recorder());
  ASSERT_TRUE(s->start().ok());
  for (const char* t : {"2026-03-29T00:59:59Z", "2026-03-29T01:00:00Z", "2026-03-29T01:30:00Z",
                        "2026-03-29T02:30:00Z"}) {
    wall_->set(t);
    std::this_thread::sleep_for(60ms);
  }
  ASSERT_TRUE(wait_until([&] { return ran().size() >= 1; }, 5000ms));
  std::this_thread::sleep_for(100ms);
  // The day before's 02:30 is outside the catch-up window; the skipped 02:30 ran once, at the
  // jump.
  EXPECT_EQ(ran(), V{"2026-03-29T01:00:00Z"});
  {
    std::lock_guard lock(mu_);
    ran_.clear();
  }
  // 2026-10-25: 03:00 CEST goes back to 02:00 CET at 01:00Z; 02:30 happens at 00:30Z and 01:30Z.
  for (const char* t : {"2026-10-25T00:29:59Z", "2026-10-25T00:30:00Z", "2026-10-25T01:00:00Z",
                        "2026-10-25T01:30:00Z", "2026-10-25T01:31:00Z"}) {
    wall_->set(t);
    std::this_thread::sleep_for(60ms);
  }
  ASSERT_TRUE(wait_until([&] { return ran().size() >= 1; }, 5000ms));
  std::this_thread::sleep_for(100ms);
  EXPECT_EQ(ran(), V{"2026-10-25T00:30:00Z"});
}

// The seed's scenario on a fake clock: the leader dies in the middle of the 02:00 run; the next
// leader finds the unfinished record and applies the policy.
TEST_F(SchedulerTest, ANewLeaderRetriesOrSkipsARunTheOldOneNeverFinished) {
  for (auto policy : {UnfinishedPolicy::retry, UnfinishedPolicy::skip}) {
    SCOPED_TRACE(policy == UnfinishedPolicy::retry ? "retry" : "skip");
    ns_ = unique_name("sched");
    {
      std::lock_guard lock(mu_);
      ran_.clear();
      log_.clear();
      tokens_.clear();
    }
    wall_->set("2026-01-10T01:00:00Z");  // 02:00 in Berlin
    auto js = job("0 2 * * *", CatchUp::latest, "Europe/Berlin");
    js.on_unfinished = policy;
    auto a = elector("a");
    ASSERT_TRUE(a->start().ok());
    ASSERT_TRUE(lead(*a));
    auto b = elector("b");
    ASSERT_TRUE(b->start().ok());
    std::atomic<bool> release{false};
    auto sa = scheduler(*a, js, [&](const FireContext& c, std::string&) {
      {
        std::lock_guard lock(mu_);
        ran_.push_back("a " + format_utc(c.fire_time));
      }
      // The old leader hangs in its run; its elector is then stopped under it (as a crash
      // frees the lease), so its finish is refused.
      wait_until([&] { return release.load(); }, 10000ms);
      return true;
    });
    auto sb = scheduler(*b, js, [&](const FireContext& c, std::string&) {
      std::lock_guard lock(mu_);
      ran_.push_back("b " + format_utc(c.fire_time));
      return true;
    });
    ASSERT_TRUE(sa->start().ok());
    ASSERT_TRUE(sb->start().ok());
    ASSERT_TRUE(wait_until([&] { return ran().size() == 1; }, 5000ms));
    std::thread stopper([&] { a->stop(); });
    ASSERT_TRUE(lead(*b));
    sb->wake();
    if (policy == UnfinishedPolicy::retry) {
      ASSERT_TRUE(wait_until([&] { return ran().size() == 2; }, 5000ms));
      EXPECT_EQ(ran().back(), "b 2026-01-10T01:00:00Z");
    } else {
      EXPECT_TRUE(wait_until([&] { return logged("abandoned: started by a"); }, 5000ms))
          << all_log();
      EXPECT_EQ(ran().size(), 1u);
    }
    release = true;
    stopper.join();
    sa->stop();
    sb->stop();
    auto rec = b->read_run("nightly@2026-01-10T01:00:00Z");
    ASSERT_TRUE(rec.ok());
    EXPECT_EQ(rec.value.status,
              policy == UnfinishedPolicy::retry ? RunStatus::finished : RunStatus::started);
    EXPECT_EQ(rec.value.holder, policy == UnfinishedPolicy::retry ? "b" : "a");
  }
}

}  // namespace
}  // namespace tenure::testing
