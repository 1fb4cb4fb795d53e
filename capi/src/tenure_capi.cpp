// The C ABI over tenure::Elector. Every entry point catches everything: no exception crosses.
#include <cstdlib>
#include <cstring>
#include <new>

#include "tenure/elector.hpp"
#include "tenure/tenure.h"

using tenure::Errc;
using tenure::Status;

struct tenure_options {
  tenure::ElectorOptions opts;
};

struct tenure_event {
  tenure::Event ev;
};

struct tenure_status {
  tenure::ElectorStatus st;
};

struct tenure_elector {
  std::unique_ptr<tenure::Elector> elector;
  std::string identity;
};

// The C++ elector behind a handle, for the C ABI's other files (schedules). Not exported.
namespace tenure::capi {
tenure::Elector* elector_of(tenure_elector* e) { return e ? e->elector.get() : nullptr; }
}  // namespace tenure::capi

namespace {

static_assert(static_cast<int>(Errc::internal) == TENURE_E_INTERNAL, "enum drift");
static_assert(static_cast<int>(Errc::lost) == TENURE_E_LOST, "enum drift");

void write_err(char* buf, size_t len, const std::string& msg) {
  if (!buf || len == 0) return;
  size_t n = std::min(len - 1, msg.size());
  std::memcpy(buf, msg.data(), n);
  buf[n] = '\0';
}

tenure_err fail(const Status& s, char* buf, size_t len) {
  write_err(buf, len, s.message.empty() ? tenure::errc_text(s.code) : s.message);
  return static_cast<tenure_err>(s.code);
}

tenure_err invalid(const char* what, char* buf, size_t len) {
  return fail(tenure::make_error(Errc::invalid_argument, std::string(what) + " is NULL"), buf, len);
}

template <class F>
tenure_err guarded(char* buf, size_t len, F&& f) noexcept {
  try {
    return f();
  } catch (const std::bad_alloc&) {
    write_err(buf, len, "out of memory");
    return TENURE_E_INTERNAL;
  } catch (const std::exception& e) {
    write_err(buf, len, std::string("internal error: ") + e.what());
    return TENURE_E_INTERNAL;
  } catch (...) {
    write_err(buf, len, "internal error");
    return TENURE_E_INTERNAL;
  }
}

}  // namespace

extern "C" {

const char* tenure_version(void) { return TENURE_VERSION_STRING; }
int tenure_version_num(void) { return TENURE_VERSION_NUM; }
const char* tenure_strerror(tenure_err err) { return tenure::errc_text(static_cast<Errc>(err)); }
const char* tenure_err_name(tenure_err err) { return tenure::errc_name(static_cast<Errc>(err)); }
void tenure_free(void* p) { std::free(p); }

tenure_err tenure_options_new(tenure_options** out) {
  if (!out) return TENURE_E_INVALID_ARGUMENT;
  return guarded(nullptr, 0, [&] {
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

tenure_err tenure_elector_set_callback(tenure_elector* e, tenure_event_cb cb, void* opaque) {
  if (!e || !cb) return TENURE_E_INVALID_ARGUMENT;
  return guarded(nullptr, 0, [&] {
    auto s = e->elector->set_callback([e, cb, opaque](const tenure::Event& ev) {
      tenure_event view{ev};
      cb(e, &view, opaque);
    });
    return static_cast<tenure_err>(s.code);
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

tenure_err tenure_elector_resign(tenure_elector* e) {
  if (!e) return TENURE_E_INVALID_ARGUMENT;
  return guarded(nullptr, 0, [&] { return static_cast<tenure_err>(e->elector->resign().code); });
}

tenure_err tenure_elector_ack_revoked(tenure_elector* e) {
  if (!e) return TENURE_E_INVALID_ARGUMENT;
  return guarded(nullptr, 0,
                 [&] { return static_cast<tenure_err>(e->elector->ack_revoked().code); });
}

tenure_err tenure_elector_destroy(tenure_elector* e) {
  if (!e) return TENURE_OK;
  return guarded(nullptr, 0, [&] {
    if (e->elector->in_own_callback()) return TENURE_E_IN_CALLBACK;
    delete e;
    return TENURE_OK;
  });
}

tenure_err tenure_elector_poll_event(tenure_event** out, tenure_elector* e, int timeout_ms) {
  if (!out || !e) return TENURE_E_INVALID_ARGUMENT;
  *out = nullptr;
  return guarded(nullptr, 0, [&] {
    auto r = e->elector->poll_event(std::chrono::milliseconds(timeout_ms < 0 ? 0 : timeout_ms));
    if (!r.ok()) return static_cast<tenure_err>(r.status.code);
    *out = new tenure_event{std::move(r.value)};
    return TENURE_OK;
  });
}

int tenure_elector_event_fd(tenure_elector* e) { return e ? e->elector->event_fd() : -1; }

int tenure_elector_is_leader(const tenure_elector* e) {
  if (!e) return 0;
  try {
    return e->elector->status().is_leader ? 1 : 0;
  } catch (...) {
    return 0;
  }
}

tenure_err tenure_elector_status(tenure_status** out, const tenure_elector* e) {
  if (!out || !e) return TENURE_E_INVALID_ARGUMENT;
  return guarded(nullptr, 0, [&] {
    *out = new tenure_status{e->elector->status()};
    return TENURE_OK;
  });
}

tenure_err tenure_elector_metrics_json(char** out, const tenure_elector* e) {
  if (!out || !e) return TENURE_E_INVALID_ARGUMENT;
  return guarded(nullptr, 0, [&] {
    std::string j = e->elector->metrics().to_json();
    char* p = static_cast<char*>(std::malloc(j.size() + 1));
    if (!p) return TENURE_E_INTERNAL;
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
    auto r = e->elector->run_once(job_key, static_cast<tenure::UnfinishedPolicy>(policy),
                                  [&](uint64_t token, std::string& detail) {
                                    char buf[1024] = {0};
                                    int rc = fn(token, buf, sizeof buf, opaque);
                                    buf[sizeof buf - 1] = '\0';
                                    detail = buf;
                                    return rc == 0;
                                  });
    if (!r.ok()) return fail(r.status, errbuf, errlen);
    *out_ran = r.value.ran ? 1 : 0;
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
void tenure_event_free(tenure_event* ev) { delete ev; }
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
void tenure_status_free(tenure_status* st) { delete st; }

}  // extern "C"
