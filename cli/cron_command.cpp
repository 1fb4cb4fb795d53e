// `tenure cron`: run CMD at the fire times of a schedule, only on the leader, each fire time at
// most once across replicas and leaders (the run-once ledger under "<job>@<fire time in UTC>").
//
// Two threads: the scheduler's thread claims a fire time and runs CMD (JobRunner); the main thread
// polls the signalfd and the elector's events. On revoked, CMD gets SIGTERM (SIGKILL after
// --grace) and the revocation is acknowledged only once CMD is gone, so no successor's run starts
// while ours drains. On SIGTERM/SIGINT/SIGHUP, CMD is stopped first, then the lease is released.
#include <poll.h>
#include <sys/prctl.h>

#include <atomic>
#include <cstdio>
#include <cstring>
#include <thread>

#include "child_process.hpp"
#include "commands.hpp"
#include "job_runner.hpp"
#include "tenure/scheduler.hpp"

namespace tenure::cli {

namespace {

using std::chrono::milliseconds;

class CronRunner {
 public:
  explicit CronRunner(const CronArgs& args) : args_(args), runner_(milliseconds(args.grace_ms)) {}

  int run() {
    SignalFd signals({SIGINT, SIGTERM, SIGHUP});
    if (!signals.ok()) {
      print_error("cron", std::string("signalfd: ") + std::strerror(errno));
      return kExitFailure;
    }
    // Orphans of CMD come to us and are reaped at once (see JobRunner): a zombie would keep
    // CMD's process group, and with it the run, alive until init got round to it.
    ::prctl(PR_SET_CHILD_SUBREAPER, 1);
    auto js = job_schedule();
    if (!js.ok()) {
      print_error("cron", js.status);
      return kExitUsage;
    }
    elector_ = create_command_elector("cron", args_.election, args_.command.front());
    if (!elector_) return kExitUsage;
    identity_ = elector_->options().identity;

    SchedulerHooks hooks;
    hooks.log = [this](const std::string& line) { log(line); };
    auto sched = Scheduler::create(
        *elector_, js.value,
        [this](const FireContext& c, std::string& detail) { return run_job(c, detail); }, hooks);
    if (!sched.ok()) {
      print_error("cron", sched.status);
      return kExitUsage;
    }
    scheduler_ = std::move(sched.value);
    if (auto s = elector_->start(); !s.ok()) {
      print_error("cron", s);
      return kExitFailure;
    }
    const auto& j = js.value;
    auto next =
        j.schedule.next_after(floor<std::chrono::seconds>(std::chrono::system_clock::now()));
    log("candidate in election '" + args_.election.election + "'; job '" + j.job + "' on '" +
        j.schedule.spec() + "' (" + j.schedule.time_zone() + "), catch-up " +
        catch_up_name(j.catch_up) + " within " + args_.catch_up_window + ", misfire threshold " +
        args_.misfire_threshold + ", on-unfinished " + args_.on_unfinished +
        (next ? ", next fire time " + format_utc(*next) : std::string(", never fires")));
    if (auto s = scheduler_->start(); !s.ok()) {
      print_error("cron", s);
      return kExitFailure;
    }

    loop(signals);

    if (auto s = elector_->stop(); !s.ok()) print_error("cron", s);
    elector_.reset();
    log("exiting with status " + std::to_string(exit_code_));
    return exit_code_;
  }

 private:
  Result<JobSchedule> job_schedule() const {
    JobSchedule js;
    js.job = args_.job.empty() ? args_.election.election : args_.job;
    if (auto s = validate_job_name(js.job); !s.ok())
      return make_error(s.code, "--job: " + s.message);
    auto sched = Schedule::parse(args_.schedule, args_.tz);
    if (!sched.ok()) return sched.status;
    js.schedule = sched.value;
    auto cu = parse_catch_up(args_.catch_up);
    if (!cu.ok()) return make_error(cu.status.code, "--catch-up: " + cu.status.message);
    js.catch_up = cu.value;
    auto w = parse_duration(args_.catch_up_window, "--catch-up-window", true);
    if (!w.ok()) return w.status;
    js.catch_up_window = w.value;
    auto m = parse_duration(args_.misfire_threshold, "--misfire-threshold", true);
    if (!m.ok()) return m.status;
    js.misfire_threshold = m.value;
    if (args_.catch_up_max < 1 || args_.catch_up_max > 10000)
      return make_error(Errc::invalid_argument, "--catch-up-max must be 1 to 10000, got " +
                                                    std::to_string(args_.catch_up_max));
    js.catch_up_max = static_cast<size_t>(args_.catch_up_max);
    js.on_unfinished =
        args_.on_unfinished == "skip" ? UnfinishedPolicy::skip : UnfinishedPolicy::retry;
    if (args_.grace_ms < 0)
      return make_error(Errc::invalid_argument, "--grace must be zero or more milliseconds, got " +
                                                    std::to_string(args_.grace_ms));
    if (auto s = validate_job_schedule(js); !s.ok()) return s;
    return js;
  }

