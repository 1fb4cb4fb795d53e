// The short form of the fault suite, one ctest test per backend and fault (faults.BACKEND.FAULT):
// one trial with short timings, asserting the invariant and generous failover bounds.
// Exit 0: passed; 77: skipped (the server is not configured; under CI=true that fails instead);
// 1: a violation or an error.
// Usage: tenure_fault_test CLI WRITER BACKEND FAULT [--lease MS --renew MS --retry MS]
//                          [--fault-ms MS] [--delay-ms MS]
#include <csignal>
#include <cstdlib>
#include <string>

#include "fault_trial.hpp"
#include "trial_report.hpp"

using namespace tenure::faults;

int main(int argc, char** argv) {
  if (argc < 5 || argc % 2 == 0) {
    std::fprintf(stderr,
                 "usage: %s CLI WRITER BACKEND FAULT [--lease MS --renew MS --retry MS] "
                 "[--fault-ms MS] [--delay-ms MS]\n",
                 argv[0]);
    return 2;
  }
  auto backend = parse_backend(argv[3]);
  auto fault = parse_fault(argv[4]);
  if (!backend || !fault || !applies(*backend, *fault)) {
    std::fprintf(stderr, "%s: no such backend/fault pair: %s %s\n", argv[0], argv[3], argv[4]);
    return 2;
  }
  std::signal(SIGPIPE, SIG_IGN);
  TrialConfig cfg;
  cfg.backend = *backend;
  cfg.fault = *fault;
  cfg.cli = argv[1];
  cfg.writer = argv[2];
  cfg.keep_dir = std::getenv("TENURE_FAULTS_KEEP") != nullptr;  // logs of passed trials too
  for (int i = 5; i + 1 < argc; i += 2) {
    std::string k = argv[i];
    int v = std::atoi(argv[i + 1]);
    int* field = k == "--lease"      ? &cfg.lease_ms
                 : k == "--renew"    ? &cfg.renew_ms
                 : k == "--retry"    ? &cfg.retry_ms
                 : k == "--fault-ms" ? &cfg.fault_ms
                 : k == "--delay-ms" ? &cfg.delay_ms
                                     : nullptr;
    if (!field || v <= 0) {
      std::fprintf(stderr, "%s: bad option %s %s\n", argv[0], argv[i], argv[i + 1]);
      return 2;
    }
    *field = v;
  }
  fit_timing_to_backend(cfg);
  TrialResult r = run_trial(cfg);
  print_trial(stdout, cfg, r);
  // A missed liveness bound (slow failover, a leader that lost office under delays, nobody
  // leading at the end) depends on the machine's load: on a loaded 2-core machine a PostgreSQL
  // statement with no fault on its path took over the 400 ms request timeout (the new leader of
  // faults.pg-session.kill9 stepped down). Such a trial runs once more and must pass then.
  // A safety violation (two leaders, a token going back) or an error never gets a second run.
  if (r.skipped.empty() && r.error.empty() && !r.violations.empty() && !r.unsafe) {
    std::printf("liveness bound missed, no safety violation: running the trial once more\n");
    r = run_trial(cfg);
    print_trial(stdout, cfg, r);
  }
  if (!r.skipped.empty()) {
    const char* ci = std::getenv("CI");
    if (ci && std::string(ci) == "true") {
      std::printf("CI=true: a missing server fails\n");
      return 1;
    }
    return 77;
  }
  return r.passed() ? 0 : 1;
}
