// tenure._native.Elector: one tenure_elector handle. Every call that may block (start, stop,
// resign, run_once, read_run, destroy) runs with the GIL released; events go to a Queue.
#include <chrono>
#include <cstring>
#include <optional>
#include <utility>
#include <vector>

#include <pybind11/stl.h>

#include "common.hpp"

namespace tenure_py {

tenure_queue* queue_handle(py::handle q);

namespace {

// A run_once job: the Python callable, and the exception it raised (re-raised afterwards).
struct Job {
  py::object fn;
  std::optional<py::error_already_set> error;
  std::string detail_error;
};

int run_job(uint64_t token, char* detail, size_t detail_len, void* opaque) {
  auto* job = static_cast<Job*>(opaque);
  py::gil_scoped_acquire gil;
  try {
    py::object r = job->fn(token);
    if (r.is_none()) return 0;
    std::string s = py::str(r);
    if (s.size() >= detail_len) {
      job->detail_error = "the job's detail is " + std::to_string(s.size()) + " bytes; at most " +
                          std::to_string(detail_len - 1) + " are recorded: return a shorter string";
      return 1;
    }
    std::memcpy(detail, s.data(), s.size());
    detail[s.size()] = '\0';
    return 0;
  } catch (py::error_already_set& e) {
    std::string what = e.what();
    std::snprintf(detail, detail_len, "%s", what.c_str());
    job->error.emplace(std::move(e));
    return 1;
  }
}

class Elector {
 public:
  explicit Elector(const std::vector<std::pair<std::string, std::string>>& options) {
    tenure_options* opts = nullptr;
    call([&](char* e, size_t n) { return tenure_options_new(&opts, e, n); });
    char err[kErrLen] = "";
    tenure_err rc = TENURE_OK;
    for (const auto& [k, v] : options) {
      rc = tenure_options_set(opts, k.c_str(), v.c_str(), err, sizeof err);
      if (rc != TENURE_OK) break;
    }
    if (rc == TENURE_OK) {
      py::gil_scoped_release nogil;
      rc = tenure_elector_new(&e_, opts, err, sizeof err);
    }
    tenure_options_free(opts);
    if (rc != TENURE_OK) raise_error(rc, err);
  }
  ~Elector() {
    py::gil_scoped_release nogil;
    tenure_elector_destroy(e_, nullptr, 0);
  }
  Elector(const Elector&) = delete;
  Elector& operator=(const Elector&) = delete;

  void set_queue(py::handle queue, uintptr_t opaque) {
    tenure_queue* q = queue_handle(queue);
    call([&](char* e, size_t n) {
      return tenure_elector_set_queue(e_, q, reinterpret_cast<void*>(opaque), e, n);
    });
  }
  void start() {
    call([&](char* e, size_t n) { return tenure_elector_start(e_, e, n); });
  }
  void stop() {
    call([&](char* e, size_t n) { return tenure_elector_stop(e_, e, n); });
  }
  void resign() {
    call([&](char* e, size_t n) { return tenure_elector_resign(e_, e, n); });
  }
  void ack_revoked() {
    call([&](char* e, size_t n) { return tenure_elector_ack_revoked(e_, e, n); });
  }
  bool is_leader() const { return tenure_elector_is_leader(e_) != 0; }
  std::string identity() const { return tenure_elector_identity(e_); }

  uint32_t capabilities() const {
    uint32_t caps = 0;
    call([&](char* e, size_t n) { return tenure_elector_capabilities(&caps, e_, e, n); });
    return caps;
  }

  py::dict status() const {
    tenure_status* st = nullptr;
    call([&](char* e, size_t n) { return tenure_elector_status(&st, e_, e, n); });
    py::dict d;
    d["role"] = static_cast<int>(tenure_status_get_role(st));
    d["is_leader"] = tenure_status_is_leader(st) != 0;
    d["token"] = tenure_status_get_token(st);
    d["leader"] = std::string(tenure_status_get_leader(st));
    d["ms_since_renewal"] = tenure_status_get_ms_since_renewal(st);
    d["expires_in_ms"] = tenure_status_get_expires_in_ms(st);
    d["acquired_unix_ms"] = tenure_status_get_acquired_unix_ms(st);
    d["renewed_unix_ms"] = tenure_status_get_renewed_unix_ms(st);
    d["lease_duration_ms"] = tenure_status_get_lease_duration_ms(st);
    d["transitions"] = tenure_status_get_transitions(st);
    d["ms_since_backend_contact"] = tenure_status_get_ms_since_backend_contact(st);
    tenure_status_free(st);
    return d;
  }

  std::string metrics_json() const {
    char* out = nullptr;
    call([&](char* e, size_t n) { return tenure_elector_metrics_json(&out, e_, e, n); });
    std::string s(out);
    tenure_free(out);
    return s;
  }

  // True when fn ran here. Exceptions fn raised are re-raised after the run is recorded.
  bool run_once(const std::string& key, int policy, py::object fn) {
    Job job{std::move(fn), std::nullopt, {}};
    int ran = 0;
    char err[kErrLen] = "";
    tenure_err rc;
    {
      py::gil_scoped_release nogil;
      rc = tenure_elector_run_once(&ran, e_, key.c_str(),
                                   static_cast<tenure_unfinished_policy>(policy), &run_job, &job,
                                   err, sizeof err);
    }
    if (job.error) throw std::move(*job.error);
    if (!job.detail_error.empty()) raise_error(TENURE_E_INVALID_ARGUMENT, job.detail_error.c_str());
    if (rc != TENURE_OK) raise_error(rc, err);
    return ran != 0;
  }

  py::dict read_run(const std::string& key) {
    tenure_run* run = nullptr;
    call([&](char* e, size_t n) { return tenure_elector_read_run(&run, e_, key.c_str(), e, n); });
    py::dict d;
    d["status"] = std::string(tenure_run_status_name(tenure_run_get_status(run)));
    d["token"] = tenure_run_get_token(run);
    d["holder"] = std::string(tenure_run_get_holder(run));
    d["started_unix_ms"] = tenure_run_get_started_unix_ms(run);
    d["finished_unix_ms"] = tenure_run_get_finished_unix_ms(run);
    d["detail"] = std::string(tenure_run_get_detail(run));
    tenure_run_free(run);
    return d;
  }

 private:
  tenure_elector* e_ = nullptr;
};

}  // namespace

void bind_elector(py::module_& m) {
  py::class_<Elector>(m, "Elector", "One tenure_elector handle (see tenure.Elector).")
      .def(py::init<const std::vector<std::pair<std::string, std::string>>&>())
      .def("set_queue", &Elector::set_queue)
      .def("start", &Elector::start)
      .def("stop", &Elector::stop)
      .def("resign", &Elector::resign)
      .def("ack_revoked", &Elector::ack_revoked)
      .def("is_leader", &Elector::is_leader)
      .def("identity", &Elector::identity)
      .def("capabilities", &Elector::capabilities)
      .def("status", &Elector::status)
      .def("metrics_json", &Elector::metrics_json)
      .def("run_once", &Elector::run_once)
      .def("read_run", &Elector::read_run);
}

}  // namespace tenure_py
