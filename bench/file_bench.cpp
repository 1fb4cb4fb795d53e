// file_bench: the file backend (file:///dir) measured on this machine. Prints figures next to the
// targets of issue 2; asserts nothing. What each figure measures is written beside its phase and
// in docs/benchmarks.md.
//
//   acquire     start() of a fresh elector on a free election -> its `elected` callback
//   release     stop() of a leader (releases the lease), call -> return
//   handover    in-process: leader's stop() called -> the waiting successor's `elected` callback
//   sigterm     cross-process: SIGTERM to a holder process (it stops and releases) -> `elected`
//   crash       SIGKILL to a holder process -> the successor's `elected` callback (in this
//               process); also kill -> holder exited (pidfd readable), the kernel's share
//   idle        N electors in a fresh process: RSS and CPU (user+sys / wall) over an idle window
//
// Timing is the default 15000/10000/2000 ms everywhere: a figure far below retry_period (2 s)
// means the push wake-up (inotify) did the work, not the polling fallback.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "child_process.hpp"
#include "tenure/elector.hpp"

namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;
namespace fs = std::filesystem;

const tenure::Timing kTiming{};  // the documented defaults: 15000 / 10000 / 2000 ms
constexpr auto kWait = std::chrono::seconds(20);  // bound on any single wait: never hang

double ms_between(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double, std::milli>(b - a).count();
}

// ---------------------------------------------------------------------------------------------
// Options

struct Args {
  int acquire = 200;
  int handover = 200;
  int sigterm = 50;
  int crash = 100;
  int electors = 1000;
  double idle_seconds = 20;
  std::string dir;     // parent of the scratch directory; default $TMPDIR or /tmp
  std::string holder;  // tenure_elector_child; default: the one this build made
  std::string only;    // comma-separated phases; empty: all
  tenure::Timing follower_timing = kTiming;  // of the idle followers (an experiment knob)
  std::string idle_child;  // internal: run one idle scenario in this (fresh) process
  std::string idle_dir;    // internal
};

void usage(const char* argv0) {
  std::printf(
      "usage: %s [options]\n"
      "  --acquire N       acquire/release cycles                      (default 200)\n"
      "  --handover N      in-process graceful handovers               (default 200)\n"
      "  --sigterm N       cross-process handovers (SIGTERM a holder)  (default 50)\n"
      "  --crash N         crash failovers (SIGKILL a holder)          (default 100)\n"
      "  --electors N      idle electors per idle scenario             (default 1000)\n"
      "  --idle-seconds S  idle measuring window per scenario          (default 20)\n"
      "  --follower-timing L/R/P  timing of the idle followers, ms     (default 15000/10000/2000)\n"
      "  --dir PATH        where to create the scratch directory       (default $TMPDIR or /tmp)\n"
      "  --holder PATH     the tenure_elector_child executable         (default: this build's)\n"
      "  --only LIST       phases to run, comma-separated: acquire,handover,sigterm,crash,idle\n"
      "A count of 0 skips that phase. The file system of --dir matters: every acquisition and\n"
      "release writes the lease record with fdatasync + directory fsync.\n",
      argv0);
}

bool parse_args(int argc, char** argv, Args& a) {
  for (int i = 1; i < argc; ++i) {
    std::string k = argv[i];
    if (k == "-h" || k == "--help") {
      usage(argv[0]);
      std::exit(0);
    }
    std::string v;
    if (auto eq = k.find('='); eq != std::string::npos) {
      v = k.substr(eq + 1);
      k = k.substr(0, eq);
    } else if (i + 1 < argc) {
      v = argv[++i];
    } else {
      std::fprintf(stderr, "%s needs a value (see --help)\n", k.c_str());
      return false;
    }
    try {
      if (k == "--acquire")
        a.acquire = std::stoi(v);
      else if (k == "--handover")
        a.handover = std::stoi(v);
      else if (k == "--sigterm")
        a.sigterm = std::stoi(v);
      else if (k == "--crash")
        a.crash = std::stoi(v);
      else if (k == "--electors")
        a.electors = std::stoi(v);
      else if (k == "--idle-seconds")
        a.idle_seconds = std::stod(v);
      else if (k == "--dir")
        a.dir = v;
      else if (k == "--holder")
        a.holder = v;
      else if (k == "--only")
        a.only = v;
      else if (k == "--follower-timing") {
        long long l = 0, r = 0, p = 0;
        if (std::sscanf(v.c_str(), "%lld/%lld/%lld", &l, &r, &p) != 3)
          throw std::invalid_argument(v);
        a.follower_timing = {milliseconds(l), milliseconds(r), milliseconds(p)};
        if (auto st = tenure::validate_timing(a.follower_timing); !st.ok()) {
          std::fprintf(stderr, "--follower-timing: %s\n", st.message.c_str());
          return false;
        }
      } else if (k == "--idle-child")
        a.idle_child = v;
      else if (k == "--idle-dir")
        a.idle_dir = v;
      else {
        std::fprintf(stderr, "unknown option %s (see --help)\n", k.c_str());
        return false;
      }
    } catch (const std::exception&) {
      std::fprintf(stderr, "%s: '%s' is not a valid value\n", k.c_str(), v.c_str());
      return false;
    }
  }
  return true;
}

