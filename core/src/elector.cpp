// The public Elector: validation, the in-process identity registry, blocking waits with bounds.
#include "tenure/elector.hpp"

#include <chrono>
#include <future>
#include <set>
#include <thread>

#include "asio_executor.hpp"
#include "elector_core.hpp"

namespace tenure {

namespace {

std::mutex g_ids_mu;
std::set<std::string> g_ids;  // registry keys of started, not yet stopped electors

void release_identity(const std::string& key) {
  std::lock_guard lock(g_ids_mu);
  g_ids.erase(key);
}

Status validate(ElectorOptions& o) {
  if (o.identity.empty()) o.identity = default_identity();
  if (auto s = validate_election_name(o.election); !s.ok()) return s;
  if (auto s = validate_identity(o.identity); !s.ok()) return s;
  if (auto s = validate_timing(o.timing); !s.ok()) return s;
  if (o.stop_timeout.count() < 0)
    return make_error(Errc::invalid_argument, "stop_timeout_ms must not be negative");
  if (o.backend_url.empty())
    return make_error(Errc::bad_url,
                      "no backend URL given: set 'backend', e.g. file:///var/lib/"
                      "tenure or redis://127.0.0.1:6379");
  return {};
}

template <class T>
Result<T> wait_for(std::future<Result<T>>& f, milliseconds limit, const char* what) {
  if (f.wait_for(limit) != std::future_status::ready)
    return make_error(Errc::timeout, std::string(what) + " did not complete within " +
                                         std::to_string(limit.count()) + " ms");
  return f.get();
}

template <class T>
std::pair<std::future<Result<T>>, Completion<T>> make_waiter() {
  auto p = std::make_shared<std::promise<Result<T>>>();
  auto f = p->get_future();
  return {std::move(f), [p](Result<T> r) { p->set_value(std::move(r)); }};
}

}  // namespace

const char* role_name(Role r) noexcept {
  switch (r) {
    case Role::stopped:
      return "stopped";
    case Role::candidate:
      return "candidate";
    case Role::leader:
      return "leader";
    case Role::observer:
      return "observer";
  }
  return "unknown";
}

Elector::Elector(std::shared_ptr<ElectorCore> core) : core_(std::move(core)) {}

Result<std::unique_ptr<Elector>> Elector::create(ElectorOptions options) {
  if (auto s = validate(options); !s.ok()) return s;
  auto rt = Runtime::get();
  auto exec = std::make_shared<AsioExecutor>(rt->io());
  auto core = std::make_shared<ElectorCore>(std::move(options), rt, exec);
  if (auto s = core->init(exec->strand()); !s.ok()) return s;
  return std::unique_ptr<Elector>(new Elector(std::move(core)));
}

Result<std::unique_ptr<Elector>> Elector::create_with_executor(ElectorOptions options,
                                                               std::shared_ptr<Executor> exec) {
  if (!exec) return make_error(Errc::invalid_argument, "executor is null");
  if (auto s = validate(options); !s.ok()) return s;
  auto core = std::make_shared<ElectorCore>(std::move(options), nullptr, exec);
  if (auto s = core->init({}); !s.ok()) return s;
  return std::unique_ptr<Elector>(new Elector(std::move(core)));
}

Elector::~Elector() {
  if (!core_) return;
  bool registered = lifecycle_.exchange(2) == 1;
  auto stopped = core_->begin_stop();
  if (registered) release_identity(core_->registry_key);
  if (in_own_callback()) {
    // Destroying an elector from inside its own callback: we cannot wait for the stop here (the
    // callback would wait for itself). The core lives on in its pending work and finishes alone.
    core_->events->close();
    return;
  }
  if (core_->runtime) stopped.wait_for(core_->opts.stop_timeout + milliseconds(1000));
  core_->events->close();
  release_core();
}

void Elector::release_core() {
  // The runtime threads let go of the core right after the stop completes (the handler that
  // finished it). Wait for that, briefly, so that the core (and with it the callback and whatever
  // it captured) is normally destroyed here, before ~Elector returns, and the runtime, when this
  // was the last elector, is torn down on this thread rather than on one that may outlive exit.
  // A request still out to a server that does not answer keeps it longer; not waited for.
  if (!core_->runtime) return;
  const auto limit = std::chrono::steady_clock::now() + milliseconds(100);
  while (core_.use_count() > 1 && std::chrono::steady_clock::now() < limit)
    std::this_thread::sleep_for(std::chrono::microseconds(200));
  core_.reset();
}

Status Elector::set_callback(EventCallback cb) {
  if (!cb) return make_error(Errc::invalid_argument, "callback is empty");
  if (!core_->runtime)
    return make_error(Errc::bad_state,
                      "callbacks need the shared runtime; electors on a manual "
                      "executor deliver events by poll_event only");
  core_->events->set_callback(std::move(cb), &core_->runtime->events());
  return {};
}

Status Elector::start() {
  int expected = 0;
  if (!lifecycle_.compare_exchange_strong(expected, 1))
    return make_error(Errc::bad_state, expected == 1 ? "the elector is already started"
                                                     : "a stopped elector cannot be started "
                                                       "again; create a new one");
  {
    std::lock_guard lock(g_ids_mu);
    if (!g_ids.insert(core_->registry_key).second) {
      lifecycle_ = 0;
      return make_error(Errc::identity_in_use,
                        "another elector in this process already runs in election '" +
                            core_->opts.election + "' with identity '" + core_->opts.identity +
                            "'; give each its own identity");
    }
  }
  return core_->start();
}

Status Elector::stop() {
  bool registered = lifecycle_.exchange(2) == 1;
  auto stopped = core_->begin_stop();
  if (registered) release_identity(core_->registry_key);
  if (!core_->runtime || in_own_callback()) return {};  // asynchronous: finishes on its own
  if (stopped.wait_for(core_->opts.stop_timeout + milliseconds(1000)) != std::future_status::ready)
    return make_error(Errc::timeout, "stop did not finish within stop_timeout (" +
                                         std::to_string(core_->opts.stop_timeout.count()) +
                                         " ms); the lease will expire on the backend after "
                                         "lease_duration");
  return {};
}

Status Elector::resign() {
  core_->resign();
  return {};
}

Status Elector::ack_revoked() {
  core_->ack_revoked();
  return {};
}

Result<Event> Elector::poll_event(std::chrono::milliseconds timeout) {
  return core_->events->pop(timeout);
}

int Elector::event_fd() { return core_->events->fd(); }
ElectorStatus Elector::status() const { return core_->status(); }
MetricsSnapshot Elector::metrics() const { return core_->metrics(); }
const ElectorOptions& Elector::options() const { return core_->opts; }
Capabilities Elector::capabilities() const { return core_->caps; }
bool Elector::in_own_callback() const { return core_->events->in_callback(); }

Result<Elector::RunOnceResult> Elector::run_once(
    const std::string& job_key, UnfinishedPolicy policy,
    const std::function<bool(uint64_t, std::string&)>& fn) {
  if (auto s = validate_job_key(job_key); !s.ok()) return s;
  if (!core_->runtime)
    return make_error(Errc::bad_state, "run_once blocks and needs the shared runtime");
  if (Runtime::on_io_thread())
    return make_error(Errc::bad_state, "run_once must not be called on tenure's I/O thread");
  const auto limit = core_->opts.timing.renew_deadline;
  auto [claim_f, claim_cb] = make_waiter<ClaimResult>();
  core_->ledger_claim(job_key, policy, std::move(claim_cb));
  auto claim = wait_for(claim_f, limit, "claiming the run in the ledger");
  if (!claim.ok()) return claim.status;
  RunOnceResult out;
  if (!claim.value.claimed) {
    out.record = claim.value.previous;
    return out;
  }
  uint64_t token = claim.value.token;
  std::string detail;
  bool ok = false;
  try {
    ok = fn(token, detail);
  } catch (const std::exception& e) {
    detail = std::string("job threw: ") + e.what();
  } catch (...) {
    detail = "job threw a non-standard exception";
  }
  auto [fin_f, fin_cb] = make_waiter<RunRecord>();
  core_->ledger_finish(job_key, token, ok, detail, std::move(fin_cb));
  auto fin = wait_for(fin_f, limit, "recording the run's finish in the ledger");
  if (!fin.ok()) return fin.status;
  out.ran = true;
  out.record = fin.value;
  return out;
}

Result<RunRecord> Elector::read_run(const std::string& job_key) {
  if (auto s = validate_job_key(job_key); !s.ok()) return s;
  if (!core_->runtime) return make_error(Errc::bad_state, "read_run needs the shared runtime");
  auto [f, cb] = make_waiter<RunRecord>();
  core_->ledger_read(job_key, std::move(cb));
  return wait_for(f, core_->opts.timing.renew_deadline, "reading the ledger");
}

Result<std::vector<RunRecord>> Elector::list_runs(const std::string& prefix, size_t limit) {
  if (auto s = validate_job_prefix(prefix); !s.ok()) return s;
  if (limit == 0 || limit > 100000)
    return make_error(Errc::invalid_argument, "the list limit must be 1 to 100000");
  if (!core_->runtime) return make_error(Errc::bad_state, "list_runs needs the shared runtime");
  if (Runtime::on_io_thread())
    return make_error(Errc::bad_state, "list_runs must not be called on tenure's I/O thread");
  auto [f, cb] = make_waiter<std::vector<RunRecord>>();
  core_->ledger_list(prefix, limit, std::move(cb));
  return wait_for(f, core_->opts.timing.renew_deadline, "listing the ledger");
}

}  // namespace tenure
