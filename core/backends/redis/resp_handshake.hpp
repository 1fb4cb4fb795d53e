// The handshake after every (re)connect, as named steps: AUTH (when the URL has a password),
// SELECT (a database other than 0), INFO server (command connections: the restart guard's
// uptime and run_id), PING. Sent pipelined; the replies come back in this order.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "redis/resp_connection.hpp"
#include "tenure/errors.hpp"

namespace tenure::backends::redis {

enum class HandshakeStep { auth, select, info, ping };

struct Handshake {
  std::vector<HandshakeStep> steps;
  std::string wire;  // every step's command, to write at once
};
Handshake plan_handshake(const ConnConfig& cfg, bool command_mode);

// What one step's reply says. error set: the connection fails with it. INFO's uptime and run_id
// when the server gave them (a refused or renamed INFO only turns the restart guard off).
struct HandshakeReply {
  Status error;
  bool has_info = false;
  long long uptime_s = 0;
  std::string run_id;
};
HandshakeReply check_handshake_reply(HandshakeStep step, const Reply& r, const ConnConfig& cfg);

}  // namespace tenure::backends::redis
