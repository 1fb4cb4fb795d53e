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
    // The last reference may be dropped on a runtime thread (a handler freeing the last
    // elector): a thread cannot join itself or destroy the io_context it is running, so the
    // teardown then moves to a short-lived thread of its own.
    rt = std::shared_ptr<Runtime>(new Runtime(), [](Runtime* r) {
      if (t_io_thread || t_event_thread)
        std::thread([r] { delete r; }).detach();
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
