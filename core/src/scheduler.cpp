#include "tenure/scheduler.hpp"

#include <date/date.h>

#include <algorithm>
#include <sstream>

namespace tenure {

using namespace std::chrono;

const char* catch_up_name(CatchUp c) noexcept {
  switch (c) {
    case CatchUp::none:
      return "none";
    case CatchUp::latest:
      return "latest";
    case CatchUp::all:
      return "all";
  }
  return "unknown";
}

Result<CatchUp> parse_catch_up(const std::string& text) {
  if (text == "none") return CatchUp::none;
  if (text == "latest") return CatchUp::latest;
  if (text == "all") return CatchUp::all;
  return make_error(Errc::invalid_argument,
                    "unknown catch-up policy '" + text + "'; use none, latest or all");
}

Status validate_job_schedule(const JobSchedule& js) {
  if (auto s = validate_job_name(js.job); !s.ok()) return s;
  if (js.schedule.spec().empty())
    return make_error(Errc::invalid_argument, "the job '" + js.job + "' has no schedule");
  if (js.catch_up_max == 0 || js.catch_up_max > 10000)
    return make_error(Errc::invalid_argument,
                      "catch_up_max must be 1 to 10000 (it bounds the runs of catch-up 'all')");
  if (js.catch_up_window.count() < 0 || js.misfire_threshold.count() < 0)
    return make_error(Errc::invalid_argument,
                      "the catch-up window and the misfire threshold must not be negative");
  return {};
}

std::vector<SysSeconds> due_fire_times(const JobSchedule& js, SysSeconds now) {
  if (js.catch_up == CatchUp::all)
    return js.schedule.between(now - js.catch_up_window - seconds(1), now, js.catch_up_max);
  auto newest = js.schedule.latest_at_or_before(now);
  if (!newest) return {};
  const seconds limit = js.catch_up == CatchUp::none ? js.misfire_threshold : js.catch_up_window;
  if (now - *newest > limit) return {};
  return {*newest};
}

// The fire time of a key "<job>@<UTC time>", or nullopt for a key of another shape.
static std::optional<SysSeconds> parse_fire_key(const std::string& job, const std::string& key) {
  if (key.size() != job.size() + 21 || key.compare(0, job.size() + 1, job + "@") != 0)
    return std::nullopt;
  std::istringstream in(key.substr(job.size() + 1));
  date::sys_seconds t;
  in >> date::parse("%Y-%m-%dT%H:%M:%SZ", t);
  if (in.fail()) return std::nullopt;
  return t;
}

Result<std::unique_ptr<Scheduler>> Scheduler::create(Elector& elector, JobSchedule js,
                                                     ScheduledJob fn, SchedulerHooks hooks) {
  if (auto s = validate_job_schedule(js); !s.ok()) return s;
  if (!fn) return make_error(Errc::invalid_argument, "the scheduled job function is empty");
  if (!hooks.now) hooks.now = [] { return floor<milliseconds>(system_clock::now()); };
  if (hooks.max_sleep <= milliseconds(0)) hooks.max_sleep = milliseconds(1000);
  return std::unique_ptr<Scheduler>(
      new Scheduler(elector, std::move(js), std::move(fn), std::move(hooks)));
}

Scheduler::Scheduler(Elector& elector, JobSchedule js, ScheduledJob fn, SchedulerHooks hooks)
    : elector_(elector), js_(std::move(js)), fn_(std::move(fn)), hooks_(std::move(hooks)) {}

Scheduler::~Scheduler() { stop(); }

Status Scheduler::start() {
  std::lock_guard lock(mu_);
  if (thread_.joinable() || stopping_)
    return make_error(Errc::bad_state, "a scheduler starts once");
  thread_ = std::thread([this] { loop(); });
  return {};
}

void Scheduler::stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable() && thread_.get_id() != std::this_thread::get_id()) thread_.join();
}

void Scheduler::wake() {
  {
    std::lock_guard lock(mu_);
    woken_ = true;
  }
  cv_.notify_all();
}

uint64_t Scheduler::runs_started() const {
  std::lock_guard lock(mu_);
  return runs_;
}

void Scheduler::log(const std::string& line) const {
  if (hooks_.log) hooks_.log(js_.job + ": " + line);
}

bool Scheduler::wait_for(milliseconds d) {
  std::unique_lock lock(mu_);
  cv_.wait_for(lock, d, [this] { return stopping_ || woken_; });
  woken_ = false;
  return !stopping_;
}

