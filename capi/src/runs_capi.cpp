// The C ABI of the run-once ledger's records and of backend capabilities.
#include "capi_errors.hpp"
#include "capi_handles.hpp"

using tenure::Errc;
using tenure::capi::fail;
using tenure::capi::guarded;
using tenure::capi::invalid;

struct tenure_run {
  tenure::RunRecord rec;
};

namespace {
static_assert(static_cast<int>(tenure::RunStatus::failed) == TENURE_RUN_FAILED, "enum drift");
}

extern "C" {

tenure_err tenure_elector_read_run(tenure_run** out, tenure_elector* e, const char* job_key,
                                   char* errbuf, size_t errlen) {
  if (!out) return invalid("out", errbuf, errlen);
  *out = nullptr;
  if (!e) return invalid("elector", errbuf, errlen);
  if (!job_key) return invalid("job_key", errbuf, errlen);
  return guarded(errbuf, errlen, [&] {
    auto r = e->elector->read_run(job_key);
    if (!r.ok()) return fail(r.status, errbuf, errlen);
    *out = new tenure_run{std::move(r.value)};
    return TENURE_OK;
  });
}

tenure_run_status tenure_run_get_status(const tenure_run* r) {
  return r ? static_cast<tenure_run_status>(r->rec.status) : TENURE_RUN_NONE;
}
uint64_t tenure_run_get_token(const tenure_run* r) { return r ? r->rec.token : 0; }
const char* tenure_run_get_holder(const tenure_run* r) { return r ? r->rec.holder.c_str() : ""; }
int64_t tenure_run_get_started_unix_ms(const tenure_run* r) {
  return r ? r->rec.started_unix_ms : 0;
}
int64_t tenure_run_get_finished_unix_ms(const tenure_run* r) {
  return r ? r->rec.finished_unix_ms : 0;
}
const char* tenure_run_get_detail(const tenure_run* r) { return r ? r->rec.detail.c_str() : ""; }
void tenure_run_free(tenure_run* r) { delete r; }
const char* tenure_run_status_name(tenure_run_status s) {
  return tenure::run_status_name(static_cast<tenure::RunStatus>(s));
}

tenure_err tenure_elector_capabilities(uint32_t* out, const tenure_elector* e, char* errbuf,
                                       size_t errlen) {
  if (!out) return invalid("out", errbuf, errlen);
  *out = 0;
  if (!e) return invalid("elector", errbuf, errlen);
  return guarded(errbuf, errlen, [&] {
    if (auto s = e->elector->usable(); !s.ok()) return fail(s, errbuf, errlen);
    tenure::Capabilities c = e->elector->capabilities();
    *out = (c.session_bound ? TENURE_CAP_SESSION_BOUND : 0) |
           (c.push_wakeup ? TENURE_CAP_PUSH_WAKEUP : 0) |
           (c.server_side_expiry ? TENURE_CAP_SERVER_SIDE_EXPIRY : 0) |
           (c.ledger ? TENURE_CAP_LEDGER : 0);
    return TENURE_OK;
  });
}

}  // extern "C"
