// The C ABI of process-wide logging: callback, queue with a descriptor, record getters.
#include <cerrno>

#include "capi_errors.hpp"
#include "tenure/log.hpp"
#include "tenure/tenure.h"

using tenure::Errc;
using tenure::LogLevel;
using tenure::capi::check;
using tenure::capi::fail;
using tenure::capi::guarded;
using tenure::capi::invalid;

// A callback gets a view of the logger's record (no copy); a polled record owns its own.
struct tenure_log_record {
  const tenure::LogRecord* rec;
  tenure::LogRecord owned;
};

namespace {
static_assert(static_cast<int>(LogLevel::debug) == TENURE_LOG_DEBUG, "enum drift");

bool valid_level(const tenure_log_level& level) {
  int v = tenure::capi::raw_enum(level);
  return v >= TENURE_LOG_OFF && v <= TENURE_LOG_DEBUG;
}
tenure_err bad_level(char* errbuf, size_t errlen) {
  return fail(tenure::make_error(Errc::invalid_argument,
                                 "log level must be one of TENURE_LOG_OFF, TENURE_LOG_ERROR, "
                                 "TENURE_LOG_WARN, TENURE_LOG_INFO, TENURE_LOG_DEBUG"),
              errbuf, errlen);
}
}  // namespace

extern "C" {

tenure_err tenure_log_set_callback(tenure_log_level level, tenure_log_cb cb, void* opaque,
                                   char* errbuf, size_t errlen) {
  if (!valid_level(level)) return bad_level(errbuf, errlen);
  return guarded(errbuf, errlen, [&] {
    tenure::LogSink sink;
    if (cb && level != TENURE_LOG_OFF)
      sink = [cb, opaque](const tenure::LogRecord& r) {
        tenure_log_record view{&r, {}};
        cb(&view, opaque);
      };
    return check(tenure::set_log_sink(static_cast<LogLevel>(level), std::move(sink)), errbuf,
                 errlen);
  });
}

tenure_err tenure_log_set_queue(tenure_log_level level, char* errbuf, size_t errlen) {
  if (!valid_level(level)) return bad_level(errbuf, errlen);
  return guarded(errbuf, errlen, [&] {
    return check(tenure::set_log_queue(static_cast<LogLevel>(level)), errbuf, errlen);
  });
}

tenure_err tenure_log_poll(tenure_log_record** out, int timeout_ms, char* errbuf, size_t errlen) {
  if (!out) return invalid("out", errbuf, errlen);
  *out = nullptr;
  return guarded(errbuf, errlen, [&] {
    auto r = tenure::poll_log(std::chrono::milliseconds(timeout_ms < 0 ? 0 : timeout_ms));
    if (!r.ok()) return fail(r.status, errbuf, errlen);
    auto* rec = new tenure_log_record{nullptr, std::move(r.value)};
    rec->rec = &rec->owned;
    *out = rec;
    return TENURE_OK;
  });
}

tenure_err tenure_log_fd(int* out, char* errbuf, size_t errlen) {
  if (!out) return invalid("out", errbuf, errlen);
  *out = -1;
  return guarded(errbuf, errlen, [&] {
    int fd = tenure::log_fd();
    if (fd < 0)
      return fail(
          tenure::make_error(Errc::internal,
                             std::string("the kernel refused an eventfd: ") + std::strerror(errno)),
          errbuf, errlen);
    *out = fd;
    return TENURE_OK;
  });
}

uint64_t tenure_log_dropped(void) { return tenure::log_dropped(); }

const char* tenure_log_level_name(tenure_log_level level) {
  if (!valid_level(level)) return "unknown";
  return tenure::log_level_name(static_cast<LogLevel>(level));
}

tenure_log_level tenure_log_record_get_level(const tenure_log_record* r) {
  return r ? static_cast<tenure_log_level>(r->rec->level) : TENURE_LOG_OFF;
}
const char* tenure_log_record_get_facility(const tenure_log_record* r) {
  return r ? r->rec->facility.c_str() : "";
}
const char* tenure_log_record_get_election(const tenure_log_record* r) {
  return r ? r->rec->election.c_str() : "";
}
const char* tenure_log_record_get_identity(const tenure_log_record* r) {
  return r ? r->rec->identity.c_str() : "";
}
const char* tenure_log_record_get_message(const tenure_log_record* r) {
  return r ? r->rec->message.c_str() : "";
}
int64_t tenure_log_record_get_unix_ms(const tenure_log_record* r) {
  return r ? r->rec->unix_ms : 0;
}
void tenure_log_record_free(tenure_log_record* r) { delete r; }

}  // extern "C"
