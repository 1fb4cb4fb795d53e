// A schedule turns wall-clock time into fire times: a cron expression (5 fields, or 6 with a
// leading seconds field, or an @hourly-style name) in a named time zone, or a fixed interval
// (@every 90s). Fire times are instants (UTC, whole seconds); every fire time of a job has one
// ledger key, "<job>@<fire time in UTC>", the same on every replica.
#pragma once

#include <bitset>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "tenure/errors.hpp"

namespace date {
class time_zone;
}

namespace tenure {

using SysSeconds = std::chrono::sys_time<std::chrono::seconds>;

class Schedule {
 public:
  // spec: "30 2 * * *", "*/10 * * * * *" (seconds first), "@daily", "@every 5m".
  // tz: an IANA zone name ("Europe/Berlin"); empty means UTC. Cron fields are read in that
  // zone; an interval ignores it (its fire times are multiples of the interval since the epoch,
  // so every replica computes the same ones).
  static Result<Schedule> parse(const std::string& spec, const std::string& tz = "");

  // The first fire time strictly after t, or nullopt when there is none within ten years.
  // Daylight saving: a local time that a spring-forward skips fires once, at the instant the
  // clocks jump; a local time that a fall-back repeats fires once, at its first occurrence,
  // unless the hour field is a wildcard ("*" or "*/n"): then it fires in both, as it does on
  // every other hour.
  std::optional<SysSeconds> next_after(SysSeconds t) const;
  // The newest fire time at or before t (nullopt when none within ten years).
  std::optional<SysSeconds> latest_at_or_before(SysSeconds t) const;
  // Fire times in (from, to], oldest first, at most `limit` of them (the newest ones win).
  std::vector<SysSeconds> between(SysSeconds from, SysSeconds to, size_t limit) const;

  const std::string& spec() const { return spec_; }
  const std::string& time_zone() const { return tz_name_; }
  bool is_interval() const { return interval_.count() > 0; }
  std::chrono::seconds interval() const { return interval_; }

 private:
  struct Cron {
    std::bitset<60> sec, min;
    std::bitset<24> hour;
    std::bitset<32> dom;  // 1..31
    std::bitset<13> mon;  // 1..12
    std::bitset<7> dow;   // 0..6, Sunday 0
    bool dom_star = false, dow_star = false, hour_wild = false;
  };
  // Local times are seconds since 1970-01-01T00:00 on the zone's wall clock.
  std::optional<std::chrono::seconds> first_match(std::chrono::seconds from,
                                                  std::chrono::seconds until) const;
  bool day_matches(int64_t local_day) const;

  std::string spec_;
  std::string tz_name_;
  const date::time_zone* zone_ = nullptr;
  std::chrono::seconds interval_{0};
  Cron cron_;
};

// A whole number of seconds written with units: "90s", "5m", "1h30m", "2d". Zero is allowed
// only when allow_zero; `what` names the setting in the error message.
Result<std::chrono::seconds> parse_duration(const std::string& text, const std::string& what,
                                            bool allow_zero = false);

// "2026-03-29T01:00:00Z"
std::string format_utc(SysSeconds t);
// The ledger key of one fire time: "<job>@2026-03-29T01:00:00Z".
std::string fire_key(const std::string& job, SysSeconds fire_time);
// A job name: 1 to 150 characters of [A-Za-z0-9._-] (its keys must fit the ledger's 200).
Status validate_job_name(const std::string& job);

}  // namespace tenure
