#include "job_runner.hpp"

#include <signal.h>
#include <sys/wait.h>

#include <thread>

extern char** environ;

namespace tenure::cli {

bool JobRunner::Outcome::success() const {
  return started && WIFEXITED(wait_status) && WEXITSTATUS(wait_status) == 0;
}

JobRunner::Outcome JobRunner::run(const std::vector<std::string>& argv,
                                  const std::vector<std::string>& env) {
  Outcome out;
  {
    std::lock_guard lock(mu_);
    if (closed_) {
      out.detail = "not started: tenure is stopping";
      return out;
    }
    stopping_ = killed_ = false;
    if (auto s = child_.spawn(argv, env); !s.ok()) {
      out.detail = s.message;
      return out;
    }
  }
  out.started = true;
  // Poll for the end of CMD's process group: its members may outlive CMD itself, and no signal
  // says when the last one ends. 10 ms is far below anything a schedule can ask for.
  for (;;) {
    {
      std::lock_guard lock(mu_);
      child_.reap();
      if (!child_.active()) {
        out.wait_status = child_.wait_status();
        child_.reset();
        break;
      }
      if (stopping_ && !killed_ && std::chrono::steady_clock::now() >= kill_at_) {
        child_.signal_group(SIGKILL);
        killed_ = true;
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  const int st = out.wait_status;
  out.detail = WIFEXITED(st) ? "exit " + std::to_string(WEXITSTATUS(st)) : describe_wait_status(st);
  return out;
}

void JobRunner::stop(bool for_good) {
  std::lock_guard lock(mu_);
  if (for_good) closed_ = true;
  if (!child_.active()) return;
  if (stopping_ || grace_.count() <= 0) {
    child_.signal_group(SIGKILL);
    killed_ = true;
    stopping_ = true;
    return;
  }
  stopping_ = true;
  kill_at_ = std::chrono::steady_clock::now() + grace_;
  child_.signal_group(SIGTERM);
}

bool JobRunner::busy() const {
  std::lock_guard lock(mu_);
  return child_.active();
}

pid_t JobRunner::pid() const {
  std::lock_guard lock(mu_);
  return child_.pid();
}

std::vector<std::string> child_environment(const std::vector<std::string>& vars) {
  std::vector<std::string> env;
  for (char** e = environ; e && *e; ++e) {
    std::string kv = *e;
    bool replaced = false;
    for (const auto& v : vars)
      if (kv.compare(0, v.find('=') + 1, v, 0, v.find('=') + 1) == 0) replaced = true;
    if (!replaced) env.push_back(std::move(kv));
  }
  env.insert(env.end(), vars.begin(), vars.end());
  return env;
}

}  // namespace tenure::cli
