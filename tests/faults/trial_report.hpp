// Prints one trial's outcome for people: the terms, the failover and what broke.
#pragma once

#include <cstdio>

#include "fault_trial.hpp"

namespace tenure::faults {

inline void print_trial(std::FILE* out, const TrialConfig& cfg, const TrialResult& r) {
  std::fprintf(out, "%s %s: ", name(cfg.backend).c_str(), name(cfg.fault).c_str());
  if (!r.skipped.empty()) {
    std::fprintf(out, "skipped: %s\n", r.skipped.c_str());
    return;
  }
  if (!r.error.empty()) {
    std::fprintf(out, "error: %s\n", r.error.c_str());
    return;
  }
  std::fprintf(out,
               "%zu writes, %zu terms, leader %s (token %llu) -> %s (token %llu), failover "
               "%.0f ms, longest gap %.0f ms, stale writes %zu (max overlap %.1f ms)",
               r.check.writes, r.check.terms.size(), r.old_leader.c_str(),
               (unsigned long long)r.old_token, r.new_leader.empty() ? "-" : r.new_leader.c_str(),
               (unsigned long long)r.new_token, r.failover_ms, r.max_gap_ms, r.check.stale.size(),
               r.check.max_overlap_ms);
  if (r.sessions_killed) std::fprintf(out, ", %d session(s) killed", r.sessions_killed);
  if (r.stale_after_thaw_ms >= 0)
    std::fprintf(out, ", last stale write %.1f ms after the thaw", r.stale_after_thaw_ms);
  std::fprintf(out, "\n");
  for (auto& v : r.violations) std::fprintf(out, "  VIOLATION: %s\n", v.c_str());
  if (!r.passed()) std::fprintf(out, "  logs kept in %s\n", r.dir.c_str());
}

}  // namespace tenure::faults
