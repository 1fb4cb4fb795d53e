// `tenure`: leader election from the command line (run, status, watch).
#include <CLI/CLI.hpp>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "commands.hpp"

#ifndef TENURE_VERSION_STRING
#define TENURE_VERSION_STRING "unknown"
#endif

namespace {

using namespace tenure::cli;

const char* const kRunFooter =
    "Everything after '--' is CMD and its arguments:\n"
    "  tenure run --backend URL --election NAME [OPTIONS] -- CMD [ARGS...]\n\n"
    "CMD runs only while this process leads the election, in its own process group, with stdin\n"
    "from /dev/null and these variables in its environment:\n"
    "  TENURE_ELECTION  the election name\n"
    "  TENURE_IDENTITY  this candidate's identity\n"
    "  TENURE_TOKEN     the fencing token of this leadership term (grows with every term)\n"
    "Leadership lost: CMD's process group gets SIGTERM, SIGKILL after --grace; CMD starts again\n"
    "(with the new token) when this process is elected again, never before the old CMD is gone.\n"
    "SIGTERM/SIGINT/SIGHUP to tenure: CMD is stopped the same way first, then the lease is\n"
    "released, then tenure exits 0 (a second signal sends SIGKILL to CMD at once).\n"
    "tenure killed with SIGKILL: the kernel kills CMD too (parent-death signal).\n"
    "CMD ends by itself while leading (--on-exit):\n"
    "  exit     (default) release leadership and exit with CMD's status (128+S for signal S)\n"
    "  restart  start CMD again after --restart-delay, keeping leadership\n"
    "  release  release leadership (stay a candidate); CMD starts again on the next election\n";

const char* const kCronFooter =
    "Everything after '--' is CMD and its arguments. Run the same command line on every\n"
    "replica: only the leader runs CMD, once per fire time, recorded in the backend's run-once\n"
    "ledger under the key JOB@FIRE-TIME-IN-UTC (see 'tenure runs'). CMD's environment adds:\n"
    "  TENURE_FIRE_TIME  the fire time, UTC, e.g. 2026-03-29T00:00:00Z\n"
    "  TENURE_TOKEN      the fencing token the run was claimed under\n"
    "  TENURE_JOB, TENURE_JOB_KEY, TENURE_ELECTION, TENURE_IDENTITY\n"
    "CMD's exit status is recorded (0: finished, else failed). Leadership lost: CMD gets SIGTERM,\n"
    "SIGKILL after --grace; the next leader sees the unfinished run and applies --on-unfinished.\n"
    "Schedules: 5 cron fields (minute hour day-of-month month day-of-week), 6 with seconds first,\n"
    "@yearly @monthly @weekly @daily @hourly, or @every DURATION (90s, 5m, 1h30m).\n";

const char* const kSubcommands[] = {"run", "status", "watch", "cron", "once", "runs"};

bool is_subcommand(const std::string& a) {
  for (const char* s : kSubcommands)
    if (a == s) return true;
  return false;
}

std::string subcommand_in(int argc, char** argv) {
  for (int i = 1; i < argc; ++i)
    if (is_subcommand(argv[i])) return argv[i];
  return "";
}

// CLI11 says only "A subcommand is required" when the first word is not a subcommand: say
// which word, which ones exist, and (for a prefix or an option) what was probably meant.
std::string missing_subcommand_message(int argc, char** argv) {
  const std::string valid = "the subcommands are run, status and watch (see 'tenure --help')";
  if (argc < 2) return "a subcommand is required: " + valid;
  std::string first = argv[1];
  if (!first.empty() && first[0] == '-')
    return "'" + first + "' must follow a subcommand (tenure run|status|watch " + first +
           " ...): " + valid;
  std::string guess;
  for (const char* s : kSubcommands)
    if (std::string(s).rfind(first, 0) == 0) guess = std::string(" (did you mean '") + s + "'?)";
  return "unknown subcommand '" + first + "'" + guess + ": " + valid;
}

}  // namespace

