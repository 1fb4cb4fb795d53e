// `tenure run`: run CMD only while this process leads the election.
//
// One thread, one poll loop over three sources: the signalfd (SIGTERM/SIGINT/SIGHUP and SIGCHLD),
// the elector's event fd, and timers (the SIGKILL deadline, a restart delay). The invariants:
//  - CMD is started only while we lead, and only when no earlier CMD (or anything left in its
//    process group) is still running: a new term waits for the old CMD to be gone.
//  - On revoked, CMD gets SIGTERM at once and SIGKILL after --grace.
//  - On our own SIGTERM/SIGINT/SIGHUP, CMD is stopped first and the elector (which releases the
//    lease) only after CMD is gone, so no successor can start while CMD still runs here.
//  - If the CLI is SIGKILLed, the kernel kills CMD (parent-death signal set in the child).
#include <poll.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <optional>

#include "child_process.hpp"
#include "commands.hpp"
#include "metrics_server.hpp"

extern char** environ;

namespace tenure::cli {

namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

const char* on_exit_name(OnExit p) {
  switch (p) {
    case OnExit::exit:
      return "exit";
    case OnExit::restart:
      return "restart";
    case OnExit::release:
      return "release";
  }
  return "?";
}

class Runner {
 public:
  explicit Runner(const RunArgs& args) : args_(args) {}

  int run() {
    SignalFd signals({SIGINT, SIGTERM, SIGHUP, SIGCHLD});
    if (!signals.ok()) {
      print_error("run", std::string("signalfd: ") + std::strerror(errno));
      return kExitFailure;
    }
    // Orphans of CMD are re-parented to us, so they stay visible (and reaped) until they end.
    ::prctl(PR_SET_CHILD_SUBREAPER, 1);

    elector_ = create_command_elector("run", args_.election, args_.command.front());
    if (!elector_) return kExitUsage;
    identity_ = elector_->options().identity;
    started_at_ = Clock::now();
    if (auto s = elector_->start(); !s.ok()) {
      print_error("run", s);
      return kExitFailure;
    }
    if (!args_.metrics_addr.empty()) {
      metrics_ = std::make_unique<MetricsServer>();
      if (auto s = metrics_->start(args_.metrics_addr, [this] { return health(); }); !s.ok()) {
        print_error("run", s);
        metrics_.reset();
        elector_->stop();
        return kExitUsage;
      }
      log("serving /metrics and /healthz on " + args_.metrics_addr);
    }
    log("candidate in election '" + args_.election.election + "' (on-exit=" +
        on_exit_name(args_.on_exit) + ", grace " + std::to_string(args_.grace_ms) + " ms)");

    loop(signals);

    metrics_.reset();  // before the elector it reads goes away
    bool was_leading = leading_;
    leading_ = false;
    if (auto s = elector_->stop(); !s.ok()) {
      print_error("run", s);
    } else if (was_leading) {
      log("released leadership");
    }
    elector_.reset();
    log("exiting with status " + std::to_string(exit_code_));
    return exit_code_;
  }

 private:
  // /healthz: healthy while the elector works, leader or follower; not once the backend has not
  // answered for longer than renew_deadline (a leader has stepped down by then).
  Health health() const {
    auto st = elector_->status();
    const int64_t deadline = elector_->options().timing.renew_deadline.count();
    int64_t age = st.ms_since_backend_contact;
    if (age < 0) age = std::chrono::duration_cast<milliseconds>(Clock::now() - started_at_).count();
    if (age > deadline)
      return {false, "no answer from the backend for " + std::to_string(age) +
                         " ms (renew_deadline " + std::to_string(deadline) + " ms)"};
    return {true, st.is_leader ? "leader" : "follower"};
  }

