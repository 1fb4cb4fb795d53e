// Ending a client's connections from the server's side, as an operator would. The client is
// named by its connections' local ports (a fault proxy's server-side ports).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace tenure::faults {

// CLIENT KILL ADDR 127.0.0.1:PORT for each port, on the Redis at 127.0.0.1:redis_port; returns
// how many connections the server closed.
int kill_redis_clients(uint16_t redis_port, const std::vector<uint16_t>& client_ports);
// pg_terminate_backend() of the server processes of those connections (psql, connecting with
// url); returns how many were terminated.
int terminate_pg_backends(const std::string& url, const std::vector<uint16_t>& client_ports);

}  // namespace tenure::faults
