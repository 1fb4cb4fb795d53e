// The public Elector: validation, the in-process identity registry, blocking waits with bounds.
#include "tenure/elector.hpp"

#include <chrono>
#include <future>
#include <map>
#include <set>
#include <thread>

#include "asio_executor.hpp"
#include "elector_core.hpp"
#include "tenure/log.hpp"
#include "tenure/process.hpp"
#include "threads.hpp"

namespace tenure {

namespace {

std::mutex g_ids_mu;
std::set<std::string> g_ids;  // registry keys of started, not yet stopped electors

// Every elector on the shared runtime, for shutdown().
std::mutex g_live_mu;
std::map<const ElectorCore*, std::weak_ptr<ElectorCore>> g_live;

// Cores of electors a forked child inherited and then destroyed: never touched again, kept
// reachable (their locks and connections belong to the parent).
std::mutex g_inert_mu;
std::vector<std::shared_ptr<ElectorCore>>* g_inert =
    new std::vector<std::shared_ptr<ElectorCore>>();

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

Elector::Elector(std::shared_ptr<ElectorCore> core)
    : core_(std::move(core)), fork_generation_(Runtime::fork_generation()) {}

Status Elector::usable() const {
  if (fork_generation_ != Runtime::fork_generation())
    return make_error(Errc::bad_state,
                      "this elector was created before fork() and belongs to the parent process; "
                      "in the child it is inert (destroying it is safe and touches nothing of the "
                      "parent's): create new electors in the child");
  if (core_->shut_down.load())
    return make_error(Errc::bad_state,
                      "tenure_shutdown stopped this elector; destroy it (new electors may be "
                      "created and start a fresh runtime)");
  return {};
}

Result<std::unique_ptr<Elector>> Elector::create(ElectorOptions options) {
  if (auto s = validate(options); !s.ok()) return s;
  auto rt = Runtime::get();
  auto exec = std::make_shared<AsioExecutor>(rt->io());
  auto core = std::make_shared<ElectorCore>(std::move(options), rt, exec);
  if (auto s = core->init(exec->strand()); !s.ok()) return s;
  {
    std::lock_guard lock(g_live_mu);
    g_live[core.get()] = core;
  }
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
  if (fork_generation_ != Runtime::fork_generation()) {
    // Inherited through fork(): its locks may be held by parent threads that do not exist here
    // and its connections are the parent's. Left untouched, on purpose.
    std::lock_guard lock(g_inert_mu);
    g_inert->push_back(std::move(core_));
    return;
  }
  {
    std::lock_guard lock(g_live_mu);
    g_live.erase(core_.get());
  }
  if (core_->shut_down.load()) {
    // Already stopped by shutdown(), whose runtime threads are gone: nothing to wait for.
    core_->events->close();
    core_.reset();
    return;
  }
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
  if (auto s = usable(); !s.ok()) return s;
  if (!cb) return make_error(Errc::invalid_argument, "callback is empty");
  if (lifecycle_.load() != 0)
    return make_error(Errc::bad_state,
                      "set the callback before start; events may already be queued for polling");
  if (!core_->runtime)
    return make_error(Errc::bad_state,
                      "callbacks need the shared runtime; electors on a manual "
                      "executor deliver events by poll_event only");
  return core_->events->set_callback(std::move(cb), &core_->runtime->events());
}

Status Elector::set_queue(std::shared_ptr<SharedEventQueue> queue, const void* source) {
  if (auto s = usable(); !s.ok()) return s;
  if (!queue) return make_error(Errc::invalid_argument, "queue is empty");
  if (lifecycle_.load() != 0)
    return make_error(Errc::bad_state, "attach the elector to a queue before start");
  return core_->events->set_shared(std::move(queue), source);
}

Status Elector::start() {
  if (auto s = usable(); !s.ok()) return s;
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
  if (core_->shut_down.load() && fork_generation_ == Runtime::fork_generation()) return {};
  if (auto s = usable(); !s.ok()) return s;
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
  if (auto s = usable(); !s.ok()) return s;
  core_->resign();
  return {};
}

Status Elector::ack_revoked() {
  if (auto s = usable(); !s.ok()) return s;
  core_->ack_revoked();
  return {};
}

Result<Event> Elector::poll_event(std::chrono::milliseconds timeout) {
  if (auto s = usable(); !s.ok()) return s;
  return core_->events->pop(timeout);
}

int Elector::event_fd() { return core_->events->fd(); }
ElectorStatus Elector::status() const { return core_->status(); }
MetricsSnapshot Elector::metrics() const { return core_->metrics(); }
const ElectorOptions& Elector::options() const { return core_->opts; }
Capabilities Elector::capabilities() const { return core_->caps; }
bool Elector::in_own_callback() const {
  return fork_generation_ == Runtime::fork_generation() && core_->events->in_callback();
}

Result<Elector::RunOnceResult> Elector::run_once(
    const std::string& job_key, UnfinishedPolicy policy,
    const std::function<bool(uint64_t, std::string&)>& fn) {
  if (auto s = usable(); !s.ok()) return s;
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
  if (auto s = usable(); !s.ok()) return s;
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

int64_t live_elector_count() {
  std::lock_guard lock(g_live_mu);
  return static_cast<int64_t>(g_live.size());
}

void for_each_live_elector(const std::function<void(const ElectorOptions&, const ElectorStatus&,
                                                    const MetricsSnapshot&)>& fn) {
  std::vector<std::shared_ptr<ElectorCore>> cores;
  {
    std::lock_guard lock(g_live_mu);
    for (auto& [p, w] : g_live)
      if (auto c = w.lock()) cores.push_back(std::move(c));
  }
  for (auto& c : cores) fn(c->opts, c->status(), c->metrics());
}

void electors_after_fork_child() {
  new (&g_ids_mu) std::mutex();
  keep_after_fork(new std::set<std::string>(std::move(g_ids)));  // they run in the parent
  g_ids.clear();
  new (&g_live_mu) std::mutex();
  keep_after_fork(new std::map<const ElectorCore*, std::weak_ptr<ElectorCore>>(std::move(g_live)));
  g_live.clear();
}

Status shutdown(milliseconds timeout) {
  if (Runtime::on_io_thread() || Runtime::on_event_thread())
    return make_error(Errc::in_callback,
                      "tenure_shutdown cannot run on tenure's own threads (inside a callback): "
                      "it joins them; call it from a thread of your own");
  if (timeout.count() < 0)
    return make_error(Errc::invalid_argument, "timeout must not be negative");
  std::vector<std::shared_ptr<ElectorCore>> cores;
  {
    std::lock_guard lock(g_live_mu);
    for (auto& [p, w] : g_live)
      if (auto c = w.lock()) cores.push_back(std::move(c));
    g_live.clear();
  }
  std::vector<std::shared_future<void>> stops;
  for (auto& c : cores) {
    if (c->shut_down.exchange(true)) continue;
    stops.push_back(c->begin_stop());
    release_identity(c->registry_key);
  }
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  size_t unfinished = 0;
  for (auto& f : stops)
    if (f.wait_until(deadline) != std::future_status::ready) ++unfinished;
  // Pending events are dropped and a callback in progress is waited for; none starts after.
  for (auto& c : cores) c->events->close();
  Runtime::shutdown_current();
  run_shutdown_hooks();
  log(unfinished ? LogLevel::warn : LogLevel::info, "core",
      "shutdown: stopped " + std::to_string(stops.size()) + " electors" +
          (unfinished ? "; " + std::to_string(unfinished) +
                            " did not finish releasing within the timeout (their leases expire "
                            "on the backend after lease_duration)"
                      : ""));
  if (unfinished)
    return make_error(Errc::timeout, std::to_string(unfinished) + " of " +
                                         std::to_string(stops.size()) +
                                         " electors did not finish releasing within " +
                                         std::to_string(timeout.count()) +
                                         " ms; every thread is joined, their leases expire on "
                                         "the backend after lease_duration");
  return {};
}

}  // namespace tenure
