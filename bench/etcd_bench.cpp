// etcd backend benchmark on a real etcd 3.6. Prints figures next to the targets of issue 12;
// asserts nothing. Then runs etcd's own concurrency.Election through the same steps (the Go
// program etcd_elect, TENURE_TEST_ETCD_GO_ELECT) on the same server.
//   acquire    one backend acquire (create the key, range the election), then release
//   handover   leader stop() (deletes its key) -> the standby's `elected` (watch): p50/p99
//   crash      SIGKILL of a tenure_elector_child process -> the successor's `elected` (TTL 2 s)
//   many       N idle electors (own elections, one shared server lease): CPU of this process
//              and of etcd
// Usage: etcd_bench [--url URL] [--acquire N] [--handover N] [--crash N] [--electors N]
//                   [--window S] [--holder PATH] [--go PATH] [--only
//                   acquire|handover|crash|many|go]
#include <pthread.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <future>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "asio_executor.hpp"
#include "child_process.hpp"
#include "runtime.hpp"
#include "tenure/backend.hpp"
#include "tenure/elector.hpp"

using namespace std::chrono;
using namespace tenure;

namespace {

struct Args {
  std::string url;
  int acquire = 1000;
  int handover = 200;
  int crash = 5;
  int electors = 10000;
  int window_s = 10;
  std::string holder;
  std::string go;
  std::string only;
};

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

// ---- acquire: the backend alone ----------------------------------------------------------------
void bench_acquire(const Args& a) {
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
  std::printf(
      "acquire (backend: txn creating the key + range of the election; then release): n=%d "
      "p50 %.3f ms  p99 %.3f ms  max %.3f ms\n",
      a.acquire, pct(us, 50) / 1000, pct(us, 99) / 1000,
      *std::max_element(us.begin(), us.end()) / 1000);
  std::promise<void> closed;
  exec->post([&] { b->close(exec->now(), [&] { closed.set_value(); }); });
  closed.get_future().wait();
}

// ---- graceful handover: resign -> the standby's elected ----------------------------------------
struct Waiter {
  std::mutex mu;
  std::condition_variable cv;
  std::vector<std::pair<int, steady_clock::time_point>> elected;  // elector index, when
};

void bench_handover(const Args& a) {
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
      "p50 %.2f ms  p99 %.2f ms  max %.2f ms   [target p50 < 10 ms]\n",
      a.handover, pct(ms, 50), pct(ms, 99), *std::max_element(ms.begin(), ms.end()));
  leader->stop();
  standby->stop();
}

// ---- crash failover: SIGKILL a holder process --------------------------------------------------
void bench_crash(const Args& a) {
  const Timing t{milliseconds(2000), milliseconds(1400), milliseconds(300)};
  std::vector<double> ms;
  for (int i = 0; i < a.crash; ++i) {
    auto election = unique("bench-crash");
    tenure::tools::ChildProcess child({a.holder, a.url, election, "holder", "2000", "1400", "300"});
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
      "crash failover (kill -9 of the leader process, lease_duration 2000 ms = TTL 2 s): n=%d "
      "p50 %.0f ms  max %.0f ms  min %.0f ms   [target <= 2600 ms]\n",
      a.crash, pct(ms, 50), *std::max_element(ms.begin(), ms.end()),
      *std::min_element(ms.begin(), ms.end()));
}

// ---- many electors ----------------------------------------------------------------------------
// CPU seconds of the etcd process named by TENURE_TEST_ETCD_PIDFILE (/proc/PID/stat), -1: none.
double etcd_cpu_s() {
  const char* pf = std::getenv("TENURE_TEST_ETCD_PIDFILE");
  if (!pf) return -1;
  std::ifstream p(pf);
  long pid = 0;
  if (!(p >> pid)) return -1;
  std::ifstream st("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  std::getline(st, line);
  auto close = line.rfind(')');
  if (close == std::string::npos) return -1;
  std::istringstream rest(line.substr(close + 2));
  std::string f;
  double ut = 0, stt = 0;
  for (int i = 3; i <= 15 && rest >> f; ++i) {
    if (i == 14) ut = std::atof(f.c_str());
    if (i == 15) stt = std::atof(f.c_str());
  }
  return (ut + stt) / ::sysconf(_SC_CLK_TCK);
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

void bench_many(const Args& a) {
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
  double etcd0 = etcd_cpu_s();
  auto w0 = steady_clock::now();
  std::this_thread::sleep_for(seconds(a.window_s));
  ::getrusage(RUSAGE_SELF, &r1);
  double etcd1 = etcd_cpu_s();
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
      "%d idle electors (own elections, lease 3 s, retry_period 1 s): all elected in %.1f s; "
      "over %.0f s: this process %.1f%% of one core (user %.1f%%, sys %.1f%%), etcd %.1f%%, "
      "RSS +%ld MB, %llu renewals total, %llu step-downs   [target < 10%%]\n",
      a.electors, start_s, wall, 100 * (user + sys) / wall, 100 * user / wall, 100 * sys / wall,
      100 * (etcd1 - etcd0) / wall, (rss_kb() - rss0) / 1024, (unsigned long long)renewals,
      (unsigned long long)lost);
  auto s0 = steady_clock::now();
  es.clear();
  std::printf("  stopping them (each releases) took %.1f s\n",
              duration<double>(steady_clock::now() - s0).count());
}

// ---- etcd's own concurrency.Election, same server, same run -----------------------------------
void bench_go(const Args& a) {
  if (a.go.empty()) {
    std::printf("go: no etcd_elect (pass --go or set TENURE_TEST_ETCD_GO_ELECT)\n");
    return;
  }
  std::string hosts = a.url.substr(a.url.find("://") + 3);
  hosts = hosts.substr(0, hosts.find('/'));
  std::string cmd = a.go + " bench -endpoints " + hosts + " -acquire " + std::to_string(a.acquire) +
                    " -handover " + std::to_string(a.handover) + " -crash " +
                    std::to_string(a.crash) + " -ttl 2";
  std::fflush(stdout);
  if (std::system(cmd.c_str()) != 0) std::printf("go: %s failed\n", cmd.c_str());
}

}  // namespace

int main(int argc, char** argv) {
  Args a;
  if (const char* u = std::getenv("TENURE_TEST_ETCD_URL")) a.url = u;
  if (const char* g = std::getenv("TENURE_TEST_ETCD_GO_ELECT")) a.go = g;
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
    else if (k == "--go")
      a.go = v;
    else if (k == "--only")
      a.only = v;
    else {
      std::fprintf(stderr, "unknown argument %s\n", k.c_str());
      return 2;
    }
  }
  if (a.url.empty()) {
    std::fprintf(stderr,
                 "no etcd: pass --url or set TENURE_TEST_ETCD_URL (bash "
                 "tests/servers/etcd.sh start DIR; source DIR/etcd.env)\n");
    return 2;
  }
  if (a.holder.empty()) a.holder = TENURE_ELECTOR_CHILD;
  std::printf("etcd_bench against %s\n", a.url.c_str());
  if (a.only.empty() || a.only == "acquire") bench_acquire(a);
  if (a.only.empty() || a.only == "handover") bench_handover(a);
  if (a.only.empty() || a.only == "crash") bench_crash(a);
  if (a.only.empty() || a.only == "many") bench_many(a);
  if (a.only.empty() || a.only == "go") bench_go(a);
  return 0;
}
