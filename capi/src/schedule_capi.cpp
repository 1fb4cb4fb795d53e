// The C ABI of schedules: tenure_schedule_* over tenure::Scheduler, and the ledger listing.
#include <cstdlib>
#include <cstring>
#include <nlohmann/json.hpp>

#include "capi_errors.hpp"
#include "tenure/elector.hpp"
#include "tenure/scheduler.hpp"
#include "tenure/tenure.h"

namespace tenure::capi {
tenure::Elector* elector_of(tenure_elector* e);  // tenure_capi.cpp
}  // namespace tenure::capi

using tenure::Errc;
using tenure::Status;
using tenure::capi::fail;
using tenure::capi::guarded;

struct tenure_schedule {
  tenure::Elector* elector = nullptr;
  tenure::JobSchedule js;
  tenure_schedule_log_fn log_fn = nullptr;
  void* log_opaque = nullptr;
  std::unique_ptr<tenure::Scheduler> scheduler;
};

namespace {

tenure_err copy_out(char** out, const std::string& s) {
  char* p = static_cast<char*>(std::malloc(s.size() + 1));
  if (!p) return TENURE_E_INTERNAL;
  std::memcpy(p, s.c_str(), s.size() + 1);
  *out = p;
  return TENURE_OK;
}

}  // namespace

