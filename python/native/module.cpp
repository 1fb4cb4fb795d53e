// tenure._native: a thin pybind11 layer over the C ABI (tenure.h). The Python API lives in the
// pure-Python package; this module only converts arguments and releases the GIL.
#include <chrono>
#include <string>

#include "common.hpp"

PYBIND11_MODULE(_native, m) {
  m.doc() = "tenure's C ABI for the tenure package; use tenure, not this module.";
  if (tenure_version_num() < TENURE_VERSION_NUM ||
      (TENURE_VERSION_MAJOR == 0 && (tenure_version_num() >> 8) != (TENURE_VERSION_NUM >> 8))) {
    throw std::runtime_error(std::string("tenure: the loaded libtenure is version ") +
                             tenure_version() + " but this extension was built for " +
                             TENURE_VERSION_STRING + "; reinstall the tenure package");
  }
  m.attr("HEADER_VERSION") = TENURE_VERSION_STRING;
  m.def("version", [] { return std::string(tenure_version()); });
  m.def("monotonic_ns", &tenure_py::monotonic_ns,
        "steady_clock now in ns: the clock of an event's polled_ns (for benchmarks).");
  tenure_py::bind_elector(m);
  tenure_py::bind_queue_and_log(m);
}