  void loop(SignalFd& signals) {
    for (;;) {
      child_.reap();
      auto now = Clock::now();
      if (child_.pid() > 0 && child_.leader_exited() && !exit_seen_) on_cmd_exited(now);
      if (child_.pid() > 0 && !child_.active()) on_cmd_gone();
      if (!child_.active()) {
        if (shutting_down_) return;
        if (leading_ && now >= restart_at_) spawn_cmd();
        if (shutting_down_) return;  // the spawn failed
      }
      if (stopping_ && !killed_ && now >= kill_deadline_) {
        log("CMD did not stop within the grace period of " + std::to_string(args_.grace_ms) +
            " ms: sending SIGKILL to its process group");
        child_.signal_group(SIGKILL);
        killed_ = true;
      }

      pollfd fds[2] = {{signals.fd(), POLLIN, 0}, {elector_->event_fd(), POLLIN, 0}};
      int rc = ::poll(fds, 2, poll_timeout_ms(Clock::now()));
      if (rc < 0 && errno != EINTR) {
        print_error("run", std::string("poll: ") + std::strerror(errno));
        exit_code_ = kExitFailure;
        begin_shutdown("an internal error");
        continue;
      }
      // Elector events first: a revocation must be known before we judge a CMD exit.
      drain_events();
      if (fds[0].revents & POLLIN) {
        for (int sig : signals.drain()) {
          if (sig == SIGCHLD) continue;  // reaped at the top of the loop
          on_signal(sig);
        }
      }
    }
  }

  int poll_timeout_ms(Clock::time_point now) const {
    std::optional<Clock::time_point> due;
    auto consider = [&](Clock::time_point t) {
      if (!due || t < *due) due = t;
    };
    if (stopping_ && !killed_) consider(kill_deadline_);
    if (leading_ && !child_.active() && !shutting_down_) consider(restart_at_);
    // The group outlived CMD: no SIGCHLD tells us when its last member ends, so look again soon.
    if (child_.active() && child_.leader_exited()) consider(now + milliseconds(20));
    if (!due) return -1;
    auto ms = std::chrono::ceil<milliseconds>(*due - now).count();
    return static_cast<int>(std::clamp<int64_t>(ms, 0, 60000));
  }

  void drain_events() {
    for (;;) {
      auto r = elector_->poll_event(milliseconds(0));
      if (!r.ok()) return;
      on_event(r.value);
    }
  }

  void on_event(const Event& e) {
    switch (e.type) {
      case EventType::elected:
        contacted_ = true;
        leading_ = true;
        token_ = e.token;
        restart_at_ = Clock::now();
        log("elected with fencing token " + std::to_string(e.token));
        if (child_.active()) log("waiting for the previous CMD to end before starting it again");
        break;
      case EventType::revoked:
        leading_ = false;
        log(std::string("leadership revoked (") + revoke_reason_name(e.reason) + ")" +
            (e.message.empty() ? "" : ": " + e.message));
        request_stop("leadership was revoked");
        // Nothing runs: the core may give the lease back now (see on_cmd_gone).
        if (!child_.active()) elector_->ack_revoked();
        break;
      case EventType::leader_changed:
        contacted_ = true;
        if (e.leader == identity_) break;  // our own election, logged above
        if (e.leader.empty())
          log("no one leads now");
        else
          log("leader is " + e.leader + " (token " + std::to_string(e.token) + ")");
        break;
      case EventType::error:
        print_error("run", std::string(errc_name(e.code)) + ": " + e.message);
        if (!contacted_ && is_permanent_backend_error(e.code) && !shutting_down_) {
          exit_code_ = kExitBackend;
          begin_shutdown("a backend error that retrying cannot fix");
        }
        break;
    }
  }

  void on_signal(int sig) {
    const char* abbrev = sigabbrev_np(sig);
    std::string name = std::string("SIG") + (abbrev ? abbrev : "?");
    if (shutting_down_ && sig != SIGHUP) {
      if (child_.active() && !killed_) {
        log("second " + name + ": sending SIGKILL to CMD's process group");
        child_.signal_group(SIGKILL);
        killed_ = true;
      }
      return;
    }
    begin_shutdown(name);
  }

  void begin_shutdown(const std::string& why) {
    if (shutting_down_) return;
    shutting_down_ = true;
    log("stopping on " + why);
    request_stop("the CLI is stopping");
  }

  // SIGTERM to CMD's process group now, SIGKILL at the deadline.
  void request_stop(const std::string& why) {
    if (!child_.active() || stopping_) return;
    stopping_ = true;
    killed_ = false;
    kill_deadline_ = Clock::now() + milliseconds(args_.grace_ms);
    if (args_.grace_ms <= 0) {
      log(why + ": sending SIGKILL to CMD (pid " + std::to_string(child_.pid()) + ")");
      child_.signal_group(SIGKILL);
      killed_ = true;
      return;
    }
    log(why + ": sending SIGTERM to CMD (pid " + std::to_string(child_.pid()) + ")");
    child_.signal_group(SIGTERM);
  }

