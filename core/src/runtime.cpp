#include "runtime.hpp"

#include <atomic>
#include <boost/asio/executor_work_guard.hpp>
#include <cstdlib>
#include <functional>
#include <mutex>
#include <vector>

namespace tenure {

namespace {
thread_local bool t_io_thread = false;
thread_local bool t_event_thread = false;
std::mutex g_mu;
std::weak_ptr<Runtime> g_runtime;

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
    std::thread t([fn = std::move(fn), done] {
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
  void join_all_at_exit() {
    std::vector<Job> all;
    {
      std::lock_guard lock(mu);
      exiting = true;
      all = std::move(jobs);
      jobs.clear();
    }
    for (auto& j : all) j.t.join();
  }
};
Reaper& reaper() {
  static Reaper* r = [] {
    auto* p = new Reaper();
    std::atexit([] { reaper().join_all_at_exit(); });
    return p;
  }();
  return *r;
}

void run_forever(boost::asio::io_context& ctx) {
  auto guard = boost::asio::make_work_guard(ctx);
  for (;;) {
    try {
      ctx.run();
      return;
    } catch (...) {
      // A handler threw; handlers are written not to, but the runtime must outlive the bug.
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
  io_thread_ = std::thread([this] {
    t_io_thread = true;
    run_forever(io_);
  });
  event_thread_ = std::thread([this] {
    t_event_thread = true;
    run_forever(events_);
  });
}

Runtime::~Runtime() {
  io_.stop();
  events_.stop();
  io_thread_.join();
  event_thread_.join();
}

bool Runtime::on_event_thread() { return t_event_thread; }
bool Runtime::on_io_thread() { return t_io_thread; }

}  // namespace tenure
