// postgres_bench: the PostgreSQL backend measured against a real server, in both modes. Prints
// figures next to the targets of issue 4; asserts nothing.
//
//   acquire   start() of a fresh elector on a free election -> its `elected` callback. Another
//             elector on the same URL stays up, so lease mode measures the statements on the
//             shared, already-open connection; in session mode each elector is stopped before the
//             next starts, so the next one reuses its lock connection (the hub keeps idle ones).
//   acquire, new lock connection (session mode): the earlier electors keep running, so every
//             new one opens its own lock connection (TCP, TLS, SCRAM, a fresh server process):
//             what the first session-mode elector of a process pays.
//   handover  in-process: the leader's stop() called -> the waiting standby's `elected` callback
//   baseline  the server's own cost, with plain blocking libpq on one connection: SELECT 1, and
//             a durable single-row upsert (the floor under every acquire, release and renewal:
//             its commit waits for the WAL fsync)
//   crash     SIGKILL to a leader process (tenure_elector_child) -> the standby's `elected`
//
// Timing: lease_duration 1000 ms, renew_deadline 700 ms, retry_period 250 ms. A figure far below
// 250 ms means the push wake-up (NOTIFY, or the blocked advisory lock) did the work, not polling.
//
// Usage: postgres_bench [URL] [--acquire N] [--handover N] [--crash N] [--holder PATH]
// URL defaults to $TENURE_TEST_POSTGRES_URL (tests/servers/postgres.sh start DIR; source
// DIR/postgres.env).
#include <libpq-fe.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "child_process.hpp"
#include "tenure/elector.hpp"

namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

const tenure::Timing kTiming{milliseconds(1000), milliseconds(700), milliseconds(250)};

double ms_between(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double, std::milli>(b - a).count();
}

// Records when an elector was elected and which leader it saw last.
struct Watch {
  std::mutex mu;
  std::condition_variable cv;
  bool elected = false;
  Clock::time_point elected_at;
  std::string leader;
  std::string last_error;

  tenure::EventCallback cb() {
    return [this](const tenure::Event& e) {
      std::lock_guard lk(mu);
      if (e.type == tenure::EventType::elected) {
        elected = true;
        elected_at = Clock::now();
      } else if (e.type == tenure::EventType::leader_changed) {
        leader = e.leader;
      } else if (e.type == tenure::EventType::error) {
        last_error = e.message;
      }
      cv.notify_all();
    };
  }
  bool wait_elected(milliseconds limit) {
    std::unique_lock lk(mu);
    return cv.wait_for(lk, limit, [&] { return elected; });
  }
  bool wait_leader(const std::string& who, milliseconds limit) {
    std::unique_lock lk(mu);
    return cv.wait_for(lk, limit, [&] { return leader == who; });
  }
};

struct Running {
  std::unique_ptr<Watch> w = std::make_unique<Watch>();
  std::unique_ptr<tenure::Elector> e;
};

int g_seq = 0;
std::string fresh(const char* what) {
  return std::string("bench-") + what + "-" + std::to_string(::getpid()) + "-" +
         std::to_string(g_seq++);
}

Running start(const std::string& url, const std::string& election, const std::string& id,
              bool observe = false) {
  tenure::ElectorOptions o;
  o.backend_url = url;
  o.election = election;
  o.identity = id;
  o.timing = kTiming;
  o.observe_only = observe;
  Running r;
  auto e = tenure::Elector::create(o);
  if (!e.ok()) {
    std::fprintf(stderr, "create: %s\n", e.status.message.c_str());
    std::exit(1);
  }
  r.e = std::move(e.value);
  r.e->set_callback(r.w->cb());
  r.e->start();
  return r;
}

