#include "runtime.hpp"

#include <boost/asio/executor_work_guard.hpp>
#include <mutex>

namespace tenure {

namespace {
thread_local bool t_io_thread = false;
thread_local bool t_event_thread = false;
std::mutex g_mu;
std::weak_ptr<Runtime> g_runtime;

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
    rt = std::shared_ptr<Runtime>(new Runtime());
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
  // The last owner may be a runtime thread itself (a handler dropping the last reference):
  // a thread cannot join itself, so it is detached and exits once run() returns.
  auto finish = [](std::thread& t) {
    if (!t.joinable()) return;
    if (t.get_id() == std::this_thread::get_id()) t.detach();
    else t.join();
  };
  finish(io_thread_);
  finish(event_thread_);
}

bool Runtime::on_event_thread() { return t_event_thread; }
bool Runtime::on_io_thread() { return t_io_thread; }

}  // namespace tenure
