// `tenure once`: run CMD at most once per key across all replicas and leaders of an election.
// Every replica runs the same command line; the one elected claims the key in the run-once
// ledger and runs CMD, the others find the record when their turn comes and exit.
#include <poll.h>
#include <sys/prctl.h>

#include <atomic>
#include <cstdio>
#include <cstring>
#include <thread>

#include "child_process.hpp"
#include "commands.hpp"
#include "job_runner.hpp"

namespace tenure::cli {

namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

class OnceRunner {
 public:
  explicit OnceRunner(const OnceArgs& args) : args_(args), runner_(milliseconds(args.grace_ms)) {}

  int run() {
    SignalFd signals({SIGINT, SIGTERM, SIGHUP});
    if (!signals.ok()) {
      print_error("once", std::string("signalfd: ") + std::strerror(errno));
      return kExitFailure;
    }
    // Orphans of CMD come to us and are reaped at once (see JobRunner): a zombie would keep
    // CMD's process group, and with it the run, alive until init got round to it.
    ::prctl(PR_SET_CHILD_SUBREAPER, 1);
    if (auto s = validate_job_key(args_.job); !s.ok()) {
      print_error("once", "--job: " + s.message);
      return kExitUsage;
    }
    if (args_.grace_ms < 0 || args_.timeout_ms < 0) {
      print_error("once", "--grace and --timeout must be zero or more milliseconds");
      return kExitUsage;
    }
    elector_ = create_command_elector("once", args_.election, args_.command.front());
    if (!elector_) return kExitUsage;
    identity_ = elector_->options().identity;
    if (auto s = elector_->start(); !s.ok()) {
      print_error("once", s);
      return kExitFailure;
    }
    log("candidate in election '" + args_.election.election + "' to run job '" + args_.job +
        "' once");
    loop(signals);
    if (worker_.joinable()) worker_.join();
    if (auto s = elector_->stop(); !s.ok()) print_error("once", s);
    elector_.reset();
    log("exiting with status " + std::to_string(exit_code_));
    return exit_code_;
  }

 private:
  void loop(SignalFd& signals) {
    const auto deadline = Clock::now() + milliseconds(args_.timeout_ms);
    for (;;) {
      if (worker_done_) {
        worker_.join();
        worker_done_ = false;
        if (finished_) return;
        // Leadership ended before the claim: wait to be elected again.
      }
      if (ack_pending_ && !runner_.busy()) {
        elector_->ack_revoked();
        ack_pending_ = false;
      }
      if (stopping_ && !worker_.joinable()) return;
      int timeout = worker_.joinable() || ack_pending_ ? 20 : -1;
      if (args_.timeout_ms > 0 && !worker_.joinable()) {
        auto left = std::chrono::ceil<milliseconds>(deadline - Clock::now()).count();
        if (left <= 0) {
          print_error("once", "not elected within --timeout " + std::to_string(args_.timeout_ms) +
                                  " ms; job '" + args_.job + "' was not run here");
          exit_code_ = kExitTimeout;
          return;
        }
        timeout = timeout < 0 ? static_cast<int>(std::min<int64_t>(left, 60000)) : timeout;
      }
      pollfd fds[2] = {{signals.fd(), POLLIN, 0}, {elector_->event_fd(), POLLIN, 0}};
      ::poll(fds, 2, timeout);
      drain_events();
      if (fds[0].revents & POLLIN)
        for (int sig : signals.drain()) {
          const char* abbrev = sigabbrev_np(sig);
          log(std::string(stopping_ ? "second SIG" : "stopping on SIG") + (abbrev ? abbrev : "?"));
          runner_.stop(true);
          if (!stopping_) exit_code_ = 128 + sig;
          stopping_ = true;
        }
    }
  }

