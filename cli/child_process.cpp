#include "child_process.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

namespace tenure::cli {

namespace {

bool executable_file(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) && ::access(path.c_str(), X_OK) == 0;
}

}  // namespace

Result<std::string> resolve_command(const std::string& file) {
  if (file.empty()) return make_error(Errc::invalid_argument, "the command is empty");
  if (file.find('/') != std::string::npos) {
    if (!executable_file(file))
      return make_error(Errc::invalid_argument, "command '" + file + "' is not an executable file");
    return file;
  }
  const char* path_env = std::getenv("PATH");
  std::string path = path_env ? path_env : "/usr/local/bin:/usr/bin:/bin";
  size_t start = 0;
  for (;;) {
    size_t end = path.find(':', start);
    std::string dir = path.substr(start, end == std::string::npos ? end : end - start);
    if (dir.empty()) dir = ".";
    std::string candidate = dir + "/" + file;
    if (executable_file(candidate)) return candidate;
    if (end == std::string::npos) break;
    start = end + 1;
  }
  return make_error(Errc::invalid_argument, "command '" + file + "' not found in PATH");
}

Status ChildProcess::spawn(const std::vector<std::string>& argv,
                           const std::vector<std::string>& env) {
  if (active()) return make_error(Errc::bad_state, "CMD is still running");
  if (argv.empty()) return make_error(Errc::invalid_argument, "no command given");
  auto path = resolve_command(argv[0]);
  if (!path.ok()) return path.status;

  // Everything the child needs is prepared here: between fork and exec only async-signal-safe
  // calls are allowed (the runtime's threads may hold malloc's locks at the fork).
  std::vector<char*> cargv, cenv;
  for (const auto& a : argv) cargv.push_back(const_cast<char*>(a.c_str()));
  cargv.push_back(nullptr);
  for (const auto& e : env) cenv.push_back(const_cast<char*>(e.c_str()));
  cenv.push_back(nullptr);
  const char* exe = path.value.c_str();

  int devnull = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (devnull < 0)
    return make_error(Errc::internal,
                      std::string("cannot open /dev/null: ") + std::strerror(errno));
  int report[2];  // the child writes errno here when exec fails; EOF means exec succeeded
  if (::pipe2(report, O_CLOEXEC) != 0) {
    int e = errno;
    ::close(devnull);
    return make_error(Errc::internal, std::string("pipe2: ") + std::strerror(e));
  }
  const pid_t parent = ::getpid();
  pid_t pid = ::fork();
  if (pid < 0) {
    int e = errno;
    ::close(devnull);
    ::close(report[0]);
    ::close(report[1]);
    return make_error(Errc::internal, std::string("fork: ") + std::strerror(e));
  }
  if (pid == 0) {
    // Child: own process group, so the CLI can stop CMD together with whatever it started.
    ::setpgid(0, 0);
    // Die with the CLI: if it is SIGKILLed, the kernel kills CMD too. If the CLI died before the
    // prctl took effect, the signal will never come: check the parent and leave at once.
    if (::prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || ::getppid() != parent) ::_exit(126);
    ::dup2(devnull, STDIN_FILENO);
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);  // the CLI blocks signals; CMD must not inherit it
    ::execve(exe, cargv.data(), cenv.data());
    int e = errno;
    [[maybe_unused]] auto n = ::write(report[1], &e, sizeof e);
    ::_exit(127);
  }
  ::close(devnull);
  ::close(report[1]);
  ::setpgid(pid, pid);  // also here, so the group exists before we can signal it (no race)
  int child_errno = 0;
  ssize_t n;
  do {
    n = ::read(report[0], &child_errno, sizeof child_errno);
  } while (n < 0 && errno == EINTR);
  ::close(report[0]);
  if (n == static_cast<ssize_t>(sizeof child_errno)) {
    int st = 0;
    while (::waitpid(pid, &st, 0) < 0 && errno == EINTR) {
    }
    return make_error(Errc::invalid_argument,
                      "cannot execute '" + path.value + "': " + std::strerror(child_errno));
  }
  pid_ = pid;
  leader_exited_ = false;
  group_alive_ = true;
  wait_status_ = 0;
  return {};
}

void ChildProcess::signal_group(int sig) {
  if (!active()) return;
  if (::kill(-pid_, sig) != 0 && errno == ESRCH) {
    // No group (yet, or any more): reach CMD itself while it is unreaped.
    if (!leader_exited_) ::kill(pid_, sig);
  }
}

void ChildProcess::reap() {
  for (;;) {
    int st = 0;
    pid_t p = ::waitpid(-1, &st, WNOHANG);
    if (p < 0 && errno == EINTR) continue;
    if (p <= 0) break;
    if (p == pid_ && !leader_exited_) {
      leader_exited_ = true;
      wait_status_ = st;
    }
  }
  // The group id is CMD's pid; the kernel does not reuse it while any member lives, and we stop
  // looking the first time the group is empty.
  if (pid_ > 0 && leader_exited_ && group_alive_) {
    if (::kill(-pid_, 0) != 0 && errno == ESRCH) group_alive_ = false;
  }
}

void ChildProcess::reset() {
  if (active()) return;
  pid_ = -1;
  leader_exited_ = false;
  group_alive_ = false;
}

int exit_code_of(int st) {
  if (WIFEXITED(st)) return WEXITSTATUS(st);
  if (WIFSIGNALED(st)) return 128 + WTERMSIG(st);
  return 1;
}

std::string describe_wait_status(int st) {
  if (WIFEXITED(st)) return "exited with status " + std::to_string(WEXITSTATUS(st));
  if (WIFSIGNALED(st)) {
    const char* abbrev = sigabbrev_np(WTERMSIG(st));
    return std::string("was killed by signal ") + std::to_string(WTERMSIG(st)) +
           (abbrev ? std::string(" (SIG") + abbrev + ")" : std::string());
  }
  return "ended (wait status " + std::to_string(st) + ")";
}

}  // namespace tenure::cli
