// `tenure status`: one look at an election through an observer elector.
#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdio>

#include "commands.hpp"
#include "tenure/url.hpp"

namespace tenure::cli {

namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

std::string human_ms(int64_t ms) {
  if (ms < 10000) return std::to_string(ms) + " ms";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.1f s", static_cast<double>(ms) / 1000.0);
  return buf;
}

}  // namespace

int status_command(const StatusArgs& args) {
  if (args.timeout_ms <= 0) {
    print_error("status", "--timeout must be a positive number of milliseconds, got " +
                              std::to_string(args.timeout_ms));
    return kExitUsage;
  }
  auto opts = build_options(args.election, true);
  if (!opts.ok()) {
    print_error("status", opts.status);
    return kExitUsage;
  }
  auto created = Elector::create(std::move(opts.value));
  if (!created.ok()) {
    print_error("status", created.status);
    return kExitUsage;
  }
  auto& elector = *created.value;
  if (auto s = elector.start(); !s.ok()) {
    print_error("status", s);
    return kExitFailure;
  }

  // The observer emits leader_changed after its first successful read; an error before that means
  // the backend did not answer as it should.
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
  const int64_t now_ms = unix_ms_now();
  ElectorStatus st = elector.status();
  elector.stop();

  if (!answered) {
    if (!last_error.ok()) {
      print_error("status", std::string(errc_name(last_error.code)) + ": " + last_error.message);
      return kExitBackend;
    }
    auto url = parse_url(args.election.backend);  // parsed before: the elector was created
    print_error("status", "no answer from " + (url.ok() ? url.value.redacted() : "the backend") +
                              " within " + std::to_string(args.timeout_ms) +
                              " ms (raise --timeout?)");
    return kExitTimeout;
  }

  const LeaseRecord& r = st.record;
  const bool held = !r.holder.empty();
  const int64_t age_ms = held && r.acquired_unix_ms > 0 ? now_ms - r.acquired_unix_ms : -1;
  const int64_t renewed_ago_ms = held && r.renewed_unix_ms > 0 ? now_ms - r.renewed_unix_ms : -1;

  if (args.json) {
    nlohmann::json j;
    j["election"] = args.election.election;
    j["holder"] = held ? nlohmann::json(r.holder) : nlohmann::json(nullptr);
    j["token"] = r.token;
    j["age_ms"] = age_ms >= 0 ? nlohmann::json(age_ms) : nlohmann::json(nullptr);
    j["renewed_ago_ms"] =
        renewed_ago_ms >= 0 ? nlohmann::json(renewed_ago_ms) : nlohmann::json(nullptr);
    j["expires_in_ms"] =
        held && r.expires_in_ms >= 0 ? nlohmann::json(r.expires_in_ms) : nlohmann::json(nullptr);
    j["lease_duration_ms"] =
        held ? nlohmann::json(r.lease_duration.count()) : nlohmann::json(nullptr);
    j["acquired_at"] = held && r.acquired_unix_ms > 0
                           ? nlohmann::json(format_utc_ms(r.acquired_unix_ms))
                           : nlohmann::json(nullptr);
    j["transitions"] = r.transitions;
    j["time"] = format_utc_ms(now_ms);
    std::printf("%s\n", j.dump().c_str());
  } else {
    std::printf("election:   %s\n", args.election.election.c_str());
    if (!held) {
      std::printf("holder:     (none)\n");
      std::printf("last token: %llu\n", static_cast<unsigned long long>(r.token));
    } else {
      std::printf("holder:     %s\n", r.holder.c_str());
      std::printf("token:      %llu\n", static_cast<unsigned long long>(r.token));
      if (age_ms >= 0)
        std::printf("age:        %s (since %s)\n", human_ms(age_ms).c_str(),
                    format_utc_ms(r.acquired_unix_ms).c_str());
      if (renewed_ago_ms >= 0)
        std::printf("renewed:    %s ago\n", human_ms(renewed_ago_ms).c_str());
      if (r.expires_in_ms >= 0)
        std::printf("expires in: %s (lease duration %s)\n", human_ms(r.expires_in_ms).c_str(),
                    human_ms(r.lease_duration.count()).c_str());
      else
        std::printf("expires in: unknown (lease duration %s)\n",
                    human_ms(r.lease_duration.count()).c_str());
    }
    std::printf("changes:    %llu\n", static_cast<unsigned long long>(r.transitions));
  }
  std::fflush(stdout);
  return kExitOk;
}

}  // namespace tenure::cli