void Scheduler::loop() {
  for (;;) {
    {
      std::lock_guard lock(mu_);
      if (stopping_) return;
    }
    const ElectorStatus st = elector_.status();
    if (!st.is_leader) {
      term_token_ = 0;
      if (!wait_for(hooks_.max_sleep)) return;
      continue;
    }
    if (st.token != term_token_) {
      // A new term: what this process remembers may be stale; ask the ledger again.
      term_token_ = st.token;
      settled_.clear();
      last_pass_.reset();
      all_floor_.reset();
    }
    if (pass(st.token)) continue;
    // Sleep until the next fire time, but read the wall clock again at least every max_sleep:
    // the steady clock the wait uses does not follow clock steps.
    const auto now_ms = hooks_.now();
    milliseconds sleep = hooks_.max_sleep;
    if (auto next = js_.schedule.next_after(floor<seconds>(now_ms)))
      sleep = std::min(sleep, duration_cast<milliseconds>(*next - now_ms));
    if (!wait_for(std::max(sleep, milliseconds(1)))) return;
  }
}

bool Scheduler::pass(uint64_t token) {
  bool ran = false;
  const SysSeconds now = floor<seconds>(hooks_.now());
  std::vector<SysSeconds> due = due_fire_times(js_, now);
  if (js_.catch_up == CatchUp::all && !due.empty()) {
    if (!all_floor_) {
      // Once per term: the newest fire time with a record (keys sort by time) bounds the backlog.
      auto newest = elector_.list_runs(js_.job + "@", 1);
      if (!newest.ok()) {
        log("cannot read the ledger: " + newest.status.message);
        return ran;
      }
      std::optional<SysSeconds> f;
      if (!newest.value.empty()) f = parse_fire_key(js_.job, newest.value.back().job_key);
      all_floor_ = f ? *f : due.back();
    }
    std::erase_if(due, [&](SysSeconds f) { return f < *all_floor_; });
  }
  // Fire times that came due since the last pass of this term and are not considered now were
  // missed (a long run, a paused process, a clock jump): say so, never skip silently.
  if (last_pass_ && now > *last_pass_) {
    auto passed = js_.schedule.between(*last_pass_, now, 1000);
    std::vector<SysSeconds> skipped;
    for (auto f : passed)
      if (!settled_.count(f) && std::find(due.begin(), due.end(), f) == due.end())
        skipped.push_back(f);
    if (!skipped.empty())
      log("skipped " + std::to_string(skipped.size()) + " missed fire time" +
          (skipped.size() > 1 ? "s " + format_utc(skipped.front()) + " .. " : " ") +
          format_utc(skipped.back()) + " (catch-up " + catch_up_name(js_.catch_up) + ")");
  }
  last_pass_ = now;
  for (SysSeconds f : due) {
    if (settled_.count(f)) continue;
    // none and latest never go back to a fire time older than one this term settled (the wall
    // clock stepped back): that one was skipped when its turn passed.
    if (js_.catch_up != CatchUp::all && !settled_.empty() && f < *settled_.rbegin()) continue;
    {
      std::lock_guard lock(mu_);
      if (stopping_) return ran;
    }
    const std::string key = fire_key(js_.job, f);
    FireContext ctx{js_.job, f, key, 0, seconds(0)};
    auto r = elector_.run_once(key, js_.on_unfinished, [&](uint64_t tok, std::string& detail) {
      ctx.token = tok;
      ctx.late = std::max(seconds(0), floor<seconds>(hooks_.now()) - f);
      {
        std::lock_guard lock(mu_);
        ++runs_;
      }
      log("running fire time " + format_utc(f) + " with token " + std::to_string(tok) +
          (ctx.late > js_.misfire_threshold
               ? " (late by " + std::to_string(ctx.late.count()) + " s)"
               : ""));
      return fn_(ctx, detail);
    });
    if (!r.ok()) {
      // Not leader any more, fenced, or the backend failed: the next pass (or the next leader)
      // asks the ledger again.
      log("fire time " + format_utc(f) + ": " + r.status.message);
      return ran;
    }
    const RunRecord& rec = r.value.record;
    if (r.value.ran) {
      ran = true;
      log("fire time " + format_utc(f) + " " + run_status_name(rec.status) +
          (rec.detail.empty() ? "" : ": " + rec.detail));
    } else if (rec.status == RunStatus::started && rec.token < token) {
      log("fire time " + format_utc(f) + " abandoned: started by " + rec.holder + " (token " +
          std::to_string(rec.token) + ") and never finished; not run again (on-unfinished skip)");
    } else if (rec.status == RunStatus::started) {
      // Claimed under this term's token (or a newer one) and not finished: nothing this term
      // can do about it; the next leader applies on_unfinished.
      log("fire time " + format_utc(f) + " was claimed by " + rec.holder + " (token " +
          std::to_string(rec.token) + ") and is not finished; left to the next leader");
    }
    settled_.insert(f);
  }
  // Forget what the window has left behind.
  const SysSeconds horizon = now - js_.catch_up_window - js_.misfire_threshold - seconds(1);
  settled_.erase(settled_.begin(), settled_.lower_bound(horizon));
  return ran;
}

}  // namespace tenure