bool wanted(const Args& a, const std::string& phase) {
  if (a.only.empty()) return true;
  std::stringstream ss(a.only);
  for (std::string p; std::getline(ss, p, ',');)
    if (p == phase) return true;
  return false;
}

// ---------------------------------------------------------------------------------------------
// Small system helpers

std::string self_exe() {
  std::error_code ec;
  auto p = fs::read_symlink("/proc/self/exe", ec);
  return ec ? std::string() : p.string();
}

std::string status_field(const char* key) {  // from /proc/self/status, e.g. "VmRSS"
  std::ifstream f("/proc/self/status");
  std::string line;
  std::string prefix = std::string(key) + ":";
  while (std::getline(f, line))
    if (line.rfind(prefix, 0) == 0) {
      auto v = line.substr(prefix.size());
      v.erase(0, v.find_first_not_of(" \t"));
      return v;
    }
  return {};
}

long status_kb(const char* key) { return std::atol(status_field(key).c_str()); }

std::string loadavg() {
  std::ifstream f("/proc/loadavg");
  std::string a, b, c;
  f >> a >> b >> c;
  return a + " " + b + " " + c;
}

std::string fs_type(const std::string& path) {
  struct statfs s {};
  if (::statfs(path.c_str(), &s) != 0) return "?";
  switch (static_cast<unsigned long>(s.f_type)) {
    case 0xEF53:
      return "ext4";
    case 0x01021994:
      return "tmpfs";
    case 0x58465342:
      return "xfs";
    case 0x9123683E:
      return "btrfs";
    case 0x794c7630:
      return "overlayfs";
    case 0x2FC12FC1:
      return "zfs";
    default: {
      char buf[32];
      std::snprintf(buf, sizeof buf, "0x%lx", static_cast<unsigned long>(s.f_type));
      return buf;
    }
  }
}

std::string today() {
  std::time_t t = std::time(nullptr);
  char buf[64];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M %Z", std::localtime(&t));
  return buf;
}

void raise_fd_limit(rlim_t want) {
  struct rlimit rl {};
  if (::getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur >= want) return;
  rl.rlim_cur = std::min(want, rl.rlim_max);
  ::setrlimit(RLIMIT_NOFILE, &rl);
}

using tenure::tools::ChildProcess;

// posix_spawn (never fork: this process runs tenure's threads); nullptr when it cannot start.
std::unique_ptr<ChildProcess> spawn(const std::vector<std::string>& argv) {
  auto c = std::make_unique<ChildProcess>(argv);
  if (!c->started()) {
    std::fprintf(stderr, "cannot start %s\n", argv[0].c_str());
    return nullptr;
  }
  return c;
}

int pidfd_open(pid_t pid) { return static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)); }

// Blocks until the process of a pidfd has exited (not reaped); returns when it was seen.
std::optional<Clock::time_point> wait_exited(int fd, Clock::duration timeout) {
  if (fd < 0) return std::nullopt;
  pollfd p{fd, POLLIN, 0};
  int n =
      ::poll(&p, 1, static_cast<int>(std::chrono::duration_cast<milliseconds>(timeout).count()));
  auto t = Clock::now();
  ::close(fd);
  if (n <= 0) return std::nullopt;
  return t;
}

// ---------------------------------------------------------------------------------------------
// Statistics

struct Stats {
  std::vector<double> v;  // milliseconds
  int failed = 0;

