// CMD of `tenure run`: one process in its own process group, killed with the CLI (parent-death
// signal), stopped as a group (SIGTERM, then SIGKILL after a grace period), reaped by the CLI.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "tenure/errors.hpp"

namespace tenure::cli {

// Resolves a command like execvp does (a name without '/' is searched in PATH).
Result<std::string> resolve_command(const std::string& file);

class ChildProcess {
 public:
  ChildProcess() = default;
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  // Forks and executes argv with exactly env as its environment, stdin from /dev/null, in a new
  // process group, with SIGKILL as its parent-death signal. Fails (with nothing left running) when
  // the program cannot be executed. Only one process at a time: !active() first.
  Status spawn(const std::vector<std::string>& argv, const std::vector<std::string>& env);

  // True while CMD or anything left in its process group may still run.
  bool active() const { return pid_ > 0 && (!leader_exited_ || group_alive_); }
  bool leader_exited() const { return leader_exited_; }
  int wait_status() const { return wait_status_; }  // of CMD itself, once leader_exited()
  pid_t pid() const { return pid_; }

  // Sends sig to CMD's process group while it may still exist (never to a reused id).
  void signal_group(int sig);

  // Reaps every exited child (the CLI is a child subreaper, so orphans of CMD come here too) and
  // updates the state. Call on SIGCHLD and, while the group outlives CMD, now and then.
  void reap();

  // Forgets a process that is no longer active().
  void reset();

 private:
  pid_t pid_ = -1;
  bool leader_exited_ = false;
  bool group_alive_ = false;
  int wait_status_ = 0;
};

// The exit code a shell would report for a wait status: the code, or 128+signal.
int exit_code_of(int wait_status);
std::string describe_wait_status(int wait_status);

}  // namespace tenure::cli
