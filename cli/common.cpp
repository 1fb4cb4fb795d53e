#include "common.hpp"

#include "child_process.hpp"

#include <sys/signalfd.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <ctime>

namespace tenure::cli {

const char* const kExitCodeHelp =
    "Exit codes:\n"
    "  0    clean stop (run, cron: after SIGTERM/SIGINT/SIGHUP), or the query succeeded\n"
    "  1    unexpected failure\n"
    "  2    bad command line or bad input (URL, election name, identity, timing, directory,\n"
    "       schedule, time zone, duration, job)\n"
    "  3    backend error before the first answer (credentials, permissions, configuration)\n"
    "  4    status, runs: no answer within --timeout; once: not elected within --timeout\n"
    "  127  run: CMD could not be executed\n"
    "  N    run --on-exit=exit, once: CMD's own exit status; 128+S when CMD died of signal S\n";

void add_election_options(CLI::App& app, ElectionArgs& a, bool candidate) {
  app.add_option("--backend,-b", a.backend,
                 "Backend URL: file:///dir (one host), memory://ns (in-process only), "
                 "redis://, postgres://, ... as built in")
      ->required()
      ->envname("TENURE_BACKEND");
  app.add_option("--election,-e", a.election, "Election name: [A-Za-z0-9._-], 1..128 characters")
      ->required();
  if (candidate)
    app.add_option("--identity,-i", a.identity,
                   "This candidate's identity (default: host-pid-random); unique per election");
  app.add_option("--lease-duration", a.lease_duration_ms,
                 "Lease duration in ms (default 15000); > renew deadline");
  app.add_option("--renew-deadline", a.renew_deadline_ms,
                 "A leader that has not renewed within this many ms steps down (default 10000); "
                 "> retry period");
  app.add_option("--retry-period", a.retry_period_ms,
                 "Renew/retry interval in ms when no push wake-up arrives (default 2000)");
  app.add_option("--backend-opt", a.backend_opts,
                 "Backend-specific option key=value (repeatable), passed to the backend as is")
      ->take_all();
}

Result<ElectorOptions> build_options(const ElectionArgs& a, bool observe_only) {
  ElectorOptions o;
  o.backend_url = a.backend;
  o.election = a.election;
  o.identity = a.identity;
  o.observe_only = observe_only;
  if (a.lease_duration_ms != ElectionArgs::kUnset)
    o.timing.lease_duration = milliseconds(a.lease_duration_ms);
  if (a.renew_deadline_ms != ElectionArgs::kUnset)
    o.timing.renew_deadline = milliseconds(a.renew_deadline_ms);
  if (a.retry_period_ms != ElectionArgs::kUnset)
    o.timing.retry_period = milliseconds(a.retry_period_ms);
  for (const auto& kv : a.backend_opts) {
    auto eq = kv.find('=');
    if (eq == std::string::npos || eq == 0)
      return make_error(Errc::invalid_argument,
                        "--backend-opt '" + kv + "' must have the form key=value");
    if (auto s = set_option(o, "backend." + kv.substr(0, eq), kv.substr(eq + 1)); !s.ok()) return s;
  }
  if (o.backend_url.empty())
    return make_error(Errc::bad_url,
                      "--backend is empty; give a backend URL such as file:///var/lib/tenure");
  if (auto s = validate_election_name(o.election); !s.ok()) return s;
  if (!o.identity.empty())
    if (auto s = validate_identity(o.identity); !s.ok()) return s;
  if (auto s = validate_timing(o.timing); !s.ok()) return s;
  // A stop must not hang the CLI for long: the lease is released or it expires on its own.
  o.stop_timeout = std::min<milliseconds>(o.timing.renew_deadline, milliseconds(5000));
  return o;
}

bool is_permanent_backend_error(Errc code) {
  switch (code) {
    case Errc::invalid_argument:
    case Errc::unknown_option:
    case Errc::bad_url:
    case Errc::unsupported_backend:
    case Errc::invalid_timing:
    case Errc::invalid_name:
    case Errc::permission_denied:
    case Errc::auth_failed:
      return true;
    default:
      return false;
  }
}

std::unique_ptr<Elector> create_command_elector(const std::string& command,
                                                const ElectionArgs& args,
                                                const std::string& program) {
  auto opts = build_options(args, false);
  if (!opts.ok()) {
    print_error(command, opts.status);
    return nullptr;
  }
  if (auto cmd = resolve_command(program); !cmd.ok()) {
    print_error(command, cmd.status);
    return nullptr;
  }
  auto created = Elector::create(std::move(opts.value));
  if (!created.ok()) {
    print_error(command, created.status);
    return nullptr;
  }
  return std::move(created.value);
}

void print_error(const std::string& command, const std::string& message) {
  std::string line = (command.empty() ? "tenure" : "tenure " + command) + ": error: " + message;
  for (char& c : line)
    if (c == '\n' || c == '\r') c = ' ';
  std::fprintf(stderr, "%s\n", line.c_str());
  std::fflush(stderr);
}

void print_error(const std::string& command, const Status& status) {
  print_error(command,
              status.message.empty() ? std::string(errc_text(status.code)) : status.message);
}

int64_t unix_ms_now() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

std::string format_utc_ms(int64_t unix_ms) {
  std::time_t secs = static_cast<std::time_t>(unix_ms / 1000);
  int ms = static_cast<int>(unix_ms % 1000);
  if (ms < 0) {
    ms += 1000;
    --secs;
  }
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ms);
  return buf;
}

SignalFd::SignalFd(const std::vector<int>& signals) {
  sigset_t set;
  sigemptyset(&set);
  for (int s : signals) sigaddset(&set, s);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  fd_ = ::signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
}

SignalFd::~SignalFd() {
  if (fd_ >= 0) ::close(fd_);
}

std::vector<int> SignalFd::drain() {
  std::vector<int> out;
  for (;;) {
    signalfd_siginfo info[8];
    ssize_t n = ::read(fd_, info, sizeof info);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    for (size_t i = 0; i < static_cast<size_t>(n) / sizeof(signalfd_siginfo); ++i)
      out.push_back(static_cast<int>(info[i].ssi_signo));
  }
  return out;
}

void block_cli_signals() {
  sigset_t set;
  sigemptyset(&set);
  for (int s : {SIGINT, SIGTERM, SIGHUP, SIGCHLD, SIGPIPE}) sigaddset(&set, s);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

void unblock_all_signals_in_child() {
  sigset_t set;
  sigemptyset(&set);
  sigprocmask(SIG_SETMASK, &set, nullptr);
}

}  // namespace tenure::cli