  void drain_events() {
    for (;;) {
      auto r = elector_->poll_event(milliseconds(0));
      if (!r.ok()) return;
      const Event& e = r.value;
      switch (e.type) {
        case EventType::elected:
          contacted_ = true;
          log("elected with fencing token " + std::to_string(e.token));
          if (!worker_.joinable() && !stopping_) worker_ = std::thread([this] { claim_and_run(); });
          break;
        case EventType::revoked:
          log(std::string("leadership revoked (") + revoke_reason_name(e.reason) + ")");
          runner_.stop(false);
          ack_pending_ = true;
          break;
        case EventType::leader_changed:
          contacted_ = true;
          if (e.leader != identity_ && !e.leader.empty())
            log("leader is " + e.leader + " (token " + std::to_string(e.token) + ")");
          break;
        case EventType::error:
          print_error("once", std::string(errc_name(e.code)) + ": " + e.message);
          if (!contacted_ && is_permanent_backend_error(e.code) && !stopping_) {
            exit_code_ = kExitBackend;
            stopping_ = true;
          }
          break;
      }
    }
  }

  // On the worker thread.
  void claim_and_run() {
    const auto policy =
        args_.on_unfinished == "skip" ? UnfinishedPolicy::skip : UnfinishedPolicy::retry;
    int cmd_exit = 0;
    auto r = elector_->run_once(args_.job, policy, [&](uint64_t token, std::string& detail) {
      log("claimed job '" + args_.job + "' with token " + std::to_string(token) + ": starting CMD");
      auto env = child_environment(
          {"TENURE_ELECTION=" + args_.election.election, "TENURE_IDENTITY=" + identity_,
           "TENURE_TOKEN=" + std::to_string(token), "TENURE_JOB_KEY=" + args_.job});
      auto out = runner_.run(args_.command, env);
      detail = out.detail;
      cmd_exit = out.started ? exit_code_of(out.wait_status) : kExitExecFailed;
      log("CMD " + out.detail);
      return out.success();
    });
    if (!r.ok()) {
      if (r.status.code == Errc::not_leader) {
        worker_done_ = true;
        return;  // lost leadership before the claim: try again when elected
      }
      print_error("once", r.status);
      exit_code_ = r.status.code == Errc::fenced ? kExitBackend : kExitFailure;
    } else if (r.value.ran) {
      exit_code_ = cmd_exit;
    } else {
      const RunRecord& rec = r.value.record;
      if (rec.status == RunStatus::started)
        log("job '" + args_.job + "' was started by " + rec.holder + " (token " +
            std::to_string(rec.token) + ") at " + format_utc_ms(rec.started_unix_ms) +
            " and never finished; not run again (--on-unfinished skip)");
      else
        log("job '" + args_.job + "' already " + run_status_name(rec.status) + " by " + rec.holder +
            " (token " + std::to_string(rec.token) + ") at " + format_utc_ms(rec.finished_unix_ms) +
            "; not run again");
    }
    finished_ = true;
    worker_done_ = true;
  }

  void log(const std::string& msg) const {
    if (args_.quiet) return;
    std::fprintf(stderr, "%s tenure once [%s]: %s\n", format_utc_ms(unix_ms_now()).c_str(),
                 identity_.c_str(), msg.c_str());
    std::fflush(stderr);
  }

  const OnceArgs& args_;
  JobRunner runner_;
  std::unique_ptr<Elector> elector_;
  std::string identity_;
  std::thread worker_;
  std::atomic<bool> worker_done_{false}, finished_{false};
  std::atomic<int> exit_code_{kExitOk};
  bool contacted_ = false, ack_pending_ = false, stopping_ = false;
};

}  // namespace

int once_command(const OnceArgs& args) {
  if (args.command.empty()) {
    print_error("once",
                "no command given: put it after '--', e.g. tenure once -b file:///tmp/t -e "
                "ops --job migrate-v42 -- ./migrate.sh");
    return kExitUsage;
  }
  OnceRunner runner(args);
  return runner.run();
}

}  // namespace tenure::cli
