// Redis backend benchmark on a real redis-server. Prints figures next to the targets of issue 3;
// asserts nothing.
//   acquire    one backend acquire (one Lua round trip), then release: p50/p99 of the acquire
//   handover   leader stop() (releases) -> the standby's `elected` callback (pub/sub): p50/p99
//   crash      SIGKILL of a tenure_elector_child process -> the successor's `elected` (lease 1 s)
//   many       N electors (own elections) renewing every 1 s: CPU of this process and of Redis
// Usage: redis_bench [--url URL] [--acquire N] [--handover N] [--crash N] [--electors N]
//                    [--window S] [--holder PATH] [--only acquire|handover|crash|many]
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "bench_common.hpp"

using namespace std::chrono;
using namespace tenure;

namespace {

// CPU seconds redis-server has used (INFO cpu: used_cpu_sys + used_cpu_user).
double redis_cpu_s(const std::string& port) {
  std::string cmd = "redis-cli -h 127.0.0.1 -p " + port + " INFO cpu 2>/dev/null";
  double total = 0;
  if (FILE* p = ::popen(cmd.c_str(), "r")) {
    char line[256];
    while (std::fgets(line, sizeof line, p)) {
      if (!std::strncmp(line, "used_cpu_sys:", 13)) total += std::atof(line + 13);
      if (!std::strncmp(line, "used_cpu_user:", 14)) total += std::atof(line + 14);
    }
    ::pclose(p);
  }
  return total;
}

}  // namespace

int main(int argc, char** argv) {
  bench::Args a;
  a.acquire = 2000;
  a.crash = 10;
  if (const char* u = std::getenv("TENURE_TEST_REDIS_URL")) a.url = u;
  if (!bench::parse_args(argc, argv, a)) return 2;
  if (a.url.empty()) {
    std::fprintf(stderr,
                 "no Redis: pass --url or set TENURE_TEST_REDIS_URL (bash "
                 "tests/servers/redis.sh start DIR; source DIR/redis.env)\n");
    return 2;
  }
  if (a.holder.empty()) a.holder = TENURE_ELECTOR_CHILD;
  std::printf("redis_bench against %s\n", a.url.c_str());
  if (bench::wanted(a, "acquire"))
    bench::bench_acquire(a, "backend, one Lua round trip", "   [target p50 < 0.15 ms]");
  if (bench::wanted(a, "handover")) bench::bench_handover(a, "2 ms");
  if (bench::wanted(a, "crash"))
    bench::bench_crash(a, Timing{milliseconds(1000), milliseconds(700), milliseconds(200)},
                       "lease_duration 1000 ms", "<= 1150 ms");
  if (bench::wanted(a, "many")) {
    std::string port = a.url.substr(a.url.rfind(':') + 1);
    port = port.substr(0, port.find('/'));
    bench::bench_many(a, "electors renewing every 1 s (lease 3 s)", "redis-server", "25%",
                      [&] { return redis_cpu_s(port); });
  }
  return 0;
}
