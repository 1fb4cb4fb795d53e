// Shared pieces of the `tenure` subcommands: election options, exit codes, time, logging, signals.
#pragma once

#include <signal.h>

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "tenure/elector.hpp"
#include "tenure/errors.hpp"
#include "tenure/options.hpp"

namespace CLI {
class App;
}

namespace tenure::cli {

// Exit codes of every subcommand (documented in `tenure --help` and docs/cli.md).
enum ExitCode : int {
  kExitOk = 0,            // clean stop (run: SIGTERM/SIGINT/SIGHUP), or the query succeeded
  kExitFailure = 1,       // an unexpected failure (a bug or a resource problem)
  kExitUsage = 2,         // bad command line or bad input (URL, name, timing, directory, ...)
  kExitBackend = 3,       // the backend refused or failed before the command could do its work
  kExitTimeout = 4,       // status: no answer from the backend within --timeout
  kExitExecFailed = 127,  // run: CMD could not be executed after leadership was won
};

extern const char* const kExitCodeHelp;  // the table above, for --help footers

// The options every subcommand shares: which election, on which backend, with which timing.
struct ElectionArgs {
  std::string backend;
  std::string election;
  std::string identity;
  static constexpr int64_t kUnset = INT64_MIN;  // not given: the core's default
  int64_t lease_duration_ms = kUnset;
  int64_t renew_deadline_ms = kUnset;
  int64_t retry_period_ms = kUnset;
  std::vector<std::string> backend_opts;  // k=v
};

// Adds --backend, --election, the timing flags and --backend-opt to a subcommand; --identity too
// when `candidate`.
void add_election_options(CLI::App& app, ElectionArgs& args, bool candidate);

// Builds and validates the elector options (without touching the backend).
Result<ElectorOptions> build_options(const ElectionArgs& args, bool observe_only);

// Errors from Elector::create are bad input (exit 2); after start, errors that cannot heal by
// retrying (credentials, permissions, configuration) make run/watch give up before first contact.
bool is_permanent_backend_error(Errc code);

// The elector of a subcommand that runs CMD (run, cron, once): options built, CMD found, the
// elector created but not started. On failure prints why and returns null (a usage error).
std::unique_ptr<Elector> create_command_elector(const std::string& command,
                                                const ElectionArgs& args,
                                                const std::string& program);

// "tenure <cmd>: error: <message>" on stderr, on one line.
void print_error(const std::string& command, const std::string& message);
void print_error(const std::string& command, const Status& status);

int64_t unix_ms_now();
std::string format_utc_ms(int64_t unix_ms);  // 2024-05-01T12:00:00.123Z

// Blocks the signals the CLI handles (in every thread created afterwards too) and reads them
// from a signalfd: no handler runs, so nothing races. Create before any thread starts.
class SignalFd {
 public:
  explicit SignalFd(const std::vector<int>& signals);
  ~SignalFd();
  SignalFd(const SignalFd&) = delete;
  SignalFd& operator=(const SignalFd&) = delete;
  bool ok() const { return fd_ >= 0; }
  int fd() const { return fd_; }
  // Reads every pending signal (non-blocking); returns their numbers in arrival order.
  std::vector<int> drain();

 private:
  int fd_ = -1;
};

// Blocks SIGINT, SIGTERM, SIGHUP, SIGCHLD and SIGPIPE in the calling thread; call first in main so
// the runtime's threads inherit the mask and never take these signals.
void block_cli_signals();
// The mask a child process must start with (nothing blocked).
void unblock_all_signals_in_child();

}  // namespace tenure::cli
