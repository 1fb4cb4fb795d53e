// Backoff for new connections to a server that refuses them for its connection limit (SQLSTATE
// 53300: max_connections, reserved slots, a role's or database's CONNECTION LIMIT). Shared by
// every connection of the process to one server, database and user, so a thousand session-mode
// electors do not each knock once per retry period. After a refusal the gate is *limited*: new
// connections fail at once with that refusal (no server round trip) except one probe at a time,
// admitted after a jittered delay that doubles with every refused probe (1 s up to 30 s). A probe
// that connects lets the next one go at once, so while the server has room the electors connect
// one after another, and when it is full it sees one attempt per delay. A minute without a
// refusal opens the gate again. At most kMaxConnecting attempts are under way at once (TCP, TLS,
// authentication), so a thousand electors starting together never hit the server at once; the
// others wait their turn.
#pragma once

#include <chrono>
#include <deque>
#include <functional>
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
  static constexpr std::chrono::milliseconds kQuiet{60000};

  // The gate for one "host:port/db as user" (created on first use, freed with its last user).
  static std::shared_ptr<ConnectGate> for_server(const std::string& where);

  static constexpr int kMaxConnecting = 8;

  struct Admission {
    std::optional<Status> refused;  // set: fail with this at once, without contacting the server
    bool wait = false;              // set: too many attempts under way; `turn` will be called
    bool probe = false;             // admitted as the limited gate's one probe
  };
  // turn: called (on any thread, at most once) when an attempt that had to wait may try again;
  // it returns false when its connection is gone, so the turn goes to the next.
  Admission admit(std::function<bool()> turn);
  // Outcome of an admitted attempt (probe: what admit said).
  void on_connected(bool probe);
  void on_refused(bool probe, const Status& refusal);  // Errc::connection_limit
  void on_failed(bool probe);                          // any other failure
  void pass_turn();  // a waiter that was woken no longer wants to connect
  // How long until the next attempt may reach the server (zero when the gate is open).
  Clock::duration wait_left();

 private:
  void next_turns(std::unique_lock<std::mutex>& lk);  // wakes waiters for free attempt slots

  std::mutex mu_;
  int connecting_ = 0;
  std::deque<std::function<bool()>> waiting_;
  bool limited_ = false;
  bool probing_ = false;
  std::chrono::milliseconds delay_{0};
  Clock::time_point not_before_{}, last_refusal_{};
  Status refusal_;
  std::minstd_rand rng_{std::random_device{}()};
};

}  // namespace tenure::backends::pg
