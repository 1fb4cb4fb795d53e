// `tenure runs`: list the run-once ledger of an election (what `tenure cron` and `tenure once`
// recorded), read through an observer elector.
#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdio>

#include "commands.hpp"
#include "tenure/url.hpp"

namespace tenure::cli {

namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

// A started run whose token is older than the election's current one will never finish: its
// leader is gone (abandoned, retried or skipped by the next leader's policy).
std::string shown_status(const RunRecord& r, const LeaseRecord& lease) {
  if (r.status == RunStatus::started)
    return r.token < lease.token || lease.holder.empty() ? "abandoned" : "running";
  return run_status_name(r.status);
}

std::string time_or_dash(int64_t unix_ms) {
  return unix_ms > 0 ? format_utc_ms(unix_ms) : std::string("-");
}

}  // namespace

int runs_command(const RunsArgs& args) {
  if (args.timeout_ms <= 0) {
    print_error("runs", "--timeout must be a positive number of milliseconds, got " +
                            std::to_string(args.timeout_ms));
    return kExitUsage;
  }
  if (args.limit < 1 || args.limit > 100000) {
    print_error("runs", "--limit must be 1 to 100000, got " + std::to_string(args.limit));
    return kExitUsage;
  }
  if (auto s = validate_job_prefix(args.job); !s.ok()) {
    print_error("runs", "--job: " + s.message);
    return kExitUsage;
  }
  auto opts = build_options(args.election, true);
  if (!opts.ok()) {
    print_error("runs", opts.status);
    return kExitUsage;
  }
  auto created = Elector::create(std::move(opts.value));
  if (!created.ok()) {
    print_error("runs", created.status);
    return kExitUsage;
  }
  auto& elector = *created.value;
  if (auto s = elector.start(); !s.ok()) {
    print_error("runs", s);
    return kExitFailure;
  }
  // The first leader_changed says the backend answered (and gives the current token).
  const auto deadline = Clock::now() + milliseconds(args.timeout_ms);
  Status last_error;
  bool answered = false;
  while (!answered) {
    auto left = std::chrono::duration_cast<milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) break;
    auto ev = elector.poll_event(left);
    if (!ev.ok()) continue;
    if (ev.value.type == EventType::leader_changed) {
      answered = true;
    } else if (ev.value.type == EventType::error) {
      last_error = make_error(ev.value.code, ev.value.message);
      if (is_permanent_backend_error(ev.value.code)) break;
    }
  }
  if (!answered) {
    elector.stop();
    if (!last_error.ok()) {
      print_error("runs", std::string(errc_name(last_error.code)) + ": " + last_error.message);
      return kExitBackend;
    }
    auto url = parse_url(args.election.backend);
    print_error("runs", "no answer from " + (url.ok() ? url.value.redacted() : "the backend") +
                            " within " + std::to_string(args.timeout_ms) +
                            " ms (raise --timeout?)");
    return kExitTimeout;
  }
  const LeaseRecord current = elector.status().record;
  auto runs = elector.list_runs(args.job, static_cast<size_t>(args.limit));
  elector.stop();
  if (!runs.ok()) {
    print_error("runs", runs.status);
    return runs.status.code == Errc::invalid_argument ? kExitUsage : kExitBackend;
  }
  if (!args.json)
    std::printf("%-44s %-9s %-24s %6s %-24s %-24s %s\n", "KEY", "STATUS", "LEADER", "TOKEN",
                "STARTED", "FINISHED", "DETAIL");
  for (const RunRecord& r : runs.value) {
    const auto at = r.job_key.rfind('@');
    const std::string fire = at == std::string::npos ? "" : r.job_key.substr(at + 1);
    if (args.json) {
      nlohmann::json j;
      j["key"] = r.job_key;
      j["job"] = at == std::string::npos ? r.job_key : r.job_key.substr(0, at);
      j["fire_time"] = fire.empty() ? nlohmann::json(nullptr) : nlohmann::json(fire);
      j["status"] = shown_status(r, current);
      j["leader"] = r.holder;
      j["token"] = r.token;
      j["started_at"] = r.started_unix_ms > 0 ? nlohmann::json(format_utc_ms(r.started_unix_ms))
                                              : nlohmann::json(nullptr);
      j["finished_at"] = r.finished_unix_ms > 0 ? nlohmann::json(format_utc_ms(r.finished_unix_ms))
                                                : nlohmann::json(nullptr);
      j["detail"] = r.detail;
      std::printf("%s\n", j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
    } else {
      std::printf("%-44s %-9s %-24s %6llu %-24s %-24s %s\n", r.job_key.c_str(),
                  shown_status(r, current).c_str(), r.holder.c_str(),
                  static_cast<unsigned long long>(r.token), time_or_dash(r.started_unix_ms).c_str(),
                  time_or_dash(r.finished_unix_ms).c_str(), r.detail.c_str());
    }
  }
  std::fflush(stdout);
  return kExitOk;
}

}  // namespace tenure::cli