int main(int argc, char** argv) {
  // Before any thread exists: the runtime's threads inherit the mask and never take our signals,
  // which the subcommands read from a signalfd. A broken stdout pipe gives EPIPE, not death.
  block_cli_signals();

  // Everything after the first "--" is CMD ARGS of `tenure run`, taken verbatim.
  std::vector<char*> args(argv, argv + argc);
  std::vector<std::string> command;
  bool has_separator = false;
  for (size_t i = 1; i < args.size(); ++i) {
    if (std::strcmp(args[i], "--") == 0) {
      has_separator = true;
      for (size_t j = i + 1; j < args.size(); ++j) command.emplace_back(args[j]);
      args.resize(i);
      break;
    }
  }

  CLI::App app{
      "tenure: leader election for processes (file, memory and the other built-in "
      "backends)",
      "tenure"};
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string("tenure ") + TENURE_VERSION_STRING);
  app.footer(kExitCodeHelp);

  RunArgs run_args;
  std::string on_exit = "exit";
  auto* run = app.add_subcommand("run", "Run CMD only while this process leads the election");
  add_election_options(*run, run_args.election, true);
  run->add_option("--grace", run_args.grace_ms,
                  "Milliseconds between SIGTERM and SIGKILL when CMD must stop (default 5000)");
  run->add_option("--on-exit", on_exit,
                  "What to do when CMD ends by itself while leading: exit (default), restart, "
                  "release")
      ->check(CLI::IsMember({"exit", "restart", "release"}));
  run->add_option("--restart-delay", run_args.restart_delay_ms,
                  "Milliseconds before CMD is restarted with --on-exit=restart (default 1000)");
  run->add_flag("--quiet,-q", run_args.quiet, "Log only errors to stderr (not each transition)");
  run->add_option("--metrics-addr", run_args.metrics_addr,
                  "Serve Prometheus /metrics and /healthz (200 while working, 503 once the "
                  "backend has not answered for renew_deadline) on HOST:PORT");
  run->footer(std::string(kRunFooter) + "\n" + kExitCodeHelp);

  StatusArgs status_args;
  auto* status = app.add_subcommand("status", "Print the election's holder, token, age and expiry");
  add_election_options(*status, status_args.election, false);
  status->add_flag("--json", status_args.json,
                   "One JSON object: election, holder (null when none), token, age_ms, "
                   "renewed_ago_ms, expires_in_ms, lease_duration_ms, acquired_at, transitions, "
                   "time");
  status->add_option("--timeout", status_args.timeout_ms,
                     "Milliseconds to wait for the backend's answer (default 5000)");
  status->footer(kExitCodeHelp);

  WatchArgs watch_args;
  auto* watch = app.add_subcommand(
      "watch",
      "Print a line for every leadership change until SIGINT/SIGTERM (the first line "
      "is the state at start)");
  add_election_options(*watch, watch_args.election, false);
  watch->add_flag("--json", watch_args.json,
                  "JSON lines: election, holder (null when none), token, time, time_unix_ms");
  watch->footer(kExitCodeHelp);

  CronArgs cron_args;
  auto* cron = app.add_subcommand(
      "cron", "Run CMD at the fire times of a schedule, only on the leader, once per fire time");
  add_election_options(*cron, cron_args.election, true);
  cron->add_option("--schedule,-s", cron_args.schedule,
                   "Cron expression ('0 2 * * *'), @daily-style name or '@every 5m'")
      ->required();
  cron->add_option("--tz", cron_args.tz, "IANA time zone of the cron fields (default UTC)");
  cron->add_option("--job", cron_args.job,
                   "Job name in the ledger keys (default: the election name)");
  cron->add_option("--catch-up", cron_args.catch_up,
                   "Missed fire times: none (only within --misfire-threshold), latest (the "
                   "newest within the window; default), all (each within the window)")
      ->check(CLI::IsMember({"none", "latest", "all"}));
  cron->add_option("--catch-up-window", cron_args.catch_up_window,
                   "How far back a new leader looks for missed fire times (default 1h)");
  cron->add_option("--catch-up-max", cron_args.catch_up_max,
                   "At most this many catch-up runs with --catch-up all (default 100)");
  cron->add_option("--misfire-threshold", cron_args.misfire_threshold,
                   "How late a run may start with --catch-up none (default 1m)");
  cron->add_option("--on-unfinished", cron_args.on_unfinished,
                   "A run an old leader started and never finished: retry (default) or skip")
      ->check(CLI::IsMember({"retry", "skip"}));
  cron->add_option("--grace", cron_args.grace_ms,
                   "Milliseconds between SIGTERM and SIGKILL when CMD must stop (default 5000)");
  cron->add_flag("--quiet,-q", cron_args.quiet, "Log only errors to stderr");
  cron->footer(std::string(kCronFooter) + "\n" + kExitCodeHelp);

  OnceArgs once_args;
  auto* once = app.add_subcommand(
      "once", "Run CMD at most once per --job key across all replicas and leaders");
  add_election_options(*once, once_args.election, true);
  once->add_option("--job", once_args.job, "The run's key in the ledger, e.g. migrate-v42")
      ->required();
  once->add_option("--on-unfinished", once_args.on_unfinished,
                   "A run an old leader started and never finished: retry (default) or skip")
      ->check(CLI::IsMember({"retry", "skip"}));
  once->add_option("--grace", once_args.grace_ms,
                   "Milliseconds between SIGTERM and SIGKILL when CMD must stop (default 5000)");
  once->add_option("--timeout", once_args.timeout_ms,
                   "Give up (exit 4) when not elected within this many ms (default: wait)");
  once->add_flag("--quiet,-q", once_args.quiet, "Log only errors to stderr");
  once->footer(
      std::string("Exit status: CMD's when it ran here; 0 when the key was already run (or, with\n"
                  "--on-unfinished skip, abandoned) by another leader.\n\n") +
      kExitCodeHelp);

  RunsArgs runs_args;
  auto* runs = app.add_subcommand("runs", "List the election's run-once ledger");
  add_election_options(*runs, runs_args.election, false);
  runs->add_option("--job", runs_args.job, "Only keys that start with this prefix");
  runs->add_flag("--json", runs_args.json,
                 "JSON lines: key, job, fire_time, status, leader, token, started_at, "
                 "finished_at, detail");
  runs->add_option("--limit", runs_args.limit, "The last N keys (default 1000)");
  runs->add_option("--timeout", runs_args.timeout_ms,
                   "Milliseconds to wait for the backend's answer (default 5000)");
  runs->footer(std::string("Status: finished, failed, running (started by the current leader) or\n"
                           "abandoned (started by a leader that is gone and never finished).\n\n") +
               kExitCodeHelp);

  try {
    app.parse(static_cast<int>(args.size()), args.data());
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::string sub = subcommand_in(static_cast<int>(args.size()), args.data());
    if (app.get_subcommands().empty() && (sub.empty() || args.size() < 2 || args[1] != sub)) {
      print_error("", missing_subcommand_message(static_cast<int>(args.size()), args.data()));
      return kExitUsage;
    }
    std::string where = sub.empty() ? "tenure" : "tenure " + sub;
    print_error(sub.empty() ? std::string("") : sub,
                std::string(e.what()) + " (see '" + where + " --help')");
    return kExitUsage;
  }

  try {
    if (*run) {
      run_args.command = std::move(command);
      run_args.on_exit = on_exit == "restart"   ? OnExit::restart
                         : on_exit == "release" ? OnExit::release
                                                : OnExit::exit;
      if (!has_separator) {
        print_error("run",
                    "no command given: put it after '--', e.g. tenure run -b "
                    "file:///tmp/t -e job -- ./job.sh");
        return kExitUsage;
      }
      return run_command(run_args);
    }
    if (*cron || *once) {
      const std::string sub = *cron ? "cron" : "once";
      if (!has_separator) {
        print_error(sub, "no command given: put it after '--', e.g. tenure " + sub +
                             " -b file:///tmp/t -e job ... -- ./job.sh");
        return kExitUsage;
      }
      if (*cron) {
        cron_args.command = std::move(command);
        return cron_command(cron_args);
      }
      once_args.command = std::move(command);
      return once_command(once_args);
    }
    if (has_separator) {
      print_error(subcommand_in(argc, argv),
                  "unexpected '--': only 'tenure run', 'cron' and 'once' take a command");
      return kExitUsage;
    }
    if (*status) return status_command(status_args);
    if (*watch) return watch_command(watch_args);
    if (*runs) return runs_command(runs_args);
  } catch (const std::exception& e) {
    print_error(subcommand_in(argc, argv), std::string("unexpected failure: ") + e.what());
    return kExitFailure;
  }
  return kExitUsage;
}
