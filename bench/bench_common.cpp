// The shared bench harness (see bench_common.hpp): the loops redis_bench and etcd_bench run.
#include "bench_common.hpp"

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <csignal>
#include <cstdio>
#include <fstream>
#include <future>
#include <mutex>
#include <thread>

#include "asio_executor.hpp"
#include "child_process.hpp"
#include "runtime.hpp"
#include "tenure/backend.hpp"
#include "tenure/elector.hpp"

using namespace std::chrono;

namespace tenure::bench {

bool parse_args(int argc, char** argv, Args& a, const std::vector<std::string>& extra_names) {
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string k = argv[i], v = argv[i + 1];
    if (k == "--url")
      a.url = v;
    else if (k == "--acquire")
      a.acquire = std::stoi(v);
    else if (k == "--handover")
      a.handover = std::stoi(v);
    else if (k == "--crash")
      a.crash = std::stoi(v);
    else if (k == "--electors")
      a.electors = std::stoi(v);
    else if (k == "--window")
      a.window_s = std::stoi(v);
    else if (k == "--holder")
      a.holder = v;
    else if (k == "--only")
      a.only = v;
    else if (std::find(extra_names.begin(), extra_names.end(), k) != extra_names.end())
      a.extra[k] = v;
    else {
      std::fprintf(stderr, "unknown argument %s\n", k.c_str());
      return false;
    }
  }
  return true;
}

bool wanted(const Args& a, const std::string& phase) { return a.only.empty() || a.only == phase; }

double pct(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  size_t i = std::min(v.size() - 1, static_cast<size_t>(p / 100.0 * (v.size() - 1) + 0.5));
  return v[i];
}

std::string unique(const std::string& p) {
  static int n = 0;
  return p + "-" + std::to_string(::getpid()) + "-" +
         std::to_string(steady_clock::now().time_since_epoch().count() % 1000000000) + "-" +
         std::to_string(n++);
}

long rss_kb() {
  std::ifstream f("/proc/self/status");
  std::string k;
  while (f >> k) {
    if (k == "VmRSS:") {
      long v;
      f >> v;
      return v;
    }
  }
  return 0;
}

// ---- acquire: the backend alone ----------------------------------------------------------------
void bench_acquire(const Args& a, const char* what, const char* tail) {
  auto rt = Runtime::get();
  auto url = parse_url(a.url);
  auto exec = std::make_shared<AsioExecutor>(rt->io());
  Timing t{milliseconds(10000), milliseconds(8000), milliseconds(1000)};
  BackendContext ctx;
  ctx.url = url.value;
  ctx.election = unique("bench-acquire");
  ctx.identity = "bench";
  ctx.timing = t;
  ctx.executor = exec;
  ctx.io = exec->strand();
  auto s = (*find_backend(url.value.scheme))(ctx);
  if (!s.ok()) {
    std::printf("acquire: %s\n", s.status.message.c_str());
    return;
  }
  LeaseBackend* b = s.value.get();
  auto call_acquire = [&] {
    std::promise<Result<AcquireOutcome>> p;
    auto f = p.get_future();
    exec->post([&] { b->acquire([&](Result<AcquireOutcome> r) { p.set_value(std::move(r)); }); });
    return f.get();
  };
  auto call_release = [&](uint64_t token) {
    std::promise<void> p;
    exec->post([&] { b->release(token, [&](Result<bool>) { p.set_value(); }); });
    p.get_future().wait();
  };
  std::vector<double> us;
  for (int i = 0; i < a.acquire + 100; ++i) {
    auto t0 = steady_clock::now();
    auto r = call_acquire();
    double d = duration<double, std::micro>(steady_clock::now() - t0).count();
    if (!r.ok() || !r.value.acquired) {
      std::printf("acquire failed: %s\n", r.status.message.c_str());
      return;
    }
    if (i >= 100) us.push_back(d);  // the first ones load the scripts and warm the connection
    call_release(r.value.record.token);
  }
  std::printf("acquire (%s): n=%d p50 %.3f ms  p99 %.3f ms  max %.3f ms%s\n", what, a.acquire,
              pct(us, 50) / 1000, pct(us, 99) / 1000,
              *std::max_element(us.begin(), us.end()) / 1000, tail);
  std::promise<void> closed;
  exec->post([&] { b->close(exec->now(), [&] { closed.set_value(); }); });
  closed.get_future().wait();
}

