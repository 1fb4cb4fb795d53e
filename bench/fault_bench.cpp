// The long form of the fault suite (tests/faults): N trials per backend and fault, three real
// `tenure run` candidates each behind its own fault proxy, and a table of what the write log
// showed: stale writes (two leaders' commands at once), token regressions, tokens with two
// owners, failover p50/max. Needs the servers' TENURE_TEST_* variables (tests/servers/*.sh);
// backends without them are reported as skipped.
//
//   fault_bench [--trials N] [--backends file,redis,pg-lease,pg-session] [--faults a,b,...]
//               [--lease MS --renew MS --retry MS] [--fault-ms MS] [--delay-ms MS] [--keep]
#include <algorithm>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <sstream>
#include <string>
#include <vector>

#include "fault_trial.hpp"
#include "trial_report.hpp"

using namespace tenure::faults;

namespace {

std::vector<std::string> split(const std::string& s) {
  std::vector<std::string> out;
  std::istringstream in(s);
  for (std::string x; std::getline(in, x, ',');)
    if (!x.empty()) out.push_back(x);
  return out;
}

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return -1;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, size_t(p * double(v.size() - 1) + 0.5))];
}

std::string ms(double v) { return v < 0 ? "-" : std::to_string(int(v + 0.5)); }

}  // namespace

int main(int argc, char** argv) {
  std::signal(SIGPIPE, SIG_IGN);
  int trials = 10;
  TrialConfig base;
  base.cli = TENURE_CLI_PATH;
  base.writer = TENURE_FAULT_WRITER_PATH;
  std::vector<Backend> backends = all_backends();
  std::vector<Fault> faults = all_faults();
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "%s needs a value\n", a.c_str());
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--trials") {
      trials = std::stoi(next());
    } else if (a == "--backends") {
      backends.clear();
      for (auto& s : split(next())) {
        auto b = parse_backend(s);
        if (!b) return std::fprintf(stderr, "unknown backend %s\n", s.c_str()), 2;
        backends.push_back(*b);
      }
    } else if (a == "--faults") {
      faults.clear();
      for (auto& s : split(next())) {
        auto f = parse_fault(s);
        if (!f) return std::fprintf(stderr, "unknown fault %s\n", s.c_str()), 2;
        faults.push_back(*f);
      }
    } else if (a == "--lease") {
      base.lease_ms = std::stoi(next());
    } else if (a == "--renew") {
      base.renew_ms = std::stoi(next());
    } else if (a == "--retry") {
      base.retry_ms = std::stoi(next());
    } else if (a == "--fault-ms") {
      base.fault_ms = std::stoi(next());
    } else if (a == "--delay-ms") {
      base.delay_ms = std::stoi(next());
    } else if (a == "--cli") {
      base.cli = next();
    } else if (a == "--keep") {
      base.keep_dir = true;
    } else {
      std::fprintf(stderr,
                   "usage: %s [--trials N] [--backends LIST] [--faults LIST] [--lease MS] "
                   "[--renew MS] [--retry MS] [--fault-ms MS] [--delay-ms MS] [--cli PATH] "
                   "[--keep]\n",
                   argv[0]);
      return 2;
    }
  }
  std::printf(
      "fault_bench: %d trial(s) per fault, lease %d / renew %d / retry %d ms, faults last "
      "%d ms (delay %d ms), failover bound %d ms\n\n",
      trials, base.lease_ms, base.renew_ms, base.retry_ms, base.fault_ms, base.delay_ms,
      base.failover_bound_ms());
  struct Row {
    std::string backend, fault;
    int trials = 0, passed = 0, errors = 0, stale_trials = 0, regressions = 0, shared = 0,
        failovers = 0;
    double max_overlap = 0, max_thaw = -1;
    std::vector<double> failover, gap;
    std::string skipped;
  };
  std::vector<Row> rows;
  for (Backend b : backends)
    for (Fault f : faults) {
      if (!applies(b, f)) continue;
      Row row;
      row.backend = name(b);
      row.fault = name(f);
      for (int t = 0; t < trials; ++t) {
        TrialConfig cfg = base;
        cfg.backend = b;
        cfg.fault = f;
        fit_timing_to_backend(cfg);
        TrialResult r = run_trial(cfg);
        print_trial(stderr, cfg, r);
        if (!r.skipped.empty()) {
          row.skipped = r.skipped;
          break;
        }
        ++row.trials;
        if (!r.error.empty()) {
          ++row.errors;
          continue;
        }
        row.passed += r.passed();
        row.stale_trials += !r.check.stale.empty();
        row.max_overlap = std::max(row.max_overlap, r.check.max_overlap_ms);
        row.max_thaw = std::max(row.max_thaw, r.stale_after_thaw_ms);
        row.regressions += r.check.regressions;
        row.shared += int(r.check.shared_tokens.size());
        if (r.failover_ms >= 0) row.failover.push_back(r.failover_ms);
        row.gap.push_back(r.max_gap_ms);
      }
      rows.push_back(row);
    }
  std::printf(
      "| backend | fault | trials | passed | stale-write trials (max overlap ms) | "
      "token regressions | shared tokens | new term | failover p50 / max ms | "
      "longest gap p50 / max ms |\n|---|---|---|---|---|---|---|---|---|---|\n");
  for (auto& r : rows) {
    if (!r.skipped.empty()) {
      std::printf("| %s | %s | skipped: server not configured |||||||\n", r.backend.c_str(),
                  r.fault.c_str());
      continue;
    }
    std::string stale = std::to_string(r.stale_trials);
    if (r.stale_trials)
      stale += " (" + std::to_string(int(r.max_overlap + 0.5)) +
               (r.max_thaw >= 0 ? ", all after thaw, last +" + ms(r.max_thaw) : "") + ")";
    std::printf("| %s | %s | %d%s | %d | %s | %d | %d | %zu/%d | %s / %s | %s / %s |\n",
                r.backend.c_str(), r.fault.c_str(), r.trials,
                r.errors ? (" (" + std::to_string(r.errors) + " errors)").c_str() : "", r.passed,
                stale.c_str(), r.regressions, r.shared, r.failover.size(), r.trials - r.errors,
                ms(percentile(r.failover, 0.5)).c_str(), ms(percentile(r.failover, 1)).c_str(),
                ms(percentile(r.gap, 0.5)).c_str(), ms(percentile(r.gap, 1)).c_str());
  }
  return 0;
}
