#include <chrono>

#include "common.hpp"

namespace tenure_py {

void raise_error(tenure_err code, const char* message) {
  std::string msg = (message && *message) ? message : tenure_strerror(code);
  py::object exc = py::module_::import("tenure._errors")
                       .attr("_from_code")(static_cast<int>(code), tenure_err_name(code), msg);
  PyErr_SetObject(reinterpret_cast<PyObject*>(Py_TYPE(exc.ptr())), exc.ptr());
  throw py::error_already_set();
}

int64_t monotonic_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

py::tuple event_tuple(const tenure_event* ev, int64_t polled_ns) {
  return py::make_tuple(static_cast<int>(tenure_event_get_type(ev)), tenure_event_get_token(ev),
                        tenure_revoke_reason_name(tenure_event_get_reason(ev)),
                        tenure_event_get_leader(ev), static_cast<int>(tenure_event_get_error(ev)),
                        tenure_event_get_message(ev),
                        reinterpret_cast<uintptr_t>(tenure_event_get_opaque(ev)), polled_ns);
}

}  // namespace tenure_py
