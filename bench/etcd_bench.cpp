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
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

#include "bench_common.hpp"

using namespace std::chrono;
using namespace tenure;

namespace {

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

// ---- etcd's own concurrency.Election, same server, same run -----------------------------------
void bench_go(const bench::Args& a, const std::string& go) {
  if (go.empty()) {
    std::printf("go: no etcd_elect (pass --go or set TENURE_TEST_ETCD_GO_ELECT)\n");
    return;
  }
  std::string hosts = a.url.substr(a.url.find("://") + 3);
  hosts = hosts.substr(0, hosts.find('/'));
  std::string cmd = go + " bench -endpoints " + hosts + " -acquire " + std::to_string(a.acquire) +
                    " -handover " + std::to_string(a.handover) + " -crash " +
                    std::to_string(a.crash) + " -ttl 2";
  std::fflush(stdout);
  if (std::system(cmd.c_str()) != 0) std::printf("go: %s failed\n", cmd.c_str());
}

}  // namespace

int main(int argc, char** argv) {
  bench::Args a;
  a.acquire = 1000;
  a.crash = 5;
  if (const char* u = std::getenv("TENURE_TEST_ETCD_URL")) a.url = u;
  if (const char* g = std::getenv("TENURE_TEST_ETCD_GO_ELECT")) a.extra["--go"] = g;
  if (!bench::parse_args(argc, argv, a, {"--go"})) return 2;
  if (a.url.empty()) {
    std::fprintf(stderr,
                 "no etcd: pass --url or set TENURE_TEST_ETCD_URL (bash "
                 "tests/servers/etcd.sh start DIR; source DIR/etcd.env)\n");
    return 2;
  }
  if (a.holder.empty()) a.holder = TENURE_ELECTOR_CHILD;
  std::printf("etcd_bench against %s\n", a.url.c_str());
  if (bench::wanted(a, "acquire"))
    bench::bench_acquire(a, "backend: txn creating the key + range of the election; then release",
                         "");
  if (bench::wanted(a, "handover")) bench::bench_handover(a, "10 ms");
  if (bench::wanted(a, "crash"))
    bench::bench_crash(a, Timing{milliseconds(2000), milliseconds(1400), milliseconds(300)},
                       "lease_duration 2000 ms = TTL 2 s", "<= 2600 ms");
  if (bench::wanted(a, "many"))
    bench::bench_many(a, "idle electors (own elections, lease 3 s, retry_period 1 s)", "etcd",
                      "10%", etcd_cpu_s);
  if (bench::wanted(a, "go")) bench_go(a, a.extra["--go"]);
  return 0;
}
