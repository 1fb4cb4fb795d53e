// The harness redis_bench and etcd_bench share: their options, the percentile they report, and
// the acquire / handover / crash / many loops. Each bench passes what differs (its labels and
// targets, the crash timing, how to read the server's CPU); the printed rows stay its own.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "tenure/options.hpp"

namespace tenure::bench {

struct Args {
  std::string url;
  int acquire = 2000;
  int handover = 200;
  int crash = 10;
  int electors = 10000;
  int window_s = 10;
  std::string holder;
  std::string only;
  std::map<std::string, std::string> extra;  // the bench's own options (--go), by name
};

// Parses `--name value` pairs into `a`; names in `extra_names` (e.g. "--go") land in a.extra.
// Prints "unknown argument NAME" to stderr and returns false on anything else.
bool parse_args(int argc, char** argv, Args& a, const std::vector<std::string>& extra_names = {});

// True when `phase` should run (no --only, or --only names it).
bool wanted(const Args& a, const std::string& phase);

// The p-th percentile (0..100) of v, nearest index; 0 for an empty v.
double pct(std::vector<double> v, double p);

// A name no other run of this process or of another process uses: PREFIX-PID-CLOCK-N.
std::string unique(const std::string& prefix);

// VmRSS of this process in kB (0 when /proc is unreadable).
long rss_kb();

// acquire: one backend acquire then release, a.acquire times after 100 warm-up rounds. Prints
// "acquire (WHAT): n=.. p50 .. ms  p99 .. ms  max .. msTAIL".
void bench_acquire(const Args& a, const char* what, const char* tail);

// handover: leader stop() -> the standby's `elected`, a.handover times. Prints the row with
// "[target p50 < TARGET]".
void bench_handover(const Args& a, const char* target);

// crash: SIGKILL of a tenure_elector_child holding the lease with timing `t` -> the successor's
// `elected`, a.crash times. Prints "crash failover (kill -9 of the leader process, LEASE): n=..
// ...   [target TARGET]".
void bench_crash(const Args& a, const Timing& t, const char* lease, const char* target);

// many: a.electors electors in their own elections; CPU of this process and of the server
// (server_cpu_s() returns its CPU seconds so far) over a.window_s. Prints "N WHAT: all elected
// in ..., SERVER ..%, ...   [target < TARGET]".
void bench_many(const Args& a, const char* what, const char* server, const char* target,
                const std::function<double()>& server_cpu_s);

}  // namespace tenure::bench
