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

struct CronArgs {
  ElectionArgs election;
  std::string schedule;
  std::string tz;
  std::string job;  // default: the election name
  std::string catch_up = "latest";
  std::string catch_up_window = "1h";
  int64_t catch_up_max = 100;
  std::string misfire_threshold = "1m";
  std::string on_unfinished = "retry";
  int64_t grace_ms = 5000;
  bool quiet = false;
  std::vector<std::string> command;
};

struct OnceArgs {
  ElectionArgs election;
  std::string job;  // the ledger key
  std::string on_unfinished = "retry";
  int64_t grace_ms = 5000;
  int64_t timeout_ms = 0;  // 0: wait for leadership as long as it takes
  bool quiet = false;
  std::vector<std::string> command;
};

struct RunsArgs {
  ElectionArgs election;
  std::string job;  // key prefix
  bool json = false;
  int64_t limit = 1000;
  int64_t timeout_ms = 5000;
};

int run_command(const RunArgs& args);
int cron_command(const CronArgs& args);
int once_command(const OnceArgs& args);
int runs_command(const RunsArgs& args);
int status_command(const StatusArgs& args);
int watch_command(const WatchArgs& args);

}  // namespace tenure::cli
