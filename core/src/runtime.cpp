#include "runtime.hpp"

#include <pthread.h>

#include <atomic>
#include <boost/asio/executor_work_guard.hpp>
#include <cstdlib>
#include <functional>
#include <mutex>
#include <vector>

#include "tenure/log.hpp"
#include "threads.hpp"

namespace tenure {

namespace {
thread_local bool t_io_thread = false;
thread_local bool t_event_thread = false;
std::mutex g_mu;
std::weak_ptr<Runtime> g_runtime;
std::atomic<uint64_t> g_fork_generation{0};

// Runtimes stopped by shutdown_current, and whatever a forked child inherited: never destroyed
// (electors still point at them), but kept reachable so that leak checkers see them as held.
std::vector<std::shared_ptr<Runtime>>* g_retired = new std::vector<std::shared_ptr<Runtime>>();
std::vector<void*>* g_inherited = new std::vector<void*>();

// Teardowns that had to leave a runtime thread (see Runtime::get) run on threads of their own.
// They are joined rather than detached: finished ones when the next runtime starts, the rest at
// exit, so that no runtime thread still runs while the process's libraries tear down their globals
// (libpq's, for one). The object is never destroyed: a teardown may start during exit.
struct Reaper {
  struct Job {
    std::thread t;
    std::shared_ptr<std::atomic<bool>> done;
  };
  std::mutex mu;
  std::vector<Job> jobs;
  bool exiting = false;
  void add(std::function<void()> fn) {
    auto done = std::make_shared<std::atomic<bool>>(false);
    std::thread t = spawn_thread("tenure-reaper", [fn = std::move(fn), done] {
      fn();
      done->store(true, std::memory_order_release);
    });
    std::lock_guard lock(mu);
    if (exiting) return t.detach();  // exit is already joining; nothing may wait for this one
    jobs.push_back({std::move(t), std::move(done)});
  }
  void join_finished() {
    std::vector<Job> finished;
    {
      std::lock_guard lock(mu);
      for (auto it = jobs.begin(); it != jobs.end();) {
        if (it->done->load(std::memory_order_acquire)) {
          finished.push_back(std::move(*it));
          it = jobs.erase(it);
        } else {
          ++it;
        }
      }
    }
    for (auto& j : finished) j.t.join();
  }
  void join_all(bool at_exit) {
    std::vector<Job> all;
    {
      std::lock_guard lock(mu);
      exiting = exiting || at_exit;
      all = std::move(jobs);
      jobs.clear();
    }
    for (auto& j : all) j.t.join();
  }
};
Reaper* g_reaper = nullptr;  // replaced, never freed, in a forked child
Reaper& reaper() {
  static bool once = [] {
    g_reaper = new Reaper();
    std::atexit([] { reaper().join_all(true); });
    return true;
  }();
  (void)once;
  return *g_reaper;
}

// In the child only the forking thread exists. The parent's runtime, teardowns and any lock a
// parent thread held are left untouched (and unused); the child starts over on first use.
void on_fork_child() {
  g_fork_generation.fetch_add(1);
  t_io_thread = t_event_thread = false;
  new (&g_mu) std::mutex();
  new (&g_runtime) std::weak_ptr<Runtime>();  // the parent's reference is dropped unreleased
  if (g_reaper) {
    g_inherited->push_back(g_reaper);
    g_reaper = new Reaper();
  }
  threads_after_fork_child();
  log_after_fork_child();
  electors_after_fork_child();
}
[[maybe_unused]] const int g_atfork = pthread_atfork(nullptr, nullptr, &on_fork_child);

void run_forever(boost::asio::io_context& ctx, const char* name) {
  auto guard = boost::asio::make_work_guard(ctx);
  for (;;) {
    try {
      ctx.run();
      return;
    } catch (const std::exception& e) {
      // A handler threw; handlers are written not to, but the runtime must outlive the bug.
      log(LogLevel::error, "core", std::string("a handler on ") + name + " threw: " + e.what());
    } catch (...) {
      log(LogLevel::error, "core",
          std::string("a handler on ") + name + " threw a non-standard exception");
    }
  }
}
}  // namespace

std::shared_ptr<Runtime> Runtime::get() {
  std::lock_guard lock(g_mu);
  auto rt = g_runtime.lock();
  if (!rt) {
    reaper().join_finished();
    // The last reference may be dropped on a runtime thread (a handler freeing the last
    // elector): a thread cannot join itself or destroy the io_context it is running, so the
    // teardown then moves to a short-lived thread of its own.
    rt = std::shared_ptr<Runtime>(new Runtime(), [](Runtime* r) {
      if (t_io_thread || t_event_thread)
        reaper().add([r] { delete r; });
      else
        delete r;
    });
    g_runtime = rt;
  }
  return rt;
}

Runtime::Runtime() {
  note_runtime_running(true);
  io_thread_ = spawn_thread("tenure-io", [this] {
    t_io_thread = true;
    run_forever(io_, "tenure-io");
  });
  event_thread_ = spawn_thread("tenure-events", [this] {
    t_event_thread = true;
    run_forever(events_, "tenure-events");
  });
}

Runtime::~Runtime() { stop_and_join(); }

void Runtime::stop_and_join() {
  if (joined_) return;
  joined_ = true;
  io_.stop();
  events_.stop();
  io_thread_.join();
  event_thread_.join();
  note_runtime_running(false);
}

void Runtime::shutdown_current() {
  std::shared_ptr<Runtime> rt;
  {
    std::lock_guard lock(g_mu);
    rt = g_runtime.lock();
    g_runtime.reset();
  }
  if (rt) {
    rt->stop_and_join();
    std::lock_guard lock(g_mu);
    g_retired->push_back(std::move(rt));
  }
  reaper().join_all(false);
}

void keep_after_fork(void* p) { g_inherited->push_back(p); }

uint64_t Runtime::fork_generation() { return g_fork_generation.load(); }
uint64_t fork_generation() { return g_fork_generation.load(); }

bool Runtime::on_event_thread() { return t_event_thread; }
bool Runtime::on_io_thread() { return t_io_thread; }

}  // namespace tenure
