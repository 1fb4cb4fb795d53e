#include "fault_trial.hpp"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <sstream>
#include <thread>

#include "fault_proxy.hpp"
#include "process_tree.hpp"
#include "server_admin.hpp"

namespace tenure::faults {

namespace {

using namespace std::chrono_literals;

int64_t now_ns() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return int64_t(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

void sleep_ms(int ms) { std::this_thread::sleep_for(std::chrono::milliseconds(ms)); }

std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

std::string with_port(const std::string& url, const std::string& from, uint16_t to) {
  std::string needle = "127.0.0.1:" + from;
  auto at = url.find(needle);
  if (at == std::string::npos) return "";
  return url.substr(0, at) + "127.0.0.1:" + std::to_string(to) + url.substr(at + needle.size());
}

struct Server {
  std::string url;      // the server's own URL (admin statements, never through a proxy)
  std::string port;     // its port, which each candidate's proxy forwards to
  std::string restart;  // a shell command that restarts it
};

Server server_of(Backend b) {
  if (b == Backend::redis)
    return {env("TENURE_TEST_REDIS_URL"), env("TENURE_TEST_REDIS_PORT"),
            env("TENURE_TEST_REDIS_RESTART")};
  if (b == Backend::pg_lease || b == Backend::pg_session)
    return {env("TENURE_TEST_POSTGRES_URL"), env("TENURE_TEST_POSTGRES_PORT"),
            env("TENURE_TEST_POSTGRES_RESTART")};
  if (b == Backend::etcd) {
    // The single server (etcd://127.0.0.1:PORT): its env names no port of its own.
    std::string url = env("TENURE_TEST_ETCD_URL");
    auto colon = url.rfind(':');
    return {url, colon == std::string::npos ? "" : url.substr(colon + 1),
            env("TENURE_TEST_ETCD_RESTART")};
  }
  return {};
}

struct Candidate {
  std::string identity;
  pid_t pid = -1;
  bool reaped = false;
  std::unique_ptr<FaultProxy> proxy;
};

// Stops every candidate as an operator would (SIGTERM: the command stops, then the lease is
// released) and, after 8 s, by force.
void stop_all(std::vector<Candidate>& cs) {
  std::vector<pid_t> leftovers;
  for (auto& c : cs) {
    if (c.reaped || c.pid <= 0) continue;
    for (pid_t p : descendants(c.pid)) leftovers.push_back(p);
    ::kill(c.pid, SIGCONT);
    ::kill(c.pid, SIGTERM);
  }
  signal_tree(leftovers, SIGCONT);
  auto deadline = now_ns() + 8'000'000'000LL;
  for (;;) {
    bool all = true;
    for (auto& c : cs) {
      if (c.reaped || c.pid <= 0) continue;
      int st;
      if (waitpid(c.pid, &st, WNOHANG) == c.pid)
        c.reaped = true;
      else
        all = false;
    }
    if (all) break;
    if (now_ns() > deadline) {
      for (auto& c : cs)
        if (!c.reaped && c.pid > 0) {
          ::kill(c.pid, SIGKILL);
          waitpid(c.pid, nullptr, 0);
          c.reaped = true;
        }
      break;
    }
    sleep_ms(20);
  }
  signal_tree(leftovers, SIGKILL);
}

// The candidate that wrote last, if it wrote within the last 100 ms.
const Write* current_writer(const std::vector<Write>& ws) {
  if (ws.empty() || now_ns() - ws.back().ns > 100'000'000) return nullptr;
  return &ws.back();
}

}  // namespace

const std::vector<Backend>& all_backends() {
  static const std::vector<Backend> v{Backend::file, Backend::redis, Backend::pg_lease,
                                      Backend::pg_session, Backend::etcd};
  return v;
}

const std::vector<Fault>& all_faults() {
  static const std::vector<Fault> v{
      Fault::hold_replies,  Fault::hold_requests, Fault::black_hole,
      Fault::delay_replies, Fault::reset,         Fault::server_restart,
      Fault::session_kill,  Fault::freeze,        Fault::kill9};
  return v;
}

std::string name(Backend b) {
  switch (b) {
    case Backend::file:
      return "file";
    case Backend::redis:
      return "redis";
    case Backend::pg_lease:
      return "pg-lease";
    case Backend::pg_session:
      return "pg-session";
    case Backend::etcd:
      return "etcd";
  }
  return "?";
}

std::string name(Fault f) {
  switch (f) {
    case Fault::hold_replies:
      return "hold-replies";
    case Fault::hold_requests:
      return "hold-requests";
    case Fault::black_hole:
      return "black-hole";
    case Fault::delay_replies:
      return "delay-replies";
    case Fault::reset:
      return "reset";
    case Fault::server_restart:
      return "server-restart";
    case Fault::session_kill:
      return "session-kill";
    case Fault::freeze:
      return "freeze";
    case Fault::kill9:
      return "kill9";
  }
  return "?";
}

std::optional<Backend> parse_backend(const std::string& s) {
  for (Backend b : all_backends())
    if (name(b) == s) return b;
  return std::nullopt;
}

std::optional<Fault> parse_fault(const std::string& s) {
  for (Fault f : all_faults())
    if (name(f) == s) return f;
  return std::nullopt;
}

bool applies(Backend b, Fault f) {
  if (b == Backend::etcd) return f != Fault::session_kill;
  return b != Backend::file || f == Fault::freeze || f == Fault::kill9;
}

bool must_fail_over(Fault f) {
  return f == Fault::hold_replies || f == Fault::hold_requests || f == Fault::black_hole ||
         f == Fault::freeze || f == Fault::kill9;
}

int request_timeout_ms(const TrialConfig& cfg) {
  // The core's one rule (request_timeout_for); the file backend has no request timeout.
  if (cfg.backend == Backend::file) return 0;
  return std::max(1, std::max((cfg.renew_ms - cfg.retry_ms) / 2, cfg.renew_ms / 4));
}

void fit_timing_to_backend(TrialConfig& cfg) {
  if (cfg.backend != Backend::etcd || cfg.lease_ms >= 2000) return;
  cfg.lease_ms = 2000;
  cfg.renew_ms = 1500;
}

std::optional<std::string> unavailable(Backend b) {
  if (b == Backend::redis &&
      (env("TENURE_TEST_REDIS_URL").empty() || env("TENURE_TEST_REDIS_PORT").empty() ||
       env("TENURE_TEST_REDIS_RESTART").empty()))
    return "TENURE_TEST_REDIS_URL/_PORT/_RESTART not set: start a server with "
           "'bash tests/servers/redis.sh start DIR' and source DIR/redis.env";
  if ((b == Backend::pg_lease || b == Backend::pg_session) &&
      (env("TENURE_TEST_POSTGRES_URL").empty() || env("TENURE_TEST_POSTGRES_PORT").empty() ||
       env("TENURE_TEST_POSTGRES_RESTART").empty()))
    return "TENURE_TEST_POSTGRES_URL/_PORT/_RESTART not set: start a server with "
           "'bash tests/servers/postgres.sh start DIR' and source DIR/postgres.env";
  if (b == Backend::etcd &&
      (env("TENURE_TEST_ETCD_URL").empty() || env("TENURE_TEST_ETCD_RESTART").empty()))
    return "TENURE_TEST_ETCD_URL/_RESTART not set: start the servers with "
           "'bash tests/servers/etcd.sh start DIR' and source DIR/etcd.env";
  return std::nullopt;
}

TrialResult run_trial(const TrialConfig& cfg) {
  TrialResult r;
  if (auto why = unavailable(cfg.backend)) {
    r.skipped = *why;
    return r;
  }
  char tmpl[] = "/tmp/tenure-faults-XXXXXX";
  if (!mkdtemp(tmpl)) {
    r.error = "mkdtemp failed";
    return r;
  }
  r.dir = tmpl;
  const std::string log = r.dir + "/writes.log";
  const std::string election = "faults-" + name(cfg.backend) + "-" + name(cfg.fault) + "-" +
                               std::to_string(getpid()) + "-" + std::to_string(now_ns() % 1000000);
  const Server srv = server_of(cfg.backend);

  std::vector<Candidate> cs(3);
  for (size_t i = 0; i < cs.size(); ++i) {
    Candidate& c = cs[i];
    c.identity = "cand-" + std::to_string(i);
    std::string url;
    if (cfg.backend == Backend::file) {
      url = "file://" + r.dir + "/lease";
    } else {
      c.proxy = std::make_unique<FaultProxy>(uint16_t(std::stoi(srv.port)));
      url = with_port(srv.url, srv.port, c.proxy->port());
      if (url.empty()) {
        r.error = "the server URL does not contain 127.0.0.1:" + srv.port;
        return r;
      }
      if (cfg.backend == Backend::pg_session)
        url += (url.find('?') == std::string::npos ? "?" : "&") + std::string("mode=session");
    }
    c.pid = spawn_in_own_group({cfg.cli,
                                "run",
                                "-b",
                                url,
                                "-e",
                                election,
                                "-i",
                                c.identity,
                                "--lease-duration",
                                std::to_string(cfg.lease_ms),
                                "--renew-deadline",
                                std::to_string(cfg.renew_ms),
                                "--retry-period",
                                std::to_string(cfg.retry_ms),
                                "--grace",
                                std::to_string(cfg.lease_ms - cfg.renew_ms),
                                "--",
                                cfg.writer,
                                log,
                                std::to_string(cfg.write_period_us)},
                               r.dir + "/" + c.identity + ".log");
    if (c.pid <= 0) {
      r.error = "cannot start " + cfg.cli;
      stop_all(cs);
      return r;
    }
  }

  // A leader writes, and the standbys have had a second to connect and wait.
  auto deadline = now_ns() + 15'000'000'000LL;
  while (read_write_log(log).empty() && now_ns() < deadline) sleep_ms(20);
  sleep_ms(1000);
  // On a loaded machine the writer may miss a few periods: look again for a while.
  std::vector<Write> before;
  const Write* w = nullptr;
  for (auto until = now_ns() + 3'000'000'000LL; !w && now_ns() < until; sleep_ms(10)) {
    before = read_write_log(log);
    w = current_writer(before);
  }
  if (!w) {
    r.error = "no leader writing 15 s after the start (see " + r.dir + "/cand-*.log)";
    stop_all(cs);
    return r;
  }
  r.old_leader = w->identity;
  r.old_token = w->token;
  Candidate& leader = *std::find_if(cs.begin(), cs.end(),
                                    [&](const Candidate& c) { return c.identity == w->identity; });

  const int64_t t_fault = now_ns();
  int64_t t_thaw = 0;
  int settle = cfg.instant_settle_ms;
  switch (cfg.fault) {
    case Fault::hold_replies:
    case Fault::hold_requests:
    case Fault::black_hole:
    case Fault::delay_replies:
      if (cfg.fault == Fault::hold_replies) leader.proxy->hold_server_to_client();
      if (cfg.fault == Fault::hold_requests) leader.proxy->hold_client_to_server();
      if (cfg.fault == Fault::black_hole) leader.proxy->black_hole();
      if (cfg.fault == Fault::delay_replies)
        leader.proxy->delay_replies(std::chrono::milliseconds(cfg.delay_ms));
      sleep_ms(cfg.fault_ms);
      leader.proxy->pass();
      settle = cfg.settle_ms;
      break;
    case Fault::reset:
      leader.proxy->reset_all();
      break;
    case Fault::server_restart:
      if (std::system(srv.restart.c_str()) != 0) r.error = "the restart command failed";
      break;
    case Fault::session_kill: {
      // Every connection the leader has open through its proxy (PostgreSQL: lock, shared and
      // listener connections), killed by the server as an operator would.
      auto ports = leader.proxy->server_side_ports();
      int killed = cfg.backend == Backend::redis
                       ? kill_redis_clients(uint16_t(std::stoi(srv.port)), ports)
                       : terminate_pg_backends(srv.url, ports);
      if (killed == 0) r.error = "the session kill found none of the leader's sessions";
      r.sessions_killed = killed;
      break;
    }
    case Fault::freeze: {
      // Commands first, then tenure: the whole tree stops, as a frozen pod does; thawed in the
      // opposite order, microseconds apart.
      auto tree = descendants(leader.pid);
      signal_tree(tree, SIGSTOP);
      ::kill(leader.pid, SIGSTOP);
      sleep_ms(cfg.fault_ms);
      t_thaw = now_ns();
      ::kill(leader.pid, SIGCONT);
      signal_tree(tree, SIGCONT);
      settle = cfg.settle_ms;
      break;
    }
    case Fault::kill9:
      ::kill(leader.pid, SIGKILL);
      waitpid(leader.pid, nullptr, 0);
      leader.reaped = true;
      break;
  }
  sleep_ms(settle);
  const int64_t t_end = now_ns();
  stop_all(cs);

  auto writes = read_write_log(log);
  r.check = check_writes(writes);
  int64_t last = t_fault;
  for (const Write& x : writes) {
    if (x.ns < t_fault || x.ns > t_end) continue;
    r.max_gap_ms = std::max(r.max_gap_ms, (x.ns - last) / 1e6);
    last = x.ns;
    if (r.failover_ms < 0 && x.token > r.old_token) {
      r.failover_ms = (x.ns - t_fault) / 1e6;
      r.new_leader = x.identity;
      r.new_token = x.token;
    }
    if (x.ns >= t_end - 1'000'000'000) r.resumed = true;
  }
  r.max_gap_ms = std::max(r.max_gap_ms, (t_end - last) / 1e6);

  // The invariant.
  auto& v = r.violations;
  for (uint64_t t : r.check.shared_tokens)
    v.push_back("token " + std::to_string(t) + " was written by more than one identity");
  if (r.check.regressions)
    v.push_back(std::to_string(r.check.regressions) +
                " term(s) started with a smaller token than an earlier term");
  if (cfg.fault == Fault::freeze) {
    // A frozen command writes again when it thaws, before its tenure can stop it: those writes
    // carry the old token, which is what fencing is for. Only they may be stale, and briefly.
    for (const Write& s : r.check.stale) {
      double after = (s.ns - t_thaw) / 1e6;
      r.stale_after_thaw_ms = std::max(r.stale_after_thaw_ms, after);
      if (s.identity != r.old_leader || s.ns < t_thaw || after > cfg.stale_after_thaw_limit_ms) {
        v.push_back("stale write by " + s.identity + " (token " + std::to_string(s.token) + ") " +
                    std::to_string(after) + " ms after the thaw");
        break;
      }
    }
  } else if (!r.check.stale.empty()) {
    std::ostringstream m;
    m << r.check.stale.size() << " stale write(s): two leaders' commands wrote at once for up to "
      << r.check.max_overlap_ms << " ms (first stale: " << r.check.stale.front().identity
      << " with token " << r.check.stale.front().token << ")";
    v.push_back(m.str());
  }
  r.unsafe = !v.empty();
  // The bounds.
  // server_restart: 3 s more for the restart itself; on etcd 1 s more again, since an etcd that
  // becomes leader extends every lease by its election timeout (1 s by default), the abandoned
  // lease of the leader's old key included.
  int bound = cfg.failover_bound_ms();
  if (cfg.fault == Fault::server_restart) bound += cfg.backend == Backend::etcd ? 4000 : 3000;
  if (must_fail_over(cfg.fault) && r.failover_ms < 0)
    v.push_back("no new term within " + std::to_string((t_end - t_fault) / 1000000) +
                " ms of the fault");
  if (r.failover_ms > bound)
    v.push_back("failover took " + std::to_string(int(r.failover_ms)) + " ms (bound " +
                std::to_string(bound) + " ms)");
  // Replies slower than usual but within the request timeout: every renewal succeeds, so the
  // leader must keep office, even when a renewal takes longer than lease - renew_deadline.
  if (cfg.fault == Fault::delay_replies && cfg.delay_ms + 50 <= request_timeout_ms(cfg) &&
      r.failover_ms >= 0)
    v.push_back("the leader lost office under replies delayed by " + std::to_string(cfg.delay_ms) +
                " ms, within the request timeout (" + std::to_string(request_timeout_ms(cfg)) +
                " ms)");
  if (!r.resumed) v.push_back("no command wrote in the last second of the trial: nobody leads");

  if (r.passed() && r.error.empty() && !cfg.keep_dir) std::filesystem::remove_all(r.dir);
  return r;
}

}  // namespace tenure::faults