void report(const char* what, std::vector<double> v, const char* target) {
  if (v.empty()) {
    std::printf("  %-28s no samples\n", what);
    return;
  }
  std::sort(v.begin(), v.end());
  auto pct = [&](double p) {
    return v[std::min(v.size() - 1, static_cast<size_t>(p * (v.size() - 1) + 0.5))];
  };
  std::printf("  %-28s n=%-4zu p50 %8.2f ms  p99 %8.2f ms  min %8.2f  max %8.2f   (target: %s)\n",
              what, v.size(), pct(0.50), pct(0.99), v.front(), v.back(), target);
  std::fflush(stdout);
}

std::vector<double> bench_acquire(const std::string& url, int n) {
  std::vector<double> out;
  auto keeper = start(url, fresh("keeper"), "keeper");  // keeps the shared connection open
  keeper.w->wait_elected(milliseconds(5000));
  for (int i = 0; i < n; ++i) {
    const auto t0 = Clock::now();
    auto r = start(url, fresh("acq"), "a");
    if (!r.w->wait_elected(milliseconds(5000))) {
      std::fprintf(stderr, "acquire: not elected (%s)\n", r.w->last_error.c_str());
      continue;
    }
    out.push_back(ms_between(t0, r.w->elected_at));
    r.e->stop();
  }
  keeper.e->stop();
  return out;
}

std::vector<double> bench_acquire_new_connection(const std::string& url, int n) {
  std::vector<double> out;
  std::vector<Running> running;
  auto keeper = start(url, fresh("keeper"), "keeper");
  keeper.w->wait_elected(milliseconds(5000));
  for (int i = 0; i < n; ++i) {
    const auto t0 = Clock::now();
    running.push_back(start(url, fresh("acqnew"), "a"));
    if (!running.back().w->wait_elected(milliseconds(5000))) {
      std::fprintf(stderr, "acquire: not elected (%s)\n", running.back().w->last_error.c_str());
      continue;
    }
    out.push_back(ms_between(t0, running.back().w->elected_at));
  }
  for (auto& r : running) r.e->stop();
  keeper.e->stop();
  return out;
}

std::vector<double> bench_handover(const std::string& url, int n) {
  std::vector<double> out;
  for (int i = 0; i < n; ++i) {
    const std::string el = fresh("ho");
    auto a = start(url, el, "alpha");
    if (!a.w->wait_elected(milliseconds(5000))) continue;
    auto b = start(url, el, "beta");
    if (!b.w->wait_leader("alpha", milliseconds(5000))) continue;
    std::this_thread::sleep_for(milliseconds(30));
    const auto t0 = Clock::now();
    a.e->stop();
    if (!b.w->wait_elected(milliseconds(5000))) {
      std::fprintf(stderr, "handover: standby not elected\n");
      continue;
    }
    out.push_back(ms_between(t0, b.w->elected_at));
    b.e->stop();
  }
  return out;
}

std::vector<double> bench_crash(const std::string& url, const std::string& holder, int n) {
  std::vector<double> out;
  for (int i = 0; i < n; ++i) {
    const std::string el = fresh("crash");
    tenure::tools::ChildProcess holder_proc({holder, url, el, "holder",
                                             std::to_string(kTiming.lease_duration.count()),
                                             std::to_string(kTiming.renew_deadline.count()),
                                             std::to_string(kTiming.retry_period.count())});
    if (!holder_proc.started() || holder_proc.wait_line("elected", milliseconds(10000)).empty()) {
      std::fprintf(stderr, "crash: holder did not lead\n");
      for (const auto& l : holder_proc.lines()) std::fprintf(stderr, "  holder: %s\n", l.c_str());
      continue;
    }
    auto b = start(url, el, "standby");
    if (!b.w->wait_leader("holder", milliseconds(5000))) continue;
    std::this_thread::sleep_for(milliseconds(50));
    const auto t0 = Clock::now();
    holder_proc.kill(SIGKILL);
    holder_proc.wait();
    if (!b.w->wait_elected(milliseconds(10000))) {
      std::fprintf(stderr, "crash: standby not elected\n");
      continue;
    }
    out.push_back(ms_between(t0, b.w->elected_at));
    b.e->stop();
  }
  return out;
}