// ---- graceful handover: resign -> the standby's elected ----------------------------------------
namespace {
struct Waiter {
  std::mutex mu;
  std::condition_variable cv;
  std::vector<std::pair<int, steady_clock::time_point>> elected;  // elector index, when
};
}  // namespace

void bench_handover(const Args& a, const char* target) {
  // Long retry period: only a push can make the standby fast. The leader stops (releasing its
  // lease, as on SIGTERM); a fresh elector becomes the next standby.
  Timing t{milliseconds(30000), milliseconds(20000), milliseconds(10000)};
  auto election = unique("bench-handover");
  Waiter w;
  int next_id = 0;
  auto make = [&]() -> std::unique_ptr<Elector> {
    ElectorOptions o;
    o.backend_url = a.url;
    o.election = election;
    const int id = next_id++;
    o.identity = "h" + std::to_string(id);
    o.timing = t;
    auto e = Elector::create(o);
    if (!e.ok()) {
      std::printf("handover: %s\n", e.status.message.c_str());
      return nullptr;
    }
    e.value->set_callback([&w, id](const Event& ev) {
      if (ev.type != EventType::elected) return;
      std::lock_guard l(w.mu);
      w.elected.emplace_back(id, steady_clock::now());
      w.cv.notify_all();
    });
    e.value->start();
    return std::move(e.value);
  };
  auto wait_count = [&](size_t n) {
    std::unique_lock l(w.mu);
    return w.cv.wait_for(l, seconds(15), [&] { return w.elected.size() >= n; });
  };
  auto leader = make();
  if (!leader || !wait_count(1)) {
    std::printf("handover: no first leader\n");
    return;
  }
  auto standby = make();
  std::vector<double> ms;
  for (int i = 0; i < a.handover; ++i) {
    size_t n;
    {
      std::lock_guard l(w.mu);
      n = w.elected.size();
    }
    // The standby must have made its first attempt (and subscribed) before we measure.
    std::this_thread::sleep_for(milliseconds(30));
    auto t0 = steady_clock::now();
    leader->stop();
    if (!wait_count(n + 1)) {
      std::printf("handover %d: the standby was not elected within 15 s\n", i);
      return;
    }
    steady_clock::time_point t1;
    {
      std::lock_guard l(w.mu);
      t1 = w.elected.back().second;
    }
    ms.push_back(duration<double, std::milli>(t1 - t0).count());
    leader = std::move(standby);
    standby = make();
  }
  std::printf(
      "graceful handover (leader stop() releases -> standby elected, same process): n=%d "
      "p50 %.2f ms  p99 %.2f ms  max %.2f ms   [target p50 < %s]\n",
      a.handover, pct(ms, 50), pct(ms, 99), *std::max_element(ms.begin(), ms.end()), target);
  leader->stop();
  standby->stop();
}

// ---- crash failover: SIGKILL a holder process --------------------------------------------------
void bench_crash(const Args& a, const Timing& t, const char* lease, const char* target) {
  auto count = [](milliseconds d) { return std::to_string(d.count()); };
  std::vector<double> ms;
  for (int i = 0; i < a.crash; ++i) {
    auto election = unique("bench-crash");
    tenure::tools::ChildProcess child({a.holder, a.url, election, "holder", count(t.lease_duration),
                                       count(t.renew_deadline), count(t.retry_period)});
    if (!child.started() || child.wait_line("elected", seconds(10)).empty()) {
      std::printf("crash: the holder %s was not elected\n", a.holder.c_str());
      return;
    }
    ElectorOptions o;
    o.backend_url = a.url;
    o.election = election;
    o.identity = "successor";
    o.timing = t;
    auto e = Elector::create(o);
    std::promise<steady_clock::time_point> elected;
    std::atomic<bool> saw_holder{false}, once{false};
    e.value->set_callback([&](const Event& ev) {
      if (ev.type == EventType::leader_changed && ev.leader == "holder") saw_holder = true;
      if (ev.type == EventType::elected && !once.exchange(true))
        elected.set_value(steady_clock::now());
    });
    e.value->start();
    auto end = steady_clock::now() + seconds(5);
    while (!saw_holder && steady_clock::now() < end) std::this_thread::sleep_for(milliseconds(1));
    // Vary the moment of the kill within the renew period.
    std::this_thread::sleep_for(milliseconds(37 * i % 200));
    auto t0 = steady_clock::now();
    child.kill(SIGKILL);
    auto f = elected.get_future();
    if (f.wait_for(seconds(10)) != std::future_status::ready) {
      std::printf("crash %d: no successor within 10 s\n", i);
      return;
    }
    ms.push_back(duration<double, std::milli>(f.get() - t0).count());
    e.value->stop();
  }
  std::printf(
      "crash failover (kill -9 of the leader process, %s): n=%d "
      "p50 %.0f ms  max %.0f ms  min %.0f ms   [target %s]\n",
      lease, a.crash, pct(ms, 50), *std::max_element(ms.begin(), ms.end()),
      *std::min_element(ms.begin(), ms.end()), target);
}