  void add(double ms) { v.push_back(ms); }
  double pct(double q) {  // nearest rank
    if (v.empty()) return NAN;
    std::sort(v.begin(), v.end());
    size_t rank = static_cast<size_t>(std::ceil(q * static_cast<double>(v.size())));
    return v[std::clamp<size_t>(rank, 1, v.size()) - 1];
  }
  double max() { return v.empty() ? NAN : *std::max_element(v.begin(), v.end()); }
};

// ---------------------------------------------------------------------------------------------
// An elector and what its callback saw, with the steady-clock time of `elected`.

struct Probe {
  std::mutex mu;
  std::condition_variable cv;
  std::optional<Clock::time_point> elected_at;
  uint64_t token = 0;
  std::string leader;  // from the last leader_changed
  bool saw_leader = false;
  std::string last_error;

  void on(const tenure::Event& e) {
    auto t = Clock::now();  // first thing: the callback's entry is the measured instant
    std::lock_guard lock(mu);
    switch (e.type) {
      case tenure::EventType::elected:
        elected_at = t;
        token = e.token;
        break;
      case tenure::EventType::leader_changed:
        leader = e.leader;
        saw_leader = true;
        break;
      case tenure::EventType::error:
        last_error = e.message;
        break;
      case tenure::EventType::revoked:
        break;
    }
    cv.notify_all();
  }
  std::optional<Clock::time_point> wait_elected(Clock::duration d = kWait) {
    std::unique_lock lock(mu);
    cv.wait_for(lock, d, [&] { return elected_at.has_value(); });
    return elected_at;
  }
  bool wait_leader(const std::string& who, Clock::duration d = kWait) {
    std::unique_lock lock(mu);
    return cv.wait_for(lock, d, [&] { return saw_leader && leader == who; });
  }
};

struct Candidate {
  std::unique_ptr<tenure::Elector> elector;
  std::shared_ptr<Probe> probe = std::make_shared<Probe>();
};

std::optional<Candidate> make_candidate(const std::string& url, const std::string& election,
                                        const std::string& identity) {
  tenure::ElectorOptions o;
  o.backend_url = url;
  o.election = election;
  o.identity = identity;
  o.timing = kTiming;
  auto e = tenure::Elector::create(o);
  if (!e.ok()) {
    std::fprintf(stderr, "Elector::create(%s, %s): %s\n", url.c_str(), election.c_str(),
                 e.status.message.c_str());
    return std::nullopt;
  }
  Candidate c;
  c.elector = std::move(e.value);
  c.elector->set_callback([p = c.probe](const tenure::Event& ev) { p->on(ev); });
  return c;
}

std::string url_of(const std::string& dir) { return "file://" + dir; }

// ---------------------------------------------------------------------------------------------
// Phases

// start() of a fresh elector on a free election -> elected; then stop() (the release), timed
// on its own. A fresh elector each cycle because a stopped elector does not start again, and
// resign() sits out a retry period by design.
void bench_acquire(const std::string& dir, int n, Stats& acq, Stats& rel) {
  std::string url = url_of(dir);
  for (int i = -1; i < n; ++i) {  // i == -1: warm-up, not counted
    auto c = make_candidate(url, "acquire", "acq");
    if (!c) {
      ++acq.failed;
      continue;
    }
    auto t0 = Clock::now();
    c->elector->start();
    auto t1 = c->probe->wait_elected();
    if (!t1) {
      ++acq.failed;
      std::fprintf(stderr, "acquire: not elected within %lld s (%s)\n",
                   static_cast<long long>(kWait.count()), c->probe->last_error.c_str());
      continue;
    }
    auto t2 = Clock::now();
    c->elector->stop();
    auto t3 = Clock::now();
    if (i < 0) continue;
    acq.add(ms_between(t0, *t1));
    rel.add(ms_between(t2, t3));
  }
}

