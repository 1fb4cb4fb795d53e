// The C ABI of process-wide controls: thread hooks and shutdown.
#include "capi_errors.hpp"
#include "tenure/process.hpp"
#include "tenure/tenure.h"

using tenure::capi::check;
using tenure::capi::guarded;

extern "C" {

tenure_err tenure_threads_set_hooks(tenure_thread_cb on_start, tenure_thread_cb on_exit,
                                    void* opaque, char* errbuf, size_t errlen) {
  return guarded(errbuf, errlen, [&] {
    tenure::ThreadHooks hooks;
    if (on_start) hooks.on_start = [on_start, opaque](const char* name) { on_start(name, opaque); };
    if (on_exit) hooks.on_exit = [on_exit, opaque](const char* name) { on_exit(name, opaque); };
    return check(tenure::set_thread_hooks(std::move(hooks)), errbuf, errlen);
  });
}

tenure_err tenure_shutdown(int timeout_ms, char* errbuf, size_t errlen) {
  return guarded(errbuf, errlen, [&] {
    return check(tenure::shutdown(std::chrono::milliseconds(timeout_ms)), errbuf, errlen);
  });
}

}  // extern "C"
