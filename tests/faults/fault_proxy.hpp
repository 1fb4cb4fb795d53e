// A TCP proxy on loopback that one candidate's traffic to a server goes through, with faults
// switched at run time: hold one direction (bytes stop flowing, connections stay open), black-hole
// both, delay the server's replies, or reset every connection (RST to both sides).
//
// A held direction also holds connection ends travelling that way (FIN or RST), as a real
// partition would: a client that closes its socket while client->server is held is not seen by
// the server until the fault heals. New connections wait in the listen backlog while anything is
// held. Listens on 127.0.0.1 only and connects to 127.0.0.1 only.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <vector>

namespace tenure::faults {

class FaultProxy {
 public:
  // Listens on 127.0.0.1:listen_port (0: an ephemeral port) and forwards to
  // 127.0.0.1:target_port.
  explicit FaultProxy(uint16_t target_port, uint16_t listen_port = 0);
  ~FaultProxy();
  FaultProxy(const FaultProxy&) = delete;
  FaultProxy& operator=(const FaultProxy&) = delete;

  uint16_t port() const;

  // Each call takes effect before it returns; the last one wins (pass() heals everything).
  void pass();
  void hold_client_to_server();
  void hold_server_to_client();
  void black_hole();
  void delay_replies(std::chrono::milliseconds d);
  // Closes every open connection with RST on both sides; new connections are accepted.
  void reset_all();

  // The local ports of the proxy's open connections to the server: what the server sees as the
  // client's port (pg_stat_activity.client_port, Redis CLIENT LIST addr=).
  std::vector<uint16_t> server_side_ports();
  size_t open_connections();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace tenure::faults