// Leader and successor in this process. Each round a new candidate joins, waits until it has
// seen the leader (its first attempt is done, it now waits for a push), then the leader stops.
void bench_handover(const std::string& dir, int n, Stats& st) {
  std::string url = url_of(dir);
  auto leader = make_candidate(url, "handover", "h0");
  if (!leader) return;
  leader->elector->start();
  if (!leader->probe->wait_elected()) {
    std::fprintf(stderr, "handover: the first leader was not elected\n");
    return;
  }
  for (int i = 1; i <= n; ++i) {
    std::string id = "h" + std::to_string(i);
    auto next = make_candidate(url, "handover", id);
    if (!next) break;
    next->elector->start();
    if (!next->probe->wait_leader("h" + std::to_string(i - 1))) {
      ++st.failed;
      std::fprintf(stderr, "handover: %s never saw the leader\n", id.c_str());
    }
    auto t0 = Clock::now();
    leader->elector->stop();
    auto t1 = next->probe->wait_elected();
    if (t1)
      st.add(ms_between(t0, *t1));
    else
      ++st.failed;
    leader = std::move(next);
  }
  leader->elector->stop();
}

// A holder process leads; the successor waits in this process; then the holder gets `sig`.
// SIGKILL: crash failover (the kernel closes the dead holder's lock file, inotify wakes us).
// SIGTERM: the holder stops and releases, as the CLI and bindings do on SIGTERM.
void bench_cross_process(const std::string& dir, const std::string& holder, int n, int sig,
                         Stats& st, Stats* exited) {
  std::string url = url_of(dir);
  std::string election = sig == SIGKILL ? "crash" : "sigterm";
  for (int i = 0; i < n; ++i) {
    std::string hid = "holder" + std::to_string(i);
    auto child = spawn({holder, url, election, hid, std::to_string(kTiming.lease_duration.count()),
                        std::to_string(kTiming.renew_deadline.count()),
                        std::to_string(kTiming.retry_period.count())});
    if (!child) {
      ++st.failed;
      return;
    }
    if (child->wait_line("elected", std::chrono::duration_cast<milliseconds>(kWait)).empty()) {
      std::fprintf(stderr, "%s: the holder was not elected\n", election.c_str());
      ++st.failed;
      continue;
    }
    auto succ = make_candidate(url, election, "successor" + std::to_string(i));
    if (!succ) {
      ++st.failed;
      continue;
    }
    succ->elector->start();
    if (!succ->probe->wait_leader(hid))
      std::fprintf(stderr, "%s: the successor never saw the holder\n", election.c_str());
    std::this_thread::sleep_for(milliseconds(5));  // both sides idle: no request in flight
    int pidfd = exited ? pidfd_open(child->pid()) : -1;
    auto t0 = Clock::now();
    child->kill(sig);
    if (exited) {
      if (auto te = wait_exited(pidfd, kWait)) exited->add(ms_between(t0, *te));
    }
    auto t1 = succ->probe->wait_elected();
    if (t1)
      st.add(ms_between(t0, *t1));
    else
      ++st.failed;
    child->wait();
    succ->elector->stop();
  }
}

// ---------------------------------------------------------------------------------------------
// Idle electors: runs in a fresh process (--idle-child) so its RSS baseline is clean.
//   leaders: N elections, one elector each (N leaders renewing every retry_period)
//   mixed:   N/2 elections, two electors each (N/2 leaders, N/2 followers)

struct IdleResult {
  std::map<std::string, double> v;
  bool ok = false;
};