// Statement round trips with plain libpq: what the server and the disk cost, without tenure.
void baseline(const std::string& url, int n) {
  PGconn* c = PQconnectdb(url.c_str());  // the same libpq parameters (sslmode, ...) as the electors
  if (PQstatus(c) != CONNECTION_OK) {
    std::printf("  baseline: cannot connect: %s", PQerrorMessage(c));
    PQfinish(c);
    return;
  }
  auto timed = [&](const char* sql) {
    std::vector<double> v;
    for (int i = 0; i < n; ++i) {
      const auto t0 = Clock::now();
      PQclear(PQexec(c, sql));
      v.push_back(ms_between(t0, Clock::now()));
    }
    return v;
  };
  PQclear(PQexec(
      c, "CREATE TABLE IF NOT EXISTS tenure_bench_baseline (k text PRIMARY KEY, at timestamptz)"));
  report("libpq SELECT 1", timed("SELECT 1"), "-");
  report("libpq upsert (one commit)",
         timed("INSERT INTO tenure_bench_baseline VALUES ('k', now()) ON CONFLICT (k) DO "
               "UPDATE SET at = now()"),
         "-");
  PQclear(PQexec(c, "DROP TABLE tenure_bench_baseline"));
  PQfinish(c);
}

}  // namespace

int main(int argc, char** argv) {
  std::string url;
  int n_acquire = 200, n_handover = 100, n_crash = 10;
  std::string holder = TENURE_ELECTOR_CHILD;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&] { return i + 1 < argc ? std::string(argv[++i]) : std::string(); };
    if (a == "--acquire")
      n_acquire = std::stoi(next());
    else if (a == "--handover")
      n_handover = std::stoi(next());
    else if (a == "--crash")
      n_crash = std::stoi(next());
    else if (a == "--holder")
      holder = next();
    else if (a == "-h" || a == "--help") {
      std::printf("usage: %s [URL] [--acquire N] [--handover N] [--crash N] [--holder PATH]\n",
                  argv[0]);
      return 0;
    } else
      url = a;
  }
  if (url.empty() && std::getenv("TENURE_TEST_POSTGRES_URL"))
    url = std::getenv("TENURE_TEST_POSTGRES_URL");
  if (url.empty()) {
    std::fprintf(stderr,
                 "no URL: pass one, or run tests/servers/postgres.sh start DIR && source "
                 "DIR/postgres.env\n");
    return 2;
  }
  const bool have_holder = ::access(holder.c_str(), X_OK) == 0;
  std::printf(
      "postgres_bench: lease_duration %lld ms, renew_deadline %lld ms, retry_period %lld ms\n",
      static_cast<long long>(kTiming.lease_duration.count()),
      static_cast<long long>(kTiming.renew_deadline.count()),
      static_cast<long long>(kTiming.retry_period.count()));
  std::printf("server baseline\n");
  baseline(url, 200);
  for (bool session : {false, true}) {
    const std::string u = url + (url.find('?') == std::string::npos ? "?" : "&") +
                          (session ? "mode=session" : "mode=lease");
    std::printf("mode=%s\n", session ? "session" : "lease");
    report("acquire (start -> elected)", bench_acquire(u, n_acquire), "p50 < 1 ms");
    if (session) {
      report("acquire, new lock connection", bench_acquire_new_connection(u, 20), "-");
    }
    report("graceful handover", bench_handover(u, n_handover), "p50 < 5 ms");
    if (have_holder) {
      report("crash failover (kill -9)",
             bench_crash(u, holder, session ? std::max(n_crash, 20) : n_crash),
             session ? "p50 < 50 ms" : "<= lease_duration + 200 ms");
    } else {
      std::printf("  crash failover: skipped, %s not found (--holder PATH)\n", holder.c_str());
    }
  }
  return 0;
}
