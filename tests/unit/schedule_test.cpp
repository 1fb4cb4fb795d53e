// Schedules: cron fields, names, intervals, time zones with both DST transitions, leap days, and
// the errors for bad input. Pure functions of time: no clock is read.
#include <date/date.h>
#include <gtest/gtest.h>

#include "tenure/schedule.hpp"

namespace tenure::testing {
namespace {

using namespace std::chrono;

SysSeconds utc(const std::string& iso) {
  std::istringstream in(iso);
  date::sys_seconds t;
  in >> date::parse("%Y-%m-%dT%H:%M:%SZ", t);
  EXPECT_FALSE(in.fail()) << iso;
  return t;
}

Schedule must(const std::string& spec, const std::string& tz = "") {
  auto r = Schedule::parse(spec, tz);
  EXPECT_TRUE(r.ok()) << spec << ": " << r.status.message;
  return r.value;
}

// The next n fire times after `from`, formatted.
std::vector<std::string> fires(const Schedule& s, const std::string& from, int n) {
  std::vector<std::string> out;
  auto t = utc(from);
  for (int i = 0; i < n; ++i) {
    auto f = s.next_after(t);
    if (!f) break;
    out.push_back(format_utc(*f));
    t = *f;
  }
  return out;
}

std::string error_of(const std::string& spec, const std::string& tz = "") {
  auto r = Schedule::parse(spec, tz);
  EXPECT_FALSE(r.ok()) << spec;
  return r.status.message;
}

using V = std::vector<std::string>;

TEST(Schedule, FiveFieldsInUtc) {
  EXPECT_EQ(fires(must("0 2 * * *"), "2026-03-01T02:00:00Z", 2),
            (V{"2026-03-02T02:00:00Z", "2026-03-03T02:00:00Z"}));
  EXPECT_EQ(fires(must("*/20 9-10 * * *"), "2026-03-01T09:30:00Z", 4),
            (V{"2026-03-01T09:40:00Z", "2026-03-01T10:00:00Z", "2026-03-01T10:20:00Z",
               "2026-03-01T10:40:00Z"}));
  EXPECT_EQ(fires(must("5,7 0 1 JAN,jul *"), "2026-01-01T00:05:00Z", 3),
            (V{"2026-01-01T00:07:00Z", "2026-07-01T00:05:00Z", "2026-07-01T00:07:00Z"}));
  EXPECT_EQ(fires(must("10/25 0 1 1 *"), "2025-12-31T00:00:00Z", 2),
            (V{"2026-01-01T00:10:00Z", "2026-01-01T00:35:00Z"}));
}

TEST(Schedule, SecondsField) {
  EXPECT_EQ(fires(must("*/15 * * * * *"), "2026-03-01T00:00:50Z", 3),
            (V{"2026-03-01T00:01:00Z", "2026-03-01T00:01:15Z", "2026-03-01T00:01:30Z"}));
  EXPECT_EQ(fires(must("30 0 12 * * *"), "2026-03-01T12:00:30Z", 1), (V{"2026-03-02T12:00:30Z"}));
}

TEST(Schedule, DayOfWeekAndDayOfMonth) {
  // 2026-03-02 is a Monday. Weekdays only:
  EXPECT_EQ(fires(must("0 8 * * MON-FRI"), "2026-03-06T09:00:00Z", 2),
            (V{"2026-03-09T08:00:00Z", "2026-03-10T08:00:00Z"}));
  // 7 is Sunday as well as 0.
  EXPECT_EQ(fires(must("0 0 * * 7"), "2026-03-02T00:00:00Z", 1), (V{"2026-03-08T00:00:00Z"}));
  // Both day fields restricted: either matches (the 13th, or any Friday).
  EXPECT_EQ(fires(must("0 0 13 * 5"), "2026-03-01T00:00:00Z", 3),
            (V{"2026-03-06T00:00:00Z", "2026-03-13T00:00:00Z", "2026-03-20T00:00:00Z"}));
}

TEST(Schedule, Names) {
  EXPECT_EQ(fires(must("@hourly"), "2026-03-01T10:59:59Z", 1), (V{"2026-03-01T11:00:00Z"}));
  EXPECT_EQ(fires(must("@daily"), "2026-03-01T10:00:00Z", 1), (V{"2026-03-02T00:00:00Z"}));
  EXPECT_EQ(fires(must("@weekly"), "2026-03-02T00:00:00Z", 1), (V{"2026-03-08T00:00:00Z"}));
  EXPECT_EQ(fires(must("@monthly"), "2026-03-02T00:00:00Z", 1), (V{"2026-04-01T00:00:00Z"}));
  EXPECT_EQ(fires(must("@yearly"), "2026-03-02T00:00:00Z", 1), (V{"2027-01-01T00:00:00Z"}));
}

TEST(Schedule, IntervalsAreAlignedToTheEpochSoReplicasAgree) {
  auto s = must("@every 90s", "Europe/Berlin");
  EXPECT_TRUE(s.is_interval());
  EXPECT_EQ(fires(s, "1970-01-01T00:00:00Z", 2),
            (V{"1970-01-01T00:01:30Z", "1970-01-01T00:03:00Z"}));
  EXPECT_EQ(fires(must("@every 1h30m"), "2026-03-01T00:10:00Z", 1), (V{"2026-03-01T01:30:00Z"}));
  EXPECT_EQ(format_utc(*s.latest_at_or_before(utc("1970-01-01T00:03:00Z"))),
            "1970-01-01T00:03:00Z");
}

TEST(Schedule, LeapDay) {
  EXPECT_EQ(fires(must("0 12 29 2 *"), "2026-03-01T00:00:00Z", 2),
            (V{"2028-02-29T12:00:00Z", "2032-02-29T12:00:00Z"}));
  // 2100 is not a leap year: eight years between.
  EXPECT_EQ(fires(must("0 0 29 2 *"), "2096-03-01T00:00:00Z", 1), (V{"2104-02-29T00:00:00Z"}));
}

TEST(Schedule, NamedZone) {
  // 02:00 in Berlin is 01:00Z in winter (CET) and 00:00Z in summer (CEST).
  EXPECT_EQ(fires(must("0 2 * * *", "Europe/Berlin"), "2026-01-10T00:00:00Z", 1),
            (V{"2026-01-10T01:00:00Z"}));
  EXPECT_EQ(fires(must("0 2 * * *", "Europe/Berlin"), "2026-07-10T00:00:00Z", 1),
            (V{"2026-07-11T00:00:00Z"}));
  EXPECT_EQ(fires(must("0 9 * * *", "America/New_York"), "2026-07-10T00:00:00Z", 1),
            (V{"2026-07-10T13:00:00Z"}));
}

TEST(Schedule, SpringForwardRunsASkippedTimeOnceWhenTheClocksJump) {
  // Berlin, 2026-03-29: 02:00 CET jumps to 03:00 CEST at 01:00Z; 02:30 does not exist.
  auto s = must("30 2 * * *", "Europe/Berlin");
  EXPECT_EQ(fires(s, "2026-03-28T00:00:00Z", 3),
            (V{"2026-03-28T01:30:00Z", "2026-03-29T01:00:00Z", "2026-03-30T00:30:00Z"}));
  // Every 15 minutes of hour 2: the four skipped times fire once, together.
  EXPECT_EQ(fires(must("*/15 2 * * *", "Europe/Berlin"), "2026-03-29T00:00:00Z", 2),
            (V{"2026-03-29T01:00:00Z", "2026-03-30T00:00:00Z"}));
  // Hourly: the hour that does not exist is not run twice.
  EXPECT_EQ(fires(must("0 * * * *", "Europe/Berlin"), "2026-03-29T00:00:00Z", 3),
            (V{"2026-03-29T01:00:00Z", "2026-03-29T02:00:00Z", "2026-03-29T03:00:00Z"}));
  // New York, 2026-03-08: 02:00 EST jumps to 03:00 EDT at 07:00Z.
  EXPECT_EQ(fires(must("30 2 * * *", "America/New_York"), "2026-03-08T00:00:00Z", 2),
            (V{"2026-03-08T07:00:00Z", "2026-03-09T06:30:00Z"}));
}

TEST(Schedule, FallBackRunsARepeatedTimeOnce) {
  // Berlin, 2026-10-25: 03:00 CEST goes back to 02:00 CET at 01:00Z; 02:30 happens twice.
  auto s = must("30 2 * * *", "Europe/Berlin");
  EXPECT_EQ(fires(s, "2026-10-24T12:00:00Z", 2),
            (V{"2026-10-25T00:30:00Z", "2026-10-26T01:30:00Z"}));
  // A job with a wildcard hour runs on both passes through the repeated hour, as on any hour.
  EXPECT_EQ(fires(must("30 * * * *", "Europe/Berlin"), "2026-10-24T23:00:00Z", 4),
            (V{"2026-10-24T23:30:00Z", "2026-10-25T00:30:00Z", "2026-10-25T01:30:00Z",
               "2026-10-25T02:30:00Z"}));
  // Started inside the first pass of the repeated hour, a fixed-hour job waits for the next day.
  EXPECT_EQ(fires(s, "2026-10-25T00:45:00Z", 1), (V{"2026-10-26T01:30:00Z"}));
}

TEST(Schedule, LatestAndBetween) {
  auto s = must("0 2 * * *", "Europe/Berlin");
  EXPECT_EQ(format_utc(*s.latest_at_or_before(utc("2026-01-10T05:00:00Z"))),
            "2026-01-10T01:00:00Z");
  EXPECT_EQ(format_utc(*s.latest_at_or_before(utc("2026-01-10T01:00:00Z"))),
            "2026-01-10T01:00:00Z");
  EXPECT_EQ(format_utc(*s.latest_at_or_before(utc("2026-01-10T00:59:59Z"))),
            "2026-01-09T01:00:00Z");
  auto b =
      must("*/10 * * * *").between(utc("2026-01-10T00:00:00Z"), utc("2026-01-10T01:00:00Z"), 3);
  ASSERT_EQ(b.size(), 3u);
  EXPECT_EQ(format_utc(b.front()), "2026-01-10T00:40:00Z");
  EXPECT_EQ(format_utc(b.back()), "2026-01-10T01:00:00Z");
  EXPECT_EQ(
      must("@every 1s").between(utc("2026-01-10T00:00:00Z"), utc("2026-01-11T00:00:00Z"), 5).size(),
      5u);
}

TEST(Schedule, KeysAreTheJobAndTheFireTimeInUtc) {
  EXPECT_EQ(fire_key("nightly", utc("2026-03-29T01:00:00Z")), "nightly@2026-03-29T01:00:00Z");
  EXPECT_TRUE(validate_job_name("nightly-report_1.x").ok());
  EXPECT_FALSE(validate_job_name("").ok());
  EXPECT_NE(validate_job_name("a b").message.find("illegal character"), std::string::npos);
  EXPECT_FALSE(validate_job_name(std::string(151, 'a')).ok());
}

TEST(Schedule, ErrorsSayWhichFieldAndTheAllowedRange) {
  auto e = error_of("61 * * * *");
  EXPECT_NE(e.find("minute field '61' is out of range"), std::string::npos) << e;
  EXPECT_NE(e.find("0-59"), std::string::npos) << e;
  e = error_of("0 24 * * *");
  EXPECT_NE(e.find("hour field '24'"), std::string::npos) << e;
  EXPECT_NE(e.find("0-23"), std::string::npos) << e;
  e = error_of("0 0 0 * *");
  EXPECT_NE(e.find("day-of-month field '0'"), std::string::npos) << e;
  e = error_of("0 0 * 13 *");
  EXPECT_NE(e.find("JAN-DEC"), std::string::npos) << e;
  e = error_of("0 0 * * 8");
  EXPECT_NE(e.find("day-of-week"), std::string::npos) << e;
  e = error_of("60 0 0 * * *");
  EXPECT_NE(e.find("second field '60'"), std::string::npos) << e;
  EXPECT_NE(error_of("*/0 * * * *").find("step of 0"), std::string::npos);
  EXPECT_NE(error_of("5-3 * * * *").find("backwards range"), std::string::npos);
  EXPECT_NE(error_of("x * * * *").find("not a number"), std::string::npos);
  EXPECT_NE(error_of("* * * *").find("has 4 fields"), std::string::npos);
  EXPECT_NE(error_of("").find("empty"), std::string::npos);
  EXPECT_NE(error_of("@fortnightly").find("unknown name"), std::string::npos);
  EXPECT_NE(error_of("0 0 31 2 *").find("never fires"), std::string::npos);
  EXPECT_NE(error_of("@every 0s").find("longer than zero"), std::string::npos);
  EXPECT_NE(error_of("@every 5").find("lacks a unit"), std::string::npos);
  e = error_of("0 2 * * *", "Mars/Olympus_Mons");
  EXPECT_NE(e.find("unknown time zone 'Mars/Olympus_Mons'"), std::string::npos) << e;
}

TEST(Schedule, TimesFarOutsideAnyClockHaveNoFireTime) {
  auto s = must("0 2 * * *", "Europe/Berlin");
  EXPECT_FALSE(s.next_after(SysSeconds::max()).has_value());
  EXPECT_FALSE(s.next_after(SysSeconds::min()).has_value());
  EXPECT_FALSE(must("@every 7s").next_after(SysSeconds::max()).has_value());
  EXPECT_FALSE(must("@every 7s").latest_at_or_before(SysSeconds::min()).has_value());
  EXPECT_TRUE(s.next_after(utc("9000-01-01T00:00:00Z")).has_value());
}

TEST(Schedule, Durations) {
  EXPECT_EQ(parse_duration("1h30m", "x").value, seconds(5400));
  EXPECT_EQ(parse_duration("2d", "x").value, seconds(172800));
  EXPECT_EQ(parse_duration("0s", "x", true).value, seconds(0));
  EXPECT_FALSE(parse_duration(std::string(2000, '9') + "d", "x").ok());
  std::string many;
  for (int i = 0; i < 100000; ++i) many += "99999999d";
  EXPECT_NE(parse_duration(many, "x").status.message.find("ten years"), std::string::npos);
  auto r = parse_duration("5q", "--catch-up-window");
  EXPECT_NE(r.status.message.find("--catch-up-window '5q' has an unknown unit 'q'"),
            std::string::npos)
      << r.status.message;
}

}  // namespace
}  // namespace tenure::testing