int idle_child_main(const Args& a) {
  long rss0 = status_kb("VmRSS");
  bool mixed = a.idle_child == "mixed";
  int n = a.electors;
  int elections = mixed ? n / 2 : n;
  raise_fd_limit(static_cast<rlim_t>(n) + 256);  // one lock-file descriptor per elector
  std::string url = url_of(a.idle_dir);
  std::atomic<int> elected{0}, errors{0};
  std::vector<std::unique_ptr<tenure::Elector>> es;
  es.reserve(static_cast<size_t>(n));
  auto ts = Clock::now();
  // Electors [0, elections) lead their election: they start first, and the followers
  // [elections, n) join once every election has its leader.
  auto start_range = [&](int from, int to, const tenure::Timing& timing) {
    for (int i = from; i < to; ++i) {
      tenure::ElectorOptions o;
      o.backend_url = url;
      o.election = std::string("idle") += std::to_string(i % elections);
      o.identity = std::string("e") += std::to_string(i);
      o.timing = timing;
      auto e = tenure::Elector::create(o);
      if (!e.ok()) {
        std::fprintf(stderr, "idle: elector %d: %s\n", i, e.status.message.c_str());
        return false;
      }
      e.value->set_callback([&](const tenure::Event& ev) {
        if (ev.type == tenure::EventType::elected) ++elected;
        if (ev.type == tenure::EventType::error && errors++ == 0)
          std::fprintf(stderr, "idle: %s\n", ev.message.c_str());
      });
      if (auto s = e.value->start(); !s.ok()) {
        std::fprintf(stderr, "idle: start %d: %s\n", i, s.message.c_str());
        return false;
      }
      es.push_back(std::move(e.value));
    }
    return true;
  };
  if (!start_range(0, elections, kTiming)) {
    std::printf("IDLE failed=1\n");
    return 1;
  }
  while (elected.load() < elections && Clock::now() - ts < std::chrono::seconds(60))
    std::this_thread::sleep_for(milliseconds(5));
  if (!start_range(elections, n, a.follower_timing)) {
    std::printf("IDLE failed=1\n");
    return 1;
  }
  double setup_ms = ms_between(ts, Clock::now());
  // Settle: every elector has done at least one full retry/renew cycle before we measure.
  auto settle = std::max(kTiming.retry_period, a.follower_timing.retry_period);
  std::this_thread::sleep_for(settle + settle / 2);

  auto sum = [&](auto field) {
    uint64_t s = 0;
    for (auto& e : es) s += field(e->metrics());
    return s;
  };
  auto renewals = [](const tenure::MetricsSnapshot& m) { return m.renewals; };
  auto acquisitions = [](const tenure::MetricsSnapshot& m) { return m.acquisitions; };
  auto stepdowns = [](const tenure::MetricsSnapshot& m) {
    return m.step_downs_lost + m.step_downs_renew_deadline + m.step_downs_backend_error +
           m.step_downs_released + m.step_downs_stopped;
  };
  int leaders = 0;
  for (auto& e : es) leaders += e->status().is_leader ? 1 : 0;

  long rss1 = status_kb("VmRSS");
  uint64_t ren0 = sum(renewals), acq0 = sum(acquisitions), sd0 = sum(stepdowns);
  rusage r0{}, r1{};
  ::getrusage(RUSAGE_SELF, &r0);
  auto w0 = Clock::now();
  std::this_thread::sleep_for(std::chrono::duration<double>(a.idle_seconds));
  ::getrusage(RUSAGE_SELF, &r1);
  auto w1 = Clock::now();
  long rss2 = status_kb("VmRSS");
  uint64_t ren1 = sum(renewals), acq1 = sum(acquisitions), sd1 = sum(stepdowns);

  auto secs = [](const timeval& t) { return static_cast<double>(t.tv_sec) + t.tv_usec / 1e6; };
  double user = secs(r1.ru_utime) - secs(r0.ru_utime);
  double sys = secs(r1.ru_stime) - secs(r0.ru_stime);
  double wall = std::chrono::duration<double>(w1 - w0).count();
  size_t fds = 0;
  for ([[maybe_unused]] auto& d : fs::directory_iterator("/proc/self/fd")) ++fds;

  std::printf(
      "IDLE ok=1 electors=%d elections=%d leaders=%d setup_ms=%.0f rss0_kb=%ld rss1_kb=%ld "
      "rss2_kb=%ld hwm_kb=%ld user_s=%.4f sys_s=%.4f wall_s=%.3f renewals=%llu acquisitions=%llu "
      "stepdowns=%llu threads=%s fds=%zu errors=%d\n",
      n, elections, leaders, setup_ms, rss0, rss1, rss2, status_kb("VmHWM"), user, sys, wall,
      static_cast<unsigned long long>(ren1 - ren0), static_cast<unsigned long long>(acq1 - acq0),
      static_cast<unsigned long long>(sd1 - sd0), status_field("Threads").c_str(), fds,
      errors.load());
  std::fflush(stdout);
  // No orderly teardown: stopping 1,000 leaders would write 1,000 records. The kernel drops
  // every lock when the process exits, which is all the files need.
  std::_Exit(0);
}