  // On the scheduler's thread, with the fire time claimed in the ledger.
  bool run_job(const FireContext& c, std::string& detail) {
    // Leadership may have ended between the claim and here: then start nothing.
    const ElectorStatus st = elector_->status();
    if (!st.is_leader || st.token != c.token) {
      detail = "not started: leadership ended before CMD could start";
      return false;
    }
    auto env = child_environment(
        {"TENURE_ELECTION=" + args_.election.election, "TENURE_IDENTITY=" + identity_,
         "TENURE_TOKEN=" + std::to_string(c.token), "TENURE_JOB=" + c.job,
         "TENURE_JOB_KEY=" + c.key, "TENURE_FIRE_TIME=" + format_utc(c.fire_time)});
    auto out = runner_.run(args_.command, env);
    detail = out.detail;
    if (!out.started)
      print_error("cron", "fire time " + format_utc(c.fire_time) + ": " + out.detail);
    return out.success();
  }

  void loop(SignalFd& signals) {
    std::atomic<bool> scheduler_stopped{false};
    std::thread stopper;
    for (;;) {
      if (ack_pending_ && !runner_.busy()) {
        // Our CMD is gone: the core may hand the lease on now.
        elector_->ack_revoked();
        ack_pending_ = false;
      }
      if (shutting_down_ && scheduler_stopped) break;
      pollfd fds[2] = {{signals.fd(), POLLIN, 0}, {elector_->event_fd(), POLLIN, 0}};
      const int timeout = ack_pending_ || shutting_down_ ? 20 : -1;
      if (::poll(fds, 2, timeout) < 0 && errno != EINTR) {
        print_error("cron", std::string("poll: ") + std::strerror(errno));
        exit_code_ = kExitFailure;
      }
      drain_events();
      if (fds[0].revents & POLLIN)
        for (int sig : signals.drain()) {
          const char* abbrev = sigabbrev_np(sig);
          const std::string name = std::string("SIG") + (abbrev ? abbrev : "?");
          if (shutting_down_) {
            if (sig != SIGHUP && runner_.busy()) {
              log("second " + name + ": sending SIGKILL to CMD's process group");
              runner_.stop(true);
            }
            continue;
          }
          begin_shutdown(name);
        }
      if (exit_code_ != kExitOk && !shutting_down_) begin_shutdown("an error");
      if (shutting_down_ && !stopper.joinable())
        stopper = std::thread([this, &scheduler_stopped] {
          scheduler_->stop();  // returns once a running job has returned
          scheduler_stopped = true;
        });
    }
    if (stopper.joinable()) stopper.join();
  }

  void begin_shutdown(const std::string& why) {
    shutting_down_ = true;
    log("stopping on " + why);
    if (runner_.busy()) log("stopping CMD (pid " + std::to_string(runner_.pid()) + ")");
    runner_.stop(true);
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
          scheduler_->wake();
          break;
        case EventType::revoked:
          log(std::string("leadership revoked (") + revoke_reason_name(e.reason) + ")" +
              (e.message.empty() ? "" : ": " + e.message));
          if (runner_.busy()) log("stopping CMD (pid " + std::to_string(runner_.pid()) + ")");
          runner_.stop(false);
          ack_pending_ = true;
          break;
        case EventType::leader_changed:
          contacted_ = true;
          if (e.leader == identity_) break;
          log(e.leader.empty()
                  ? std::string("no one leads now")
                  : "leader is " + e.leader + " (token " + std::to_string(e.token) + ")");
          break;
        case EventType::error:
          print_error("cron", std::string(errc_name(e.code)) + ": " + e.message);
          if (!contacted_ && is_permanent_backend_error(e.code)) exit_code_ = kExitBackend;
          break;
      }
    }
  }

  void log(const std::string& msg) const {
    if (args_.quiet) return;
    std::fprintf(stderr, "%s tenure cron [%s]: %s\n", format_utc_ms(unix_ms_now()).c_str(),
                 identity_.c_str(), msg.c_str());
    std::fflush(stderr);
  }

  const CronArgs& args_;
  JobRunner runner_;
  std::unique_ptr<Elector> elector_;
  std::unique_ptr<Scheduler> scheduler_;
  std::string identity_;
  bool contacted_ = false;
  bool ack_pending_ = false;
  bool shutting_down_ = false;
  int exit_code_ = kExitOk;
};

}  // namespace

int cron_command(const CronArgs& args) {
  if (args.command.empty()) {
    print_error("cron",
                "no command given: put it after '--', e.g. tenure cron -b file:///tmp/t -e "
                "nightly --schedule '0 2 * * *' -- ./nightly.sh");
    return kExitUsage;
  }
  CronRunner runner(args);
  return runner.run();
}

}  // namespace tenure::cli
