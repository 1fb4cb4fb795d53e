// The shared event queue (one descriptor for many electors), the log queue and shutdown.
#include "common.hpp"

namespace tenure_py {
namespace {

class Queue {
 public:
  Queue() {
    call([&](char* e, size_t n) { return tenure_queue_new(&q_, e, n); });
  }
  ~Queue() { tenure_queue_free(q_); }
  Queue(const Queue&) = delete;
  Queue& operator=(const Queue&) = delete;

  tenure_queue* handle() const { return q_; }

  int fd() {
    int fd = -1;
    call([&](char* e, size_t n) { return tenure_queue_fd(&fd, q_, e, n); });
    return fd;
  }

  // The next event, or None when none came within timeout_ms.
  py::object poll(int timeout_ms) {
    tenure_event* ev = nullptr;
    char err[kErrLen] = "";
    tenure_err rc;
    int64_t polled_ns;
    {
      py::gil_scoped_release nogil;
      rc = tenure_queue_poll(&ev, q_, timeout_ms, err, sizeof err);
      polled_ns = monotonic_ns();
    }
    if (rc == TENURE_E_NO_EVENT) return py::none();
    if (rc != TENURE_OK) raise_error(rc, err);
    py::tuple t = event_tuple(ev, polled_ns);
    tenure_event_free(ev);
    return t;
  }

 private:
  tenure_queue* q_ = nullptr;
};

py::object log_poll() {
  tenure_log_record* rec = nullptr;
  char err[kErrLen] = "";
  tenure_err rc = tenure_log_poll(&rec, 0, err, sizeof err);
  if (rc == TENURE_E_NO_EVENT) return py::none();
  if (rc != TENURE_OK) raise_error(rc, err);
  py::tuple t = py::make_tuple(
      static_cast<int>(tenure_log_record_get_level(rec)), tenure_log_record_get_facility(rec),
      tenure_log_record_get_election(rec), tenure_log_record_get_identity(rec),
      tenure_log_record_get_message(rec), tenure_log_record_get_unix_ms(rec));
  tenure_log_record_free(rec);
  return t;
}

}  // namespace

tenure_queue* queue_handle(py::handle q) { return q.cast<Queue&>().handle(); }

void bind_queue_and_log(py::module_& m) {
  py::class_<Queue>(m, "Queue", "A tenure_queue: events of many electors behind one descriptor.")
      .def(py::init<>())
      .def("fd", &Queue::fd)
      .def("poll", &Queue::poll, py::arg("timeout_ms"));

  m.def("log_set_queue", [](int level) {
    call([&](char* e, size_t n) {
      return tenure_log_set_queue(static_cast<tenure_log_level>(level), e, n);
    });
  });
  m.def("log_fd", [] {
    int fd = -1;
    call([&](char* e, size_t n) { return tenure_log_fd(&fd, e, n); });
    return fd;
  });
  m.def("log_poll", &log_poll, "The next queued log record as a tuple, or None.");
  m.def("log_dropped", [] { return tenure_log_dropped(); });
  m.def(
      "shutdown",
      [](int timeout_ms) {
        call([&](char* e, size_t n) { return tenure_shutdown(timeout_ms, e, n); });
      },
      py::arg("timeout_ms"));
  m.def("metrics_json", [] {
    char* out = nullptr;
    call([&](char* e, size_t n) { return tenure_metrics_json(&out, e, n); });
    std::string s(out);
    tenure_free(out);
    return s;
  });
  m.def("metrics_prometheus", [] {
    char* out = nullptr;
    call([&](char* e, size_t n) { return tenure_metrics_prometheus(&out, e, n); });
    std::string s(out);
    tenure_free(out);
    return s;
  });
}

}  // namespace tenure_py
