// The subcommands of `tenure`. Each returns the process exit code (see common.hpp).
#pragma once

#include <string>
#include <vector>

#include "common.hpp"
#include "tenure/tenure_version.h"  // TENURE_VERSION_STRING for --version

namespace tenure::cli {

enum class OnExit { exit, restart, release };

struct RunArgs {
  ElectionArgs election;
  int64_t grace_ms = 5000;
  OnExit on_exit = OnExit::exit;
  int64_t restart_delay_ms = 1000;
  bool quiet = false;
  std::string metrics_addr;          // HOST:PORT for /metrics and /healthz; empty: none
  std::vector<std::string> command;  // CMD ARGS..., everything after "--"
};

struct StatusArgs {
  ElectionArgs election;
  bool json = false;
  int64_t timeout_ms = 5000;
};

struct WatchArgs {
  ElectionArgs election;
  bool json = false;
};

int run_command(const RunArgs& args);
int status_command(const StatusArgs& args);
int watch_command(const WatchArgs& args);

}  // namespace tenure::cli
