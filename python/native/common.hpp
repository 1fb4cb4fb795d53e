// Shared helpers of the extension: calling the C ABI with the GIL released and turning a
// failed call into the tenure exception that matches its error code.
#pragma once

#include <pybind11/pybind11.h>
#include <tenure/tenure.h>

#include <string>
#include <tuple>

namespace py = pybind11;

namespace tenure_py {

// Large enough for every message tenure writes (the ABI asks for at least 512).
constexpr size_t kErrLen = 1024;

// Raises the tenure exception for code with message (GIL held): tenure._errors builds it.
[[noreturn]] void raise_error(tenure_err code, const char* message);

// Runs f(errbuf, errlen) with the GIL released, then raises on failure.
template <class F>
void call(F&& f) {
  char err[kErrLen];
  err[0] = '\0';
  tenure_err rc;
  {
    py::gil_scoped_release nogil;
    rc = f(err, sizeof err);
  }
  if (rc != TENURE_OK) raise_error(rc, err);
}

// std::chrono::steady_clock in ns (CLOCK_MONOTONIC, like Python's time.monotonic_ns).
int64_t monotonic_ns();

// An event copied into a tuple:
// (type, token, reason, leader, error, message, opaque, polled_ns), where polled_ns is when the
// extension took it from tenure's queue (before taking the GIL).
py::tuple event_tuple(const tenure_event* ev, int64_t polled_ns);

void bind_elector(py::module_& m);
void bind_queue_and_log(py::module_& m);

}  // namespace tenure_py