extern "C" {

tenure_err tenure_schedule_new(tenure_schedule** out, tenure_elector* elector, const char* job,
                               const char* spec, const char* tz, char* errbuf, size_t errlen) {
  if (!out) return tenure::capi::invalid("out", errbuf, errlen);
  *out = nullptr;
  if (!elector) return tenure::capi::invalid("elector", errbuf, errlen);
  if (!job) return tenure::capi::invalid("job", errbuf, errlen);
  if (!spec) return tenure::capi::invalid("spec", errbuf, errlen);
  return guarded(errbuf, errlen, [&] {
    auto sched = tenure::Schedule::parse(spec, tz ? tz : "");
    if (!sched.ok()) return fail(sched.status, errbuf, errlen);
    auto s = std::make_unique<tenure_schedule>();
    s->elector = tenure::capi::elector_of(elector);
    s->js.job = job;
    s->js.schedule = sched.value;
    if (auto st = tenure::validate_job_schedule(s->js); !st.ok()) return fail(st, errbuf, errlen);
    *out = s.release();
    return TENURE_OK;
  });
}

tenure_err tenure_schedule_set(tenure_schedule* s, const char* key, const char* value, char* errbuf,
                               size_t errlen) {
  if (!s) return tenure::capi::invalid("schedule", errbuf, errlen);
  if (!key) return tenure::capi::invalid("key", errbuf, errlen);
  if (!value) return tenure::capi::invalid("value", errbuf, errlen);
  return guarded(errbuf, errlen, [&] {
    if (s->scheduler)
      return fail(tenure::make_error(Errc::bad_state, "set options before tenure_schedule_start"),
                  errbuf, errlen);
    const std::string k = key, v = value;
    tenure::JobSchedule js = s->js;
    if (k == "catch_up") {
      auto c = tenure::parse_catch_up(v);
      if (!c.ok()) return fail(c.status, errbuf, errlen);
      js.catch_up = c.value;
    } else if (k == "catch_up_window" || k == "misfire_threshold") {
      auto d = tenure::parse_duration(v, k, true);
      if (!d.ok()) return fail(d.status, errbuf, errlen);
      (k == "catch_up_window" ? js.catch_up_window : js.misfire_threshold) = d.value;
    } else if (k == "catch_up_max") {
      char* end = nullptr;
      long n = std::strtol(v.c_str(), &end, 10);
      if (v.empty() || *end || n < 1 || n > 10000)
        return fail(tenure::make_error(Errc::invalid_argument,
                                       "catch_up_max '" + v + "' must be a number from 1 to 10000"),
                    errbuf, errlen);
      js.catch_up_max = static_cast<size_t>(n);
    } else if (k == "on_unfinished") {
      if (v != "retry" && v != "skip")
        return fail(tenure::make_error(Errc::invalid_argument,
                                       "on_unfinished '" + v + "': use retry or skip"),
                    errbuf, errlen);
      js.on_unfinished =
          v == "retry" ? tenure::UnfinishedPolicy::retry : tenure::UnfinishedPolicy::skip;
    } else {
      return fail(tenure::make_error(Errc::unknown_option,
                                     "unknown schedule option '" + k +
                                         "'; known: catch_up, catch_up_window, catch_up_max, "
                                         "misfire_threshold, on_unfinished"),
                  errbuf, errlen);
    }
    s->js = js;
    return TENURE_OK;
  });
}

tenure_err tenure_schedule_set_log(tenure_schedule* s, tenure_schedule_log_fn fn, void* opaque,
                                   char* errbuf, size_t errlen) {
  if (!s) return tenure::capi::invalid("schedule", errbuf, errlen);
  if (s->scheduler)
    return fail(
        tenure::make_error(Errc::bad_state, "set the schedule's log before tenure_schedule_start"),
        errbuf, errlen);
  s->log_fn = fn;
  s->log_opaque = opaque;
  return TENURE_OK;
}

tenure_err tenure_schedule_start(tenure_schedule* s, tenure_scheduled_fn fn, void* opaque,
                                 char* errbuf, size_t errlen) {
  if (!s) return tenure::capi::invalid("schedule", errbuf, errlen);
  if (!fn) return tenure::capi::invalid("fn", errbuf, errlen);
  return guarded(errbuf, errlen, [&] {
    if (s->scheduler)
      return fail(tenure::make_error(Errc::bad_state, "the schedule is already started"), errbuf,
                  errlen);
    tenure::SchedulerHooks hooks;
    if (s->log_fn)
      hooks.log = [f = s->log_fn, o = s->log_opaque](const std::string& l) { f(l.c_str(), o); };
    auto job = [fn, opaque](const tenure::FireContext& c, std::string& detail) {
      char buf[1024] = {0};
      const int64_t unix_s = c.fire_time.time_since_epoch().count();
      int rc = fn(c.job.c_str(), unix_s, c.key.c_str(), c.token, buf, sizeof buf, opaque);
      buf[sizeof buf - 1] = '\0';
      detail = buf;
      return rc == 0;
    };
    auto r = tenure::Scheduler::create(*s->elector, s->js, job, hooks);
    if (!r.ok()) return fail(r.status, errbuf, errlen);
    if (auto st = r.value->start(); !st.ok()) return fail(st, errbuf, errlen);
    s->scheduler = std::move(r.value);
    return TENURE_OK;
  });
}

tenure_err tenure_schedule_wake(tenure_schedule* s, char* errbuf, size_t errlen) {
  if (!s) return tenure::capi::invalid("schedule", errbuf, errlen);
  return guarded(errbuf, errlen, [&] {
    if (s->scheduler) s->scheduler->wake();
    return TENURE_OK;
  });
}

void tenure_schedule_destroy(tenure_schedule* s) {
  if (!s) return;
  try {
    if (s->scheduler) s->scheduler->stop();
  } catch (...) {
  }
  delete s;
}

tenure_err tenure_schedule_next_fire(int64_t* out_unix_s, const char* spec, const char* tz,
                                     int64_t after_unix_s, char* errbuf, size_t errlen) {
  if (!out_unix_s) return tenure::capi::invalid("out_unix_s", errbuf, errlen);
  if (!spec) return tenure::capi::invalid("spec", errbuf, errlen);
  return guarded(errbuf, errlen, [&] {
    auto sched = tenure::Schedule::parse(spec, tz ? tz : "");
    if (!sched.ok()) return fail(sched.status, errbuf, errlen);
    auto next = sched.value.next_after(tenure::SysSeconds(std::chrono::seconds(after_unix_s)));
    if (!next)
      return fail(tenure::make_error(Errc::bad_state, std::string("schedule '") + spec +
                                                          "' does not fire within ten years"),
                  errbuf, errlen);
    *out_unix_s = next->time_since_epoch().count();
    return TENURE_OK;
  });
}

tenure_err tenure_fire_key(char** out, const char* job, int64_t fire_unix_s, char* errbuf,
                           size_t errlen) {
  if (!out) return tenure::capi::invalid("out", errbuf, errlen);
  *out = nullptr;
  if (!job) return tenure::capi::invalid("job", errbuf, errlen);
  return guarded(errbuf, errlen, [&] {
    if (auto st = tenure::validate_job_name(job); !st.ok()) return fail(st, errbuf, errlen);
    return copy_out(out,
                    tenure::fire_key(job, tenure::SysSeconds(std::chrono::seconds(fire_unix_s))));
  });
}

tenure_err tenure_elector_list_runs_json(char** out, tenure_elector* elector, const char* prefix,
                                         size_t limit, char* errbuf, size_t errlen) {
  if (!out) return tenure::capi::invalid("out", errbuf, errlen);
  *out = nullptr;
  if (!elector) return tenure::capi::invalid("elector", errbuf, errlen);
  return guarded(errbuf, errlen, [&] {
    auto r = tenure::capi::elector_of(elector)->list_runs(prefix ? prefix : "", limit);
    if (!r.ok()) return fail(r.status, errbuf, errlen);
    nlohmann::json arr = nlohmann::json::array();
    for (const auto& rec : r.value)
      arr.push_back({{"job_key", rec.job_key},
                     {"status", tenure::run_status_name(rec.status)},
                     {"token", rec.token},
                     {"holder", rec.holder},
                     {"started_unix_ms", rec.started_unix_ms},
                     {"finished_unix_ms", rec.finished_unix_ms},
                     {"detail", rec.detail}});
    return copy_out(out, arr.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
  });
}

}  // extern "C"