IdleResult run_idle(const Args& a, const std::string& mode, const std::string& dir) {
  IdleResult r;
  fs::create_directories(dir);
  std::string exe = self_exe();
  char secs[32];
  std::snprintf(secs, sizeof secs, "%g", a.idle_seconds);
  const auto& ft = a.follower_timing;
  std::string ftiming = std::to_string(ft.lease_duration.count()) + "/" +
                        std::to_string(ft.renew_deadline.count()) + "/" +
                        std::to_string(ft.retry_period.count());
  auto child =
      spawn({exe, "--idle-child", mode, "--idle-dir", dir, "--electors", std::to_string(a.electors),
             "--idle-seconds", secs, "--follower-timing", ftiming});
  if (!child) return r;
  auto budget = std::chrono::seconds(90) + std::chrono::duration_cast<std::chrono::seconds>(
                                               std::chrono::duration<double>(a.idle_seconds));
  auto line = child->wait_line("IDLE", std::chrono::duration_cast<milliseconds>(budget));
  if (line.empty()) child->kill(SIGKILL);
  child->wait();
  if (line.empty()) return r;
  std::stringstream ss(line.substr(5));
  for (std::string kv; ss >> kv;) {
    auto eq = kv.find('=');
    if (eq == std::string::npos) continue;
    r.v[kv.substr(0, eq)] = std::atof(kv.substr(eq + 1).c_str());
  }
  r.ok = r.v["ok"] == 1;
  return r;
}

// ---------------------------------------------------------------------------------------------
// Report

void row(const char* name, Stats& s, const char* target, double limit_p50) {
  if (s.v.empty()) {
    std::printf("%-40s %5d   %s\n", name, 0, s.failed ? "(all failed)" : "(skipped)");
    return;
  }
  char met[16] = "";
  if (limit_p50 > 0)
    std::snprintf(met, sizeof met, "%s", s.pct(0.5) < limit_p50 ? "met" : "MISSED");
  std::printf("%-40s %5zu %8.3f %8.3f %8.3f %8.3f   %-12s %s", name, s.v.size(), s.pct(0.5),
              s.pct(0.9), s.pct(0.99), s.max(), target, met);
  if (s.failed) std::printf("  (%d failed)", s.failed);
  std::printf("\n");
}

void idle_row(const char* name, IdleResult& r) {
  if (!r.ok) {
    std::printf("%-30s (failed; see stderr)\n", name);
    return;
  }
  auto mib = [](double kb) { return kb / 1024.0; };
  double cpu = 100.0 * (r.v["user_s"] + r.v["sys_s"]) / r.v["wall_s"];
  double rss = mib(r.v["rss2_kb"]);
  bool ok = rss < 64 && cpu < 2;
  std::printf("%-30s %5.0f %7.0f %8.1f %8.1f %8.1f %8.2f %6.2f %6.2f   %-14s %s\n", name,
              r.v["electors"], r.v["leaders"], mib(r.v["rss0_kb"]), rss, rss - mib(r.v["rss0_kb"]),
              cpu, 100.0 * r.v["user_s"] / r.v["wall_s"], 100.0 * r.v["sys_s"] / r.v["wall_s"],
              "<64 MiB, <2%", ok ? "met" : "MISSED");
}

void idle_details(const char* name, IdleResult& r) {
  if (!r.ok) return;
  std::printf(
      "  %s: setup %.0f ms (all elected), %.0f renewals and %.0f acquisitions and %.0f "
      "step-downs in the window (%.1f s), %.0f threads, %.0f fds, peak RSS %.1f MiB\n",
      name, r.v["setup_ms"], r.v["renewals"], r.v["acquisitions"], r.v["stepdowns"], r.v["wall_s"],
      r.v["threads"], r.v["fds"], r.v["hwm_kb"] / 1024.0);
}

}  // namespace

