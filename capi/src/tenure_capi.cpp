// The C ABI over tenure::Elector. Every entry point catches everything: no exception crosses.
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <new>

#include "capi_errors.hpp"
#include "capi_handles.hpp"
#include "tenure/elector.hpp"
#include "tenure/tenure.h"

using tenure::Errc;
using tenure::Status;
using tenure::capi::check;
using tenure::capi::fail;
using tenure::capi::guarded;
using tenure::capi::invalid;
using tenure::capi::write_err;

// The C++ elector behind a handle, for the C ABI's other files (schedules). Not exported.
namespace tenure::capi {
tenure::Elector* elector_of(tenure_elector* e) { return e ? e->elector.get() : nullptr; }
}  // namespace tenure::capi

namespace {

static_assert(static_cast<int>(Errc::internal) == TENURE_E_INTERNAL, "enum drift");
static_assert(static_cast<int>(Errc::lost) == TENURE_E_LOST, "enum drift");
static_assert(static_cast<int>(Errc::connection_limit) == TENURE_E_CONNECTION_LIMIT, "enum drift");

}  // namespace

extern "C" {

const char* tenure_version(void) { return TENURE_VERSION_STRING; }
int tenure_version_num(void) { return TENURE_VERSION_NUM; }
const char* tenure_strerror(tenure_err err) { return tenure::errc_text(static_cast<Errc>(err)); }
const char* tenure_err_name(tenure_err err) { return tenure::errc_name(static_cast<Errc>(err)); }
void tenure_free(void* p) { std::free(p); }

tenure_err tenure_options_new(tenure_options** out, char* errbuf, size_t errlen) {
  if (!out) return invalid("out", errbuf, errlen);
  *out = nullptr;
  return guarded(errbuf, errlen, [&] {
    *out = new tenure_options();
    return TENURE_OK;
  });
}

tenure_err tenure_options_set(tenure_options* opts, const char* key, const char* value,
                              char* errbuf, size_t errlen) {
  if (!opts) return invalid("opts", errbuf, errlen);
  if (!key) return invalid("key", errbuf, errlen);
  if (!value) return invalid("value", errbuf, errlen);
  return guarded(errbuf, errlen, [&] {
    auto s = tenure::set_option(opts->opts, key, value);
    return s.ok() ? TENURE_OK : fail(s, errbuf, errlen);
  });
}

void tenure_options_free(tenure_options* opts) { delete opts; }

tenure_err tenure_elector_new(tenure_elector** out, const tenure_options* opts, char* errbuf,
                              size_t errlen) {
  if (!out) return invalid("out", errbuf, errlen);
  *out = nullptr;
  if (!opts) return invalid("opts", errbuf, errlen);
  return guarded(errbuf, errlen, [&] {
    auto r = tenure::Elector::create(opts->opts);
    if (!r.ok()) return fail(r.status, errbuf, errlen);
    auto* h = new tenure_elector();
    h->identity = r.value->options().identity;
    h->elector = std::move(r.value);
    *out = h;
    return TENURE_OK;
  });
}

tenure_err tenure_elector_set_callback(tenure_elector* e, tenure_event_cb cb, void* opaque,
                                       char* errbuf, size_t errlen) {
  if (!e) return invalid("elector", errbuf, errlen);
  if (!cb) return invalid("cb", errbuf, errlen);
  return guarded(errbuf, errlen, [&] {
    auto s = e->elector->set_callback([e, cb, opaque](const tenure::Event& ev) {
      tenure_event view{ev, e, opaque};
      cb(e, &view, opaque);
    });
    return s.ok() ? TENURE_OK : fail(s, errbuf, errlen);
  });
}

tenure_err tenure_elector_start(tenure_elector* e, char* errbuf, size_t errlen) {
  if (!e) return invalid("elector", errbuf, errlen);
  return guarded(errbuf, errlen, [&] {
    auto s = e->elector->start();
    return s.ok() ? TENURE_OK : fail(s, errbuf, errlen);
  });
}

tenure_err tenure_elector_stop(tenure_elector* e, char* errbuf, size_t errlen) {
  if (!e) return invalid("elector", errbuf, errlen);
  return guarded(errbuf, errlen, [&] {
    auto s = e->elector->stop();
    return s.ok() ? TENURE_OK : fail(s, errbuf, errlen);
  });
}

tenure_err tenure_elector_resign(tenure_elector* e, char* errbuf, size_t errlen) {
  if (!e) return invalid("elector", errbuf, errlen);
  return guarded(errbuf, errlen, [&] { return check(e->elector->resign(), errbuf, errlen); });
}

tenure_err tenure_elector_ack_revoked(tenure_elector* e, char* errbuf, size_t errlen) {
  if (!e) return invalid("elector", errbuf, errlen);
  return guarded(errbuf, errlen, [&] { return check(e->elector->ack_revoked(), errbuf, errlen); });
}

tenure_err tenure_elector_destroy(tenure_elector* e, char* errbuf, size_t errlen) {
  if (!e) return TENURE_OK;
  return guarded(errbuf, errlen, [&] {
    if (e->elector->in_own_callback())
      return fail(tenure::make_error(Errc::in_callback,
                                     "an elector cannot be destroyed from its own callback; "
                                     "stop it there and destroy it from another thread"),
                  errbuf, errlen);
    delete e;
    return TENURE_OK;
  });
}

tenure_err tenure_elector_poll_event(tenure_event** out, tenure_elector* e, int timeout_ms,
                                     char* errbuf, size_t errlen) {
  if (!out) return invalid("out", errbuf, errlen);
  *out = nullptr;
  if (!e) return invalid("elector", errbuf, errlen);
  return guarded(errbuf, errlen, [&] {
    auto r = e->elector->poll_event(std::chrono::milliseconds(timeout_ms < 0 ? 0 : timeout_ms));
    if (!r.ok()) return fail(r.status, errbuf, errlen);
    *out = new tenure_event{std::move(r.value), e, nullptr};
    return TENURE_OK;
  });
}

tenure_err tenure_elector_event_fd(int* out, tenure_elector* e, char* errbuf, size_t errlen) {
  if (!out) return invalid("out", errbuf, errlen);
  *out = -1;
  if (!e) return invalid("elector", errbuf, errlen);
  return guarded(errbuf, errlen, [&] {
    if (auto s = e->elector->usable(); !s.ok()) return fail(s, errbuf, errlen);
    int fd = e->elector->event_fd();
    if (fd < 0)
      return fail(tenure::make_error(Errc::internal,
                                     std::string("the kernel refused an eventfd: ") +
                                         std::strerror(errno) + " (check the open-files limit)"),
                  errbuf, errlen);
    *out = fd;
    return TENURE_OK;
  });
}

int tenure_elector_is_leader(const tenure_elector* e) {
  if (!e) return 0;
  try {
    return e->elector->usable().ok() && e->elector->status().is_leader ? 1 : 0;
  } catch (...) {
    return 0;
  }
}

tenure_err tenure_elector_status(tenure_status** out, const tenure_elector* e, char* errbuf,
                                 size_t errlen) {
  if (!out) return invalid("out", errbuf, errlen);
  *out = nullptr;
  if (!e) return invalid("elector", errbuf, errlen);
  return guarded(errbuf, errlen, [&] {
    if (auto s = e->elector->usable(); !s.ok()) return fail(s, errbuf, errlen);
    *out = new tenure_status{e->elector->status()};
    return TENURE_OK;
  });
}

tenure_err tenure_elector_metrics_json(char** out, const tenure_elector* e, char* errbuf,
                                       size_t errlen) {
  if (!out) return invalid("out", errbuf, errlen);
  *out = nullptr;
  if (!e) return invalid("elector", errbuf, errlen);
  return guarded(errbuf, errlen, [&] {
    if (auto s = e->elector->usable(); !s.ok()) return fail(s, errbuf, errlen);
    std::string j = e->elector->metrics().to_json();
    char* p = static_cast<char*>(std::malloc(j.size() + 1));
    if (!p) return fail(tenure::make_error(Errc::internal, "out of memory"), errbuf, errlen);
    std::memcpy(p, j.c_str(), j.size() + 1);
    *out = p;
    return TENURE_OK;
  });
}

const char* tenure_elector_identity(const tenure_elector* e) {
  return e ? e->identity.c_str() : "";
}

tenure_err tenure_elector_run_once(int* out_ran, tenure_elector* e, const char* job_key,
                                   tenure_unfinished_policy policy, tenure_job_fn fn, void* opaque,
                                   char* errbuf, size_t errlen) {
  if (!out_ran) return invalid("out_ran", errbuf, errlen);
  *out_ran = 0;
  if (!e) return invalid("elector", errbuf, errlen);
  if (!job_key) return invalid("job_key", errbuf, errlen);
  if (!fn) return invalid("fn", errbuf, errlen);
  if (policy != TENURE_UNFINISHED_RETRY && policy != TENURE_UNFINISHED_SKIP)
    return fail(tenure::make_error(Errc::invalid_argument,
                                   "policy must be TENURE_UNFINISHED_RETRY "
                                   "or TENURE_UNFINISHED_SKIP"),
                errbuf, errlen);
  return guarded(errbuf, errlen, [&] {
    bool unterminated = false;
    auto r = e->elector->run_once(job_key, static_cast<tenure::UnfinishedPolicy>(policy),
                                  [&](uint64_t token, std::string& detail) {
                                    std::string buf(TENURE_RUN_DETAIL_MAX, '\0');
                                    int rc = fn(token, buf.data(), buf.size(), opaque);
                                    size_t n = ::strnlen(buf.data(), buf.size());
                                    if (n == buf.size()) {
                                      unterminated = true;
                                      detail = "the job's detail had no NUL within " +
                                               std::to_string(buf.size()) + " bytes";
                                      return false;
                                    }
                                    detail.assign(buf.data(), n);
                                    return rc == 0;
                                  });
    if (!r.ok()) return fail(r.status, errbuf, errlen);
    *out_ran = r.value.ran ? 1 : 0;
    if (unterminated)
      return fail(tenure::make_error(Errc::invalid_argument,
                                     "the job filled all " + std::to_string(TENURE_RUN_DETAIL_MAX) +
                                         " bytes of detail without a terminating NUL; the run was "
                                         "recorded as failed without it (keep detail shorter)"),
                  errbuf, errlen);
    return TENURE_OK;
  });
}

tenure_event_type tenure_event_get_type(const tenure_event* ev) {
  return ev ? static_cast<tenure_event_type>(ev->ev.type) : TENURE_EVENT_ERROR;
}
uint64_t tenure_event_get_token(const tenure_event* ev) { return ev ? ev->ev.token : 0; }
tenure_revoke_reason tenure_event_get_reason(const tenure_event* ev) {
  return ev ? static_cast<tenure_revoke_reason>(ev->ev.reason) : TENURE_REVOKE_NONE;
}
const char* tenure_event_get_leader(const tenure_event* ev) {
  return ev ? ev->ev.leader.c_str() : "";
}
tenure_err tenure_event_get_error(const tenure_event* ev) {
  return ev ? static_cast<tenure_err>(ev->ev.code) : TENURE_E_INVALID_ARGUMENT;
}
const char* tenure_event_get_message(const tenure_event* ev) {
  return ev ? ev->ev.message.c_str() : "";
}
tenure_elector* tenure_event_get_elector(const tenure_event* ev) {
  return ev ? ev->elector : nullptr;
}
void* tenure_event_get_opaque(const tenure_event* ev) { return ev ? ev->opaque : nullptr; }
void tenure_event_free(tenure_event* ev) { delete ev; }

tenure_err tenure_queue_new(tenure_queue** out, char* errbuf, size_t errlen) {
  if (!out) return invalid("out", errbuf, errlen);
  *out = nullptr;
  return guarded(errbuf, errlen, [&] {
    *out = new tenure_queue{std::make_shared<tenure::SharedEventQueue>()};
    return TENURE_OK;
  });
}

tenure_err tenure_elector_set_queue(tenure_elector* e, tenure_queue* q, void* opaque, char* errbuf,
                                    size_t errlen) {
  if (!e) return invalid("elector", errbuf, errlen);
  if (!q) return invalid("queue", errbuf, errlen);
  return guarded(errbuf, errlen, [&] {
    auto s = e->elector->set_queue(q->q, e);
    if (!s.ok()) return fail(s, errbuf, errlen);
    e->queue_opaque = opaque;
    return TENURE_OK;
  });
}

tenure_err tenure_queue_poll(tenure_event** out, tenure_queue* q, int timeout_ms, char* errbuf,
                             size_t errlen) {
  if (!out) return invalid("out", errbuf, errlen);
  *out = nullptr;
  if (!q) return invalid("queue", errbuf, errlen);
  return guarded(errbuf, errlen, [&] {
    auto r = q->q->pop(std::chrono::milliseconds(timeout_ms < 0 ? 0 : timeout_ms));
    if (!r.ok()) return fail(r.status, errbuf, errlen);
    auto* e = static_cast<tenure_elector*>(const_cast<void*>(r.value.source));
    *out = new tenure_event{std::move(r.value.event), e, e->queue_opaque};
    return TENURE_OK;
  });
}

tenure_err tenure_queue_fd(int* out, tenure_queue* q, char* errbuf, size_t errlen) {
  if (!out) return invalid("out", errbuf, errlen);
  *out = -1;
  if (!q) return invalid("queue", errbuf, errlen);
  return guarded(errbuf, errlen, [&] {
    int fd = q->q->fd();
    if (fd < 0)
      return fail(
          tenure::make_error(Errc::internal,
                             std::string("the kernel refused an eventfd: ") + std::strerror(errno)),
          errbuf, errlen);
    *out = fd;
    return TENURE_OK;
  });
}

void tenure_queue_free(tenure_queue* q) { delete q; }
const char* tenure_event_type_name(tenure_event_type t) {
  return tenure::event_type_name(static_cast<tenure::EventType>(t));
}
const char* tenure_revoke_reason_name(tenure_revoke_reason r) {
  return tenure::revoke_reason_name(static_cast<tenure::RevokeReason>(r));
}

tenure_role tenure_status_get_role(const tenure_status* st) {
  return st ? static_cast<tenure_role>(st->st.role) : TENURE_ROLE_STOPPED;
}
int tenure_status_is_leader(const tenure_status* st) { return st && st->st.is_leader ? 1 : 0; }
uint64_t tenure_status_get_token(const tenure_status* st) { return st ? st->st.token : 0; }
const char* tenure_status_get_leader(const tenure_status* st) {
  return st ? st->st.leader.c_str() : "";
}
int64_t tenure_status_get_ms_since_renewal(const tenure_status* st) {
  return st ? st->st.ms_since_last_renewal : -1;
}
int64_t tenure_status_get_expires_in_ms(const tenure_status* st) {
  return st ? st->st.record.expires_in_ms : -1;
}
int64_t tenure_status_get_acquired_unix_ms(const tenure_status* st) {
  return st ? st->st.record.acquired_unix_ms : 0;
}
int64_t tenure_status_get_renewed_unix_ms(const tenure_status* st) {
  return st ? st->st.record.renewed_unix_ms : 0;
}
int64_t tenure_status_get_lease_duration_ms(const tenure_status* st) {
  return st ? st->st.record.lease_duration.count() : 0;
}
uint64_t tenure_status_get_transitions(const tenure_status* st) {
  return st ? st->st.record.transitions : 0;
}
int64_t tenure_status_get_ms_since_backend_contact(const tenure_status* st) {
  return st ? st->st.ms_since_backend_contact : -1;
}
void tenure_status_free(tenure_status* st) { delete st; }

}  // extern "C"
