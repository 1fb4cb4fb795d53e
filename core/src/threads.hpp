// Internal side of tenure/process.hpp's threads: the runtime reports when its threads run.
#pragma once

#include "tenure/process.hpp"

namespace tenure {

// set_thread_hooks refuses while a runtime runs.
void note_runtime_running(bool running);
// Runs (and forgets) what backends registered with on_shutdown.
void run_shutdown_hooks();

}  // namespace tenure