int main(int argc, char** argv) {
  Args a;
  if (!parse_args(argc, argv, a)) return 2;
  if (!a.idle_child.empty()) return idle_child_main(a);

  std::string base = a.dir;
  if (base.empty()) base = std::getenv("TMPDIR") ? std::getenv("TMPDIR") : "/tmp";
  std::string tmpl = base + "/tenure-bench-XXXXXX";
  std::vector<char> buf(tmpl.begin(), tmpl.end());
  buf.push_back('\0');
  if (!::mkdtemp(buf.data())) {
    std::fprintf(stderr, "cannot create a directory in %s: %s\n", base.c_str(),
                 std::strerror(errno));
    return 1;
  }
  std::string dir = buf.data();
  std::string holder = a.holder;
  if (holder.empty()) holder = TENURE_ELECTOR_CHILD;
  bool need_holder = (wanted(a, "crash") && a.crash > 0) || (wanted(a, "sigterm") && a.sigterm > 0);
  if (need_holder && ::access(holder.c_str(), X_OK) != 0) {
    std::fprintf(stderr, "cannot run %s (build the tenure_elector_child target or pass --holder)\n",
                 holder.c_str());
    return 1;
  }

  std::string load0 = loadavg();
  std::printf("tenure file backend benchmark, %s\n", today().c_str());
  std::printf("  %u CPUs, load average %s, scratch %s (%s)\n", std::thread::hardware_concurrency(),
              load0.c_str(), dir.c_str(), fs_type(dir).c_str());
  auto timing_text = [](const tenure::Timing& t) {
    return std::to_string(t.lease_duration.count()) + "/" +
           std::to_string(t.renew_deadline.count()) + "/" + std::to_string(t.retry_period.count()) +
           " ms";
  };
  std::printf("  timing %s (lease/renew deadline/retry)", timing_text(kTiming).c_str());
  if (timing_text(a.follower_timing) != timing_text(kTiming))
    std::printf("; idle followers %s", timing_text(a.follower_timing).c_str());
  std::printf("\n\n");
  std::fflush(stdout);

  Stats acq, rel, hand, term, crash, crash_exit;
  IdleResult idle_leaders, idle_mixed;
  auto t_start = Clock::now();
  // Idle first, each in its own fresh process, while this one has no tenure threads yet.
  if (wanted(a, "idle") && a.electors > 0) {
    idle_leaders = run_idle(a, "leaders", dir + "/idle-leaders");
    idle_mixed = run_idle(a, "mixed", dir + "/idle-mixed");
  }
  {
    // An elector that lives through the latency phases, as in a process that runs others: the
    // shared runtime, file pool and inotify hub are up, so no phase measures their start-up.
    fs::create_directories(dir + "/anchor");
    auto anchor = make_candidate(url_of(dir + "/anchor"), "anchor", "anchor");
    if (anchor) anchor->elector->start();
    auto sub = [&](const char* name) {
      fs::create_directories(dir + "/" + name);
      return dir + "/" + name;
    };
    if (wanted(a, "acquire") && a.acquire > 0) bench_acquire(sub("acquire"), a.acquire, acq, rel);
    if (wanted(a, "handover") && a.handover > 0) bench_handover(sub("handover"), a.handover, hand);
    if (wanted(a, "sigterm") && a.sigterm > 0)
      bench_cross_process(sub("sigterm"), holder, a.sigterm, SIGTERM, term, nullptr);
    if (wanted(a, "crash") && a.crash > 0)
      bench_cross_process(sub("crash"), holder, a.crash, SIGKILL, crash, &crash_exit);
    if (anchor) anchor->elector->stop();
  }
  double total_s = std::chrono::duration<double>(Clock::now() - t_start).count();

  std::printf("%-40s %5s %8s %8s %8s %8s   %s\n", "latency (ms)", "n", "p50", "p90", "p99", "max",
              "target");
  row("acquire: start() -> elected", acq, "-", 0);
  row("release: leader's stop() returns", rel, "-", 0);
  row("graceful handover: stop() -> elected", hand, "p50 < 2 ms", 2);
  row("handover, other process: SIGTERM ->", term, "-", 0);
  row("crash failover: SIGKILL -> elected", crash, "p50 < 10 ms", 10);
  row("  of which SIGKILL -> holder exited", crash_exit, "-", 0);
  std::printf("\n%-30s %5s %7s %8s %8s %8s %8s %6s %6s   %s\n", "idle electors", "n", "leaders",
              "RSS0 MiB", "RSS MiB", "+MiB", "CPU %", "usr %", "sys %", "target");
  if (wanted(a, "idle") && a.electors > 0) {
    idle_row("all leaders (own elections)", idle_leaders);
    idle_row("half leaders, half followers", idle_mixed);
    idle_details("all leaders", idle_leaders);
    idle_details("half/half", idle_mixed);
  } else {
    std::printf("(skipped)\n");
  }
  std::printf(
      "\nCPU %% is of one core: (user+sys) / wall over the idle window; RSS0 is the fresh process\n"
      "before its first elector, RSS after the window. Total run %.0f s; load average at the end "
      "%s.\n",
      total_s, loadavg().c_str());

  std::error_code ec;
  fs::remove_all(dir, ec);
  return 0;
}