// ---- many electors ----------------------------------------------------------------------------
void bench_many(const Args& a, const char* what, const char* server, const char* target,
                const std::function<double()>& server_cpu_s) {
  const Timing t{milliseconds(3000), milliseconds(2000), milliseconds(1000)};
  std::atomic<int> elected{0};
  std::vector<std::unique_ptr<Elector>> es;
  es.reserve(a.electors);
  long rss0 = rss_kb();
  auto t_start = steady_clock::now();
  for (int i = 0; i < a.electors; ++i) {
    ElectorOptions o;
    o.backend_url = a.url;
    o.election = unique("bench-many");
    o.identity = "m";
    o.timing = t;
    auto e = Elector::create(o);
    if (!e.ok()) {
      std::printf("many: %s\n", e.status.message.c_str());
      return;
    }
    e.value->set_callback([&elected](const Event& ev) {
      if (ev.type == EventType::elected) ++elected;
    });
    e.value->start();
    es.push_back(std::move(e.value));
  }
  auto end = steady_clock::now() + seconds(60);
  while (elected < a.electors && steady_clock::now() < end)
    std::this_thread::sleep_for(milliseconds(20));
  double start_s = duration<double>(steady_clock::now() - t_start).count();
  if (elected < a.electors) {
    std::printf("many: only %d of %d electors were elected\n", elected.load(), a.electors);
    return;
  }
  std::this_thread::sleep_for(seconds(2));  // settle: renewals spread over the period
  rusage r0, r1;
  ::getrusage(RUSAGE_SELF, &r0);
  double server0 = server_cpu_s();
  auto w0 = steady_clock::now();
  std::this_thread::sleep_for(seconds(a.window_s));
  ::getrusage(RUSAGE_SELF, &r1);
  double server1 = server_cpu_s();
  double wall = duration<double>(steady_clock::now() - w0).count();
  auto tv = [](const timeval& v) { return v.tv_sec + v.tv_usec / 1e6; };
  double user = tv(r1.ru_utime) - tv(r0.ru_utime), sys = tv(r1.ru_stime) - tv(r0.ru_stime);
  uint64_t renewals = 0, lost = 0;
  for (auto& e : es) {
    auto m = e->metrics();
    renewals += m.renewals;
    lost += m.step_downs_lost + m.step_downs_renew_deadline + m.step_downs_backend_error;
  }
  std::printf(
      "%d %s: all elected in %.1f s; over %.0f s: this process %.1f%% of one core (user %.1f%%, "
      "sys %.1f%%), %s %.1f%%, RSS +%ld MB, %llu renewals total, %llu step-downs   "
      "[target < %s]\n",
      a.electors, what, start_s, wall, 100 * (user + sys) / wall, 100 * user / wall,
      100 * sys / wall, server, 100 * (server1 - server0) / wall, (rss_kb() - rss0) / 1024,
      (unsigned long long)renewals, (unsigned long long)lost, target);
  auto s0 = steady_clock::now();
  es.clear();
  std::printf("  stopping them (each releases) took %.1f s\n",
              duration<double>(steady_clock::now() - s0).count());
}

}  // namespace tenure::bench
