#include "threads.hpp"

#include <pthread.h>

#include <mutex>
#include <vector>

#include "runtime.hpp"

#include "tenure/log.hpp"
#include "tenure/process.hpp"

namespace tenure {

namespace {
std::mutex g_mu;
ThreadHooks g_hooks;
int g_running = 0;  // runtimes whose threads run

void call_hook(const std::function<void(const char*)>& fn, const char* name, const char* which) {
  if (!fn) return;
  try {
    fn(name);
  } catch (const std::exception& e) {
    log(LogLevel::error, "core",
        std::string("the thread ") + which + " hook threw on " + name + ": " + e.what());
  } catch (...) {
    log(LogLevel::error, "core", std::string("the thread ") + which + " hook threw on " + name);
  }
}
}  // namespace

Status set_thread_hooks(ThreadHooks hooks) {
  std::lock_guard lock(g_mu);
  if (g_running)
    return make_error(Errc::bad_state,
                      "thread hooks must be set before the first elector is created (or after "
                      "tenure_shutdown): tenure's threads are already running");
  g_hooks = std::move(hooks);
  return {};
}

namespace {
std::mutex g_hooks_mu;
std::vector<std::function<void()>>* g_shutdown_hooks = new std::vector<std::function<void()>>();
}  // namespace

void on_shutdown(std::function<void()> fn) {
  std::lock_guard lock(g_hooks_mu);
  g_shutdown_hooks->push_back(std::move(fn));
}

void run_shutdown_hooks() {
  std::vector<std::function<void()>> hooks;
  {
    std::lock_guard lock(g_hooks_mu);
    hooks.swap(*g_shutdown_hooks);
  }
  for (auto& h : hooks) h();
}

void note_runtime_running(bool running) {
  std::lock_guard lock(g_mu);
  g_running += running ? 1 : -1;
}

void threads_after_fork_child() {
  new (&g_mu) std::mutex();
  g_running = 0;  // the parent's threads do not exist here
  new (&g_hooks_mu) std::mutex();
  keep_after_fork(new std::vector<std::function<void()>>(std::move(*g_shutdown_hooks)));
  g_shutdown_hooks->clear();  // they join the parent's pools, whose threads are not here
}

std::thread spawn_thread(const char* name, std::function<void()> body) {
  ThreadHooks hooks;
  {
    std::lock_guard lock(g_mu);
    hooks = g_hooks;
  }
  return std::thread([name, body = std::move(body), hooks = std::move(hooks)] {
    pthread_setname_np(pthread_self(), name);  // at most 15 characters
    call_hook(hooks.on_start, name, "start");
    body();
    call_hook(hooks.on_exit, name, "exit");
  });
}

}  // namespace tenure
