// Process-wide controls a host language needs around the runtime: hooks on the threads tenure
// creates, and a shutdown that stops every elector and joins every thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <thread>

#include "tenure/errors.hpp"

namespace tenure {

struct ThreadHooks {
  // Called on the new thread before it runs anything else, and as the last thing it does.
  // name: "tenure-io", "tenure-events", "tenure-file" or "tenure-reaper" (pthread_setname_np).
  std::function<void(const char*name)> on_start, on_exit;
};

// Refused (bad_state) while the runtime runs: a thread calls on_start and on_exit exactly once,
// with the hooks that were set when it started.
Status set_thread_hooks(ThreadHooks hooks);

// Stops every elector of the process (releasing leases), waiting up to timeout for the releases,
// then joins the runtime's threads. Afterwards no callback starts; calls on existing electors
// return bad_state, and new electors start a fresh runtime. Safe to call twice and from atexit.
// Refused (in_callback) on a tenure thread.
Status shutdown(std::chrono::milliseconds timeout);

// For backends. Every thread tenure creates starts here: named (at most 15 characters, static
// storage) and running the host's hooks.
std::thread spawn_thread(const char* name, std::function<void()> body);
// For backends that own threads outside the runtime (the file pool): fn runs in shutdown(),
// after the runtime's threads are joined, and must join those threads too.
void on_shutdown(std::function<void()> fn);
// Bumped in a forked child: process-wide state of an older generation belongs to the parent.
uint64_t fork_generation();

}  // namespace tenure
