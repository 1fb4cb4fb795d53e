#include "server_admin.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <sstream>

namespace tenure::faults {

namespace {

// Sends CLIENT KILL commands to Redis on loopback; returns how many clients they closed.
int redis_kill(uint16_t port, const std::vector<std::string>& cmds) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return 0;
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  timeval tv{2, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  std::string req, replies;
  for (auto& c : cmds) req += c + "\r\n";
  bool ok = connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 &&
            write(fd, req.data(), req.size()) == ssize_t(req.size());
  char buf[512];
  while (ok && size_t(std::count(replies.begin(), replies.end(), '\n')) < cmds.size()) {
    ssize_t n = read(fd, buf, sizeof buf);
    if (n <= 0) break;
    replies.append(buf, size_t(n));
  }
  close(fd);
  // CLIENT KILL with a filter answers with the number of clients it closed (":1").
  int killed = 0;
  std::istringstream lines(replies);
  for (std::string l; std::getline(lines, l);)
    if (l.size() > 1 && l[0] == ':') killed += std::atoi(l.c_str() + 1);
  return killed;
}

// Runs a shell command and returns its first line of output.
std::string first_line_of(const std::string& cmd) {
  std::string out;
  if (FILE* p = popen(cmd.c_str(), "r")) {
    char buf[256];
    if (fgets(buf, sizeof buf, p)) out = buf;
    pclose(p);
  }
  while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
  return out;
}

}  // namespace

int kill_redis_clients(uint16_t redis_port, const std::vector<uint16_t>& client_ports) {
  std::vector<std::string> cmds;
  for (auto p : client_ports) cmds.push_back("CLIENT KILL ADDR 127.0.0.1:" + std::to_string(p));
  return cmds.empty() ? 0 : redis_kill(redis_port, cmds);
}

int terminate_pg_backends(const std::string& url, const std::vector<uint16_t>& client_ports) {
  if (client_ports.empty()) return 0;
  std::string list;
  for (auto p : client_ports) list += (list.empty() ? "" : ",") + std::to_string(p);
  return std::atoi(
      first_line_of("PGCONNECT_TIMEOUT=5 psql -Atq '" + url +
                    "' -c \"SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) FROM "
                    "pg_stat_activity WHERE client_addr = '127.0.0.1' AND client_port IN (" +
                    list + ")\"")
          .c_str());
}

}  // namespace tenure::faults