  void on_cmd_exited(Clock::time_point now) {
    exit_seen_ = true;
    int st = child_.wait_status();
    log("CMD (pid " + std::to_string(child_.pid()) + ") " + describe_wait_status(st));
    if (stopping_ || shutting_down_ || !leading_) {
      // We asked it to stop, or it ended as leadership ended: nothing to decide.
      request_stop("CMD ended; stopping what is left in its process group");
      return;
    }
    // CMD ended on its own while we lead: apply --on-exit.
    switch (args_.on_exit) {
      case OnExit::exit:
        exit_code_ = exit_code_of(st);
        begin_shutdown("CMD's exit (--on-exit=exit)");
        break;
      case OnExit::restart:
        restart_at_ = now + milliseconds(args_.restart_delay_ms);
        log("restarting CMD in " + std::to_string(args_.restart_delay_ms) +
            " ms (--on-exit=restart)");
        request_stop("CMD ended; stopping what is left in its process group");
        break;
      case OnExit::release:
        resign_when_gone_ = true;
        request_stop("CMD ended; stopping what is left in its process group");
        break;
    }
  }

  void on_cmd_gone() {
    if (child_.active()) return;
    child_.reset();
    stopping_ = false;
    killed_ = false;
    exit_seen_ = false;
    // After an involuntary step-down the core holds the lease until CMD is gone, so the
    // successor's CMD cannot start while ours still drains.
    if (!leading_) elector_->ack_revoked();
    if (resign_when_gone_) {
      resign_when_gone_ = false;
      if (leading_ && !shutting_down_) {
        log("resigning leadership (--on-exit=release)");
        leading_ = false;  // until the next elected event
        elector_->resign();
      }
    }
  }

  void spawn_cmd() {
    std::vector<std::string> env;
    for (char** e = environ; e && *e; ++e) {
      std::string kv = *e;
      if (kv.rfind("TENURE_ELECTION=", 0) == 0 || kv.rfind("TENURE_IDENTITY=", 0) == 0 ||
          kv.rfind("TENURE_TOKEN=", 0) == 0)
        continue;
      env.push_back(std::move(kv));
    }
    env.push_back("TENURE_ELECTION=" + args_.election.election);
    env.push_back("TENURE_IDENTITY=" + identity_);
    env.push_back("TENURE_TOKEN=" + std::to_string(token_));
    if (auto s = child_.spawn(args_.command, env); !s.ok()) {
      print_error("run", s);
      exit_code_ = kExitExecFailed;
      begin_shutdown("a CMD that cannot be executed");
      return;
    }
    log("started CMD (pid " + std::to_string(child_.pid()) +
        ") with TENURE_TOKEN=" + std::to_string(token_));
  }

  void log(const std::string& msg) const {
    if (args_.quiet) return;
    std::fprintf(stderr, "%s tenure run [%s]: %s\n", format_utc_ms(unix_ms_now()).c_str(),
                 identity_.c_str(), msg.c_str());
    std::fflush(stderr);
  }

  const RunArgs& args_;
  std::unique_ptr<Elector> elector_;
  std::unique_ptr<MetricsServer> metrics_;  // reads elector_: declared after it, reset before
  Clock::time_point started_at_{};
  std::string identity_;
  ChildProcess child_;

  bool contacted_ = false;  // the backend answered at least once
  bool leading_ = false;    // as far as the events we processed say
  uint64_t token_ = 0;
  Clock::time_point restart_at_{};  // earliest time to (re)start CMD while leading

  bool stopping_ = false;   // SIGTERM sent to the current CMD
  bool killed_ = false;     // SIGKILL sent
  bool exit_seen_ = false;  // CMD's own exit handled
  bool resign_when_gone_ = false;
  Clock::time_point kill_deadline_{};

  bool shutting_down_ = false;
  int exit_code_ = kExitOk;
};

}  // namespace

int run_command(const RunArgs& args) {
  if (args.command.empty()) {
    print_error("run",
                "no command given: put it after '--', e.g. tenure run -b file:///tmp/t "
                "-e job -- ./job.sh");
    return kExitUsage;
  }
  if (args.grace_ms < 0) {
    print_error("run",
                "--grace must be zero or more milliseconds, got " + std::to_string(args.grace_ms));
    return kExitUsage;
  }
  if (args.restart_delay_ms < 0) {
    print_error("run", "--restart-delay must be zero or more milliseconds, got " +
                           std::to_string(args.restart_delay_ms));
    return kExitUsage;
  }
  Runner runner(args);
  return runner.run();
}

}  // namespace tenure::cli
