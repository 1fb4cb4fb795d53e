// Backoff for new connections to a server that refuses them for its connection limit (SQLSTATE
// 53300: max_connections, reserved slots, a role's or database's CONNECTION LIMIT). Shared by
// every connection of the process to one server, database and user, so a thousand session-mode
// electors do not each knock once per retry period: after a refusal, new connections fail at once
// with that refusal (no server round trip) until a jittered, doubling delay (1 s up to 30 s) has
// passed; then one connection probes, and its success opens the gate for everyone.
#pragma once

#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <string>

#include "tenure/errors.hpp"

namespace tenure::backends::pg {

class ConnectGate {
 public:
  using Clock = std::chrono::steady_clock;
  static constexpr std::chrono::milliseconds kFirstDelay{1000};
  static constexpr std::chrono::milliseconds kMaxDelay{30000};

  // The gate for one "host:port/db as user" (created on first use, freed with its last user).
  static std::shared_ptr<ConnectGate> for_server(const std::string& where);

  // Before contacting the server: nullopt to go ahead, or the refusal to fail with at once.
  std::optional<Status> admit();
  // Outcome of an admitted attempt.
  void on_connected();
  void on_refused(const Status& refusal);  // the server's connection limit (Errc::connection_limit)
  void on_failed();                        // any other failure: the next caller may try
  // How long until the next attempt may reach the server (zero when the gate is open).
  Clock::duration wait_left();
  uint64_t refusals();  // refusals by the server so far, for tests and metrics

 private:
  std::mutex mu_;
  std::chrono::milliseconds delay_{0};  // zero: no refusal since the last success
  Clock::time_point not_before_{};
  bool probing_ = false;
  Status refusal_;
  uint64_t refusals_ = 0;
  std::minstd_rand rng_{std::random_device{}()};
};

}  // namespace tenure::backends::pg
