// Runs tenure_elector_child (or any program) as a separate process with its stdout read line by
// line on a thread, so tests and benchmarks can kill -9 a leader that lives in another process.
#pragma once

#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fcntl.h>

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

extern char** environ;

namespace tenure::tools {

class ChildProcess {
 public:
  explicit ChildProcess(std::vector<std::string> argv) {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) return;
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
    std::vector<char*> args;
    for (auto& a : argv) args.push_back(a.data());
    args.push_back(nullptr);
    if (posix_spawn(&pid_, args[0], &fa, nullptr, args.data(), environ) != 0) pid_ = -1;
    posix_spawn_file_actions_destroy(&fa);
    ::close(fds[1]);
    fd_ = fds[0];
    reader_ = std::thread([this] { read_loop(); });
  }
  ~ChildProcess() {
    kill(SIGKILL);
    wait();
    if (reader_.joinable()) reader_.join();
    if (fd_ >= 0) ::close(fd_);
  }
  bool started() const { return pid_ > 0; }
  pid_t pid() const { return pid_; }
  void kill(int sig) {
    if (pid_ > 0 && !reaped_) ::kill(pid_, sig);
  }
  int wait() {
    if (pid_ <= 0 || reaped_) return status_;
    ::waitpid(pid_, &status_, 0);
    reaped_ = true;
    return status_;
  }
  // Waits for a line starting with prefix (among lines not yet matched); returns it or "".
  std::string wait_line(const std::string& prefix, std::chrono::milliseconds limit) {
    std::unique_lock lock(mu_);
    std::string found;
    cv_.wait_for(lock, limit, [&] {
      for (; cursor_ < lines_.size(); ++cursor_)
        if (lines_[cursor_].rfind(prefix, 0) == 0) {
          found = lines_[cursor_++];
          return true;
        }
      return false;
    });
    return found;
  }
  std::vector<std::string> lines() const {
    std::lock_guard lock(mu_);
    return lines_;
  }

 private:
  void read_loop() {
    std::string buf;
    char tmp[512];
    for (;;) {
      ssize_t n = ::read(fd_, tmp, sizeof tmp);
      if (n <= 0) break;
      buf.append(tmp, static_cast<size_t>(n));
      size_t nl;
      while ((nl = buf.find('\n')) != std::string::npos) {
        std::lock_guard lock(mu_);
        lines_.push_back(buf.substr(0, nl));
        buf.erase(0, nl + 1);
        cv_.notify_all();
      }
    }
  }
  pid_t pid_ = -1;
  int fd_ = -1;
  int status_ = 0;
  bool reaped_ = false;
  std::thread reader_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::string> lines_;
  size_t cursor_ = 0;
};

}  // namespace tenure::tools
