#include "tenure/schedule.hpp"

#include <date/date.h>
#include <date/tz.h>

#include <algorithm>
#include <cctype>
#include <sstream>

namespace tenure {

namespace {

using namespace std::chrono;
using std::chrono::seconds;

// Far enough for a leap-day job across a skipped leap year (2096 -> 2104).
constexpr auto kHorizon = days(366 * 10);

struct FieldSpec {
  const char* name;
  int lo, hi;
  const char* const* names;  // three-letter names for lo..; nullptr when none
};

const char* const kMonthNames[] = {"JAN", "FEB", "MAR", "APR", "MAY", "JUN",
                                   "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"};
const char* const kDayNames[] = {"SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"};

const FieldSpec kSecond{"second", 0, 59, nullptr};
const FieldSpec kMinute{"minute", 0, 59, nullptr};
const FieldSpec kHour{"hour", 0, 23, nullptr};
const FieldSpec kDom{"day-of-month", 1, 31, nullptr};
const FieldSpec kMonth{"month", 1, 12, kMonthNames};
const FieldSpec kDow{"day-of-week", 0, 7, kDayNames};  // 7 is Sunday too

std::string upper(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::string cur;
  for (char c : s) {
    if (c == sep) {
      out.push_back(cur);
      cur.clear();
    } else {
      cur.push_back(c);
    }
  }
  out.push_back(cur);
  return out;
}

std::string allowed(const FieldSpec& f) {
  std::string s = std::to_string(f.lo) + "-" + std::to_string(f.hi);
  if (f.names == kMonthNames) s += " or JAN-DEC";
  if (f.names == kDayNames) s += " (0 and 7 are Sunday) or SUN-SAT";
  return s;
}

Status field_error(const std::string& expr, const FieldSpec& f, const std::string& text,
                   const std::string& why) {
  return make_error(Errc::invalid_argument, "schedule '" + expr + "': " + f.name + " field '" +
                                                text + "' " + why + "; allowed: " + allowed(f) +
                                                ", '*', lists (a,b), ranges (a-b), steps (*/n)");
}

Result<int> parse_value(const std::string& expr, const FieldSpec& f, const std::string& text) {
  if (text.empty()) return field_error(expr, f, text, "has an empty value");
  if (f.names) {
    const std::string u = upper(text);
    const int n = f.names == kMonthNames ? 12 : 7;
    for (int i = 0; i < n; ++i)
      if (u == f.names[i]) return f.lo + i;
  }
  int v = 0;
  for (char c : text) {
    if (!std::isdigit(static_cast<unsigned char>(c)))
      return field_error(expr, f, text, "is not a number");
    v = v * 10 + (c - '0');
    if (v > 1000) break;
  }
  if (v < f.lo || v > f.hi) return field_error(expr, f, text, "is out of range");
  return v;
}

// Sets the bits of one field; `star` tells whether it starts with '*' (or '?').
template <size_t N>
Status parse_field(const std::string& expr, const FieldSpec& f, const std::string& text,
                   std::bitset<N>& bits, bool& star) {
  star = !text.empty() && (text[0] == '*' || text[0] == '?');
  for (const std::string& item : split(text, ',')) {
    std::string range = item;
    int step = 1;
    if (auto slash = item.find('/'); slash != std::string::npos) {
      range = item.substr(0, slash);
      const std::string st = item.substr(slash + 1);
      if (st.empty() || !std::all_of(st.begin(), st.end(), [](char c) { return std::isdigit(c); }))
        return field_error(expr, f, item, "has a step that is not a positive number");
      step = std::stoi(st.substr(0, 6));
      if (step == 0) return field_error(expr, f, item, "has a step of 0");
    }
    int lo = f.lo, hi = f.hi;
    if (range == "*" || range == "?") {
      if (f.names == kDayNames) hi = 6;
    } else if (auto dash = range.find('-'); dash != std::string::npos) {
      auto a = parse_value(expr, f, range.substr(0, dash));
      if (!a.ok()) return a.status;
      auto b = parse_value(expr, f, range.substr(dash + 1));
      if (!b.ok()) return b.status;
      if (a.value > b.value)
        return field_error(expr, f, item,
                           "is a backwards range; write the smaller value first (wrap-around "
                           "ranges are not supported: use a list)");
      lo = a.value;
      hi = b.value;
    } else {
      auto a = parse_value(expr, f, range);
      if (!a.ok()) return a.status;
      lo = a.value;
      // "a/n" means from a to the field's end in steps of n.
      hi = item.find('/') != std::string::npos ? (f.names == kDayNames ? 6 : f.hi) : a.value;
    }
    for (int v = lo; v <= hi; v += step)
      bits.set(static_cast<size_t>(f.names == kDayNames ? v % 7 : v));
  }
  return {};
}

const std::pair<const char*, const char*> kMacros[] = {
    {"@yearly", "0 0 1 1 *"}, {"@annually", "0 0 1 1 *"}, {"@monthly", "0 0 1 * *"},
    {"@weekly", "0 0 * * 0"}, {"@daily", "0 0 * * *"},    {"@midnight", "0 0 * * *"},
    {"@hourly", "0 * * * *"},
};

template <size_t N>
std::optional<int> next_bit(const std::bitset<N>& b, int from) {
  for (int i = std::max(from, 0); i < static_cast<int>(N); ++i)
    if (b.test(static_cast<size_t>(i))) return i;
  return std::nullopt;
}

int days_in_month(int m) {
  static const int d[] = {0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return d[m];
}

// Years 1 to 9989: far outside any clock, and no arithmetic on such times can overflow.
bool in_range(SysSeconds t) {
  return t >= SysSeconds(seconds(-62135596800)) &&
         t <= SysSeconds(seconds(253402300799)) - kHorizon;
}

SysSeconds clamp_add(SysSeconds t, seconds d) {
  if (d > seconds(0) && t > SysSeconds::max() - d) return SysSeconds::max();
  return t + d;
}

}  // namespace

Result<std::chrono::seconds> parse_duration(const std::string& text, const std::string& what,
                                            bool allow_zero) {
  auto bad = [&](const std::string& why) {
    return make_error(Errc::invalid_argument,
                      what + " '" + text + "' " + why +
                          "; write a number with a unit: s, m, h or d, e.g. 90s, 5m, 1h30m, 2d");
  };
  if (text.empty()) return bad("is empty");
  int64_t total = 0, num = 0;
  bool have_num = false;
  for (char c : text) {
    if (std::isdigit(static_cast<unsigned char>(c))) {
      num = num * 10 + (c - '0');
      if (num > 100000000) return bad("is too large");
      have_num = true;
      continue;
    }
    if (!have_num) return bad("has a unit without a number");
    int64_t unit = c == 's' ? 1 : c == 'm' ? 60 : c == 'h' ? 3600 : c == 'd' ? 86400 : 0;
    if (unit == 0) return bad(std::string("has an unknown unit '") + c + "'");
    total += num * unit;
    if (total > int64_t{86400} * 3660) return bad("is longer than ten years");
    num = 0;
    have_num = false;
  }
  if (have_num) return bad("lacks a unit");
  if (total > int64_t{86400} * 3660) return bad("is longer than ten years");
  if (total == 0 && !allow_zero) return bad("must be longer than zero");
  return seconds(total);
}

std::string format_utc(SysSeconds t) { return date::format("%Y-%m-%dT%H:%M:%SZ", t); }

std::string fire_key(const std::string& job, SysSeconds fire_time) {
  return job + "@" + format_utc(fire_time);
}

Status validate_job_name(const std::string& job) {
  if (job.empty() || job.size() > 150)
    return make_error(Errc::invalid_argument,
                      "the job name must be 1 to 150 characters, e.g. 'nightly-report'");
  for (unsigned char c : job)
    if (!(std::isalnum(c) || c == '.' || c == '_' || c == '-'))
      return make_error(Errc::invalid_argument,
                        "the job name '" + job + "' contains an illegal character (code " +
                            std::to_string(c) + "); use letters, digits and . _ -");
  return {};
}

Result<Schedule> Schedule::parse(const std::string& spec_in, const std::string& tz) {
  Schedule s;
  s.spec_ = spec_in;
  std::string spec = spec_in;
  // Trim and squeeze whitespace so "0  2 * * *" reads as five fields.
  std::istringstream in(spec);
  std::vector<std::string> fields;
  for (std::string w; in >> w;) fields.push_back(w);
  if (fields.empty())
    return make_error(Errc::invalid_argument,
                      "the schedule is empty; give a cron expression ('30 2 * * *'), a name "
                      "(@hourly, @daily, ...) or an interval (@every 5m)");
  s.tz_name_ = tz.empty() ? "UTC" : tz;
  try {
    s.zone_ = date::locate_zone(s.tz_name_);
  } catch (const std::exception&) {
    return make_error(Errc::invalid_argument,
                      "unknown time zone '" + s.tz_name_ +
                          "': use an IANA name such as Europe/Berlin, America/New_York or UTC "
                          "(the names under /usr/share/zoneinfo; install tzdata if it is empty)");
  }
  if (fields[0][0] == '@') {
    const std::string name = fields[0];
    if (name == "@every") {
      if (fields.size() != 2)
        return make_error(
            Errc::invalid_argument,
            "schedule '" + spec + "': write @every with one duration, e.g. @every 5m");
      auto d = parse_duration(fields[1], "the @every interval");
      if (!d.ok()) return d.status;
      s.interval_ = d.value;
      return s;
    }
    if (fields.size() != 1)
      return make_error(Errc::invalid_argument,
                        "schedule '" + spec + "': " + name + " takes no further fields");
    const char* expansion = nullptr;
    for (auto& [m, e] : kMacros)
      if (name == m) expansion = e;
    if (!expansion)
      return make_error(Errc::invalid_argument,
                        "schedule '" + spec +
                            "': unknown name; use @yearly, @annually, @monthly, @weekly, @daily, "
                            "@midnight, @hourly or @every DURATION");
    std::istringstream ex(expansion);
    fields.clear();
    for (std::string w; ex >> w;) fields.push_back(w);
  }
  if (fields.size() != 5 && fields.size() != 6)
    return make_error(Errc::invalid_argument,
                      "schedule '" + spec + "' has " + std::to_string(fields.size()) +
                          " fields; a cron expression has 5 (minute hour day-of-month month "
                          "day-of-week) or 6 (second first)");
  if (fields.size() == 5) fields.insert(fields.begin(), "0");
  Cron& c = s.cron_;
  bool star = false;
  if (auto st = parse_field(spec, kSecond, fields[0], c.sec, star); !st.ok()) return st;
  if (auto st = parse_field(spec, kMinute, fields[1], c.min, star); !st.ok()) return st;
  if (auto st = parse_field(spec, kHour, fields[2], c.hour, c.hour_wild); !st.ok()) return st;
  if (auto st = parse_field(spec, kDom, fields[3], c.dom, c.dom_star); !st.ok()) return st;
  if (auto st = parse_field(spec, kMonth, fields[4], c.mon, star); !st.ok()) return st;
  if (auto st = parse_field(spec, kDow, fields[5], c.dow, c.dow_star); !st.ok()) return st;
  // A day-of-month that no selected month has ("0 0 31 2 *") would never fire.
  if (!c.dom_star && c.dow_star) {
    bool possible = false;
    for (int m = 1; m <= 12; ++m)
      for (int d = 1; d <= days_in_month(m); ++d)
        if (c.mon.test(m) && c.dom.test(d)) possible = true;
    if (!possible)
      return make_error(Errc::invalid_argument,
                        "schedule '" + spec +
                            "' never fires: none of the selected months has the selected "
                            "day-of-month");
  }
  return s;
}

bool Schedule::day_matches(int64_t local_day) const {
  const date::sys_days d{date::days(local_day)};
  const date::year_month_day ymd{d};
  const bool dom_ok = cron_.dom.test(static_cast<unsigned>(ymd.day()));
  const bool dow_ok = cron_.dow.test(date::weekday(d).c_encoding());
  // Classic cron: when both day fields are restricted, either may match.
  if (cron_.dom_star || cron_.dow_star) return dom_ok && dow_ok;
  return dom_ok || dow_ok;
}

std::optional<seconds> Schedule::first_match(seconds from, seconds until) const {
  seconds t = from;
  while (t < until) {
    const int64_t day = date::floor<date::days>(t).count();
    const date::sys_days d{date::days(day)};
    const date::year_month_day ymd{d};
    const seconds day_start = date::sys_seconds(d).time_since_epoch();
    const int64_t tod = (t - day_start).count();
    const int h = static_cast<int>(tod / 3600), m = static_cast<int>(tod / 60 % 60),
              sec = static_cast<int>(tod % 60);
    if (!cron_.mon.test(static_cast<unsigned>(ymd.month()))) {
      const auto next = date::year_month{ymd.year(), ymd.month()} + date::months(1);
      t = date::sys_seconds(date::sys_days(next / 1)).time_since_epoch();
      continue;
    }
    if (!day_matches(day)) {
      t = day_start + days(1);
      continue;
    }
    if (!cron_.hour.test(h)) {
      auto nh = next_bit(cron_.hour, h + 1);
      t = nh ? day_start + hours(*nh) : day_start + days(1);
      continue;
    }
    const seconds hour_start = day_start + hours(h);
    if (!cron_.min.test(m)) {
      auto nm = next_bit(cron_.min, m + 1);
      t = nm ? hour_start + minutes(*nm) : hour_start + hours(1);
      continue;
    }
    const seconds minute_start = hour_start + minutes(m);
    if (!cron_.sec.test(sec)) {
      auto ns = next_bit(cron_.sec, sec + 1);
      t = ns ? minute_start + seconds(*ns) : minute_start + minutes(1);
      continue;
    }
    return t;
  }
  return std::nullopt;
}

std::optional<SysSeconds> Schedule::next_after(SysSeconds t) const {
  if (!in_range(t)) return std::nullopt;
  if (is_interval()) {
    const int64_t iv = interval_.count(), now = t.time_since_epoch().count();
    const int64_t k = (now >= 0 ? now / iv : -((-now + iv - 1) / iv)) + 1;
    return SysSeconds(seconds(k * iv));
  }
  const SysSeconds horizon = clamp_add(t, kHorizon);
  SysSeconds s = t + seconds(1);
  while (s < horizon) {
    const date::sys_info info = zone_->get_info(s);
    const SysSeconds begin = info.begin, end = std::min<SysSeconds>(info.end, horizon);
    const seconds off = info.offset;
    // The offset before this period began matters only right after its transition.
    seconds prev_off = off;
    if (s - begin < days(1)) prev_off = zone_->get_info(begin - seconds(1)).offset;
    if (s == begin && prev_off < off) {
      // Spring forward: local times in [begin+prev_off, begin+off) do not exist; a match there
      // fires once, when the clocks jump.
      if (first_match(begin.time_since_epoch() + prev_off, begin.time_since_epoch() + off))
        return begin;
    }
    seconds from = s.time_since_epoch() + off;
    // Fall back: the repeated local times already fired in the period before.
    if (prev_off > off && !cron_.hour_wild)
      from = std::max(from, begin.time_since_epoch() + prev_off);
    if (auto l = first_match(from, end.time_since_epoch() + off)) return SysSeconds(*l - off);
    if (end >= horizon) break;
    s = end;
  }
  return std::nullopt;
}

std::optional<SysSeconds> Schedule::latest_at_or_before(SysSeconds t) const {
  if (!in_range(t)) return std::nullopt;
  if (is_interval()) {
    auto n = next_after(t);
    if (!n) return std::nullopt;
    return *n - interval_;
  }
  // Search backwards in growing windows: fire times are found forwards only.
  for (seconds back : {seconds(3600), seconds(86400), seconds(86400 * 40), seconds(86400 * 400),
                       duration_cast<seconds>(kHorizon)}) {
    std::optional<SysSeconds> best;
    for (auto f = next_after(t - back - seconds(1)); f && *f <= t; f = next_after(*f)) best = f;
    if (best) return best;
  }
  return std::nullopt;
}

std::vector<SysSeconds> Schedule::between(SysSeconds from, SysSeconds to, size_t limit) const {
  std::vector<SysSeconds> out;
  if (limit == 0 || to <= from || !in_range(from) || !in_range(to)) return out;
  // Start late enough that at most `limit` are produced when the schedule is dense.
  if (is_interval() && (to - from) / interval_ > static_cast<int64_t>(limit))
    from = to - interval_ * static_cast<int64_t>(limit);
  for (auto f = next_after(from); f && *f <= to; f = next_after(*f)) {
    out.push_back(*f);
    if (out.size() > limit) out.erase(out.begin());
  }
  return out;
}

}  // namespace tenure
