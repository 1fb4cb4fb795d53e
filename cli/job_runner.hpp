// Runs CMD for `tenure cron` and `tenure once`: one process group at a time, started and waited
// for on the calling (job) thread, stopped from another (SIGTERM, SIGKILL after a grace period)
// when leadership is lost or the CLI stops.
#pragma once

#include <chrono>
#include <mutex>
#include <string>
#include <vector>

#include "child_process.hpp"

namespace tenure::cli {

class JobRunner {
 public:
  explicit JobRunner(std::chrono::milliseconds grace) : grace_(grace) {}

  struct Outcome {
    bool started = false;  // false: CMD could not be executed (detail says why)
    int wait_status = 0;
    std::string detail;  // "exit 0", "killed by signal 15 (SIGTERM)", "cannot execute ..."
    bool success() const;
  };
  // Starts CMD and waits until it and its process group are gone. Refuses to start once stop()
  // was called with `for_good`.
  Outcome run(const std::vector<std::string>& argv, const std::vector<std::string>& env);
  // Stops the running CMD, if any (SIGTERM now, SIGKILL after the grace period, by run()'s loop).
  // for_good: no CMD may start afterwards (the CLI is stopping). A second call kills at once.
  void stop(bool for_good);
  bool busy() const;
  pid_t pid() const;

 private:
  const std::chrono::milliseconds grace_;
  mutable std::mutex mu_;
  ChildProcess child_;
  bool closed_ = false;
  bool stopping_ = false, killed_ = false;
  std::chrono::steady_clock::time_point kill_at_{};
};

// The environment of CMD: the CLI's own, with TENURE_* of a previous run replaced by `vars`.
std::vector<std::string> child_environment(const std::vector<std::string>& vars);

}  // namespace tenure::cli
