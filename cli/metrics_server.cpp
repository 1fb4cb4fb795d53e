#include "metrics_server.hpp"

#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "tenure/process_metrics.hpp"

namespace tenure::cli {

namespace {

void send_all(int fd, const std::string& s) {
  size_t off = 0;
  while (off < s.size()) {
    ssize_t n = ::send(fd, s.data() + off, s.size() - off, MSG_NOSIGNAL);
    if (n <= 0) return;
    off += static_cast<size_t>(n);
  }
}

void respond(int fd, int code, const char* reason, const char* type, const std::string& body) {
  send_all(fd, "HTTP/1.0 " + std::to_string(code) + " " + reason + "\r\nContent-Type: " + type +
                   "\r\nContent-Length: " + std::to_string(body.size()) +
                   "\r\nConnection: close\r\n\r\n" + body);
}

}  // namespace

Status MetricsServer::start(const std::string& addr, std::function<Health()> health) {
  auto colon = addr.rfind(':');
  if (colon == std::string::npos)
    return make_error(
        Errc::invalid_argument,
        "--metrics-addr must be HOST:PORT (e.g. 127.0.0.1:9100 or :9100), got '" + addr + "'");
  std::string host = addr.substr(0, colon), port = addr.substr(colon + 1);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* res = nullptr;
  int rc = ::getaddrinfo(host.empty() ? nullptr : host.c_str(), port.c_str(), &hints, &res);
  if (rc != 0)
    return make_error(Errc::invalid_argument,
                      "--metrics-addr '" + addr + "': " + ::gai_strerror(rc));
  std::string why = "no address";
  for (addrinfo* a = res; a; a = a->ai_next) {
    int fd = ::socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
    if (fd < 0) continue;
    int one = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (::bind(fd, a->ai_addr, a->ai_addrlen) == 0 && ::listen(fd, 16) == 0) {
      listen_fd_ = fd;
      sockaddr_storage ss{};
      socklen_t len = sizeof ss;
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len);
      port_ = ntohs(ss.ss_family == AF_INET6 ? reinterpret_cast<sockaddr_in6*>(&ss)->sin6_port
                                             : reinterpret_cast<sockaddr_in*>(&ss)->sin_port);
      break;
    }
    why = std::strerror(errno);
    ::close(fd);
  }
  ::freeaddrinfo(res);
  if (listen_fd_ < 0)
    return make_error(Errc::invalid_argument,
                      "--metrics-addr '" + addr + "': cannot listen: " + why);
  if (::pipe2(wake_, O_CLOEXEC) != 0)
    return make_error(Errc::internal, std::string("pipe: ") + std::strerror(errno));
  health_ = std::move(health);
  thread_ = std::thread([this] { serve(); });
  return {};
}

MetricsServer::~MetricsServer() {
  if (thread_.joinable()) {
    [[maybe_unused]] auto n = ::write(wake_[1], "x", 1);
    thread_.join();
  }
  for (int fd : {listen_fd_, wake_[0], wake_[1]})
    if (fd >= 0) ::close(fd);
}

void MetricsServer::serve() {
  for (;;) {
    pollfd fds[2] = {{listen_fd_, POLLIN, 0}, {wake_[0], POLLIN, 0}};
    if (::poll(fds, 2, -1) < 0 && errno != EINTR) return;
    if (fds[1].revents) return;
    if (!(fds[0].revents & POLLIN)) continue;
    int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    answer(fd);
    ::close(fd);
  }
}

void MetricsServer::answer(int fd) {
  // Read the request head (bounded: 8 KiB, 2 s); only the request line matters.
  std::string req;
  char buf[1024];
  while (req.find("\r\n\r\n") == std::string::npos && req.size() < 8192) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 2000) <= 0) return;
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    req.append(buf, static_cast<size_t>(n));
  }
  auto sp1 = req.find(' ');
  auto sp2 = sp1 == std::string::npos ? sp1 : req.find(' ', sp1 + 1);
  if (sp2 == std::string::npos)
    return respond(fd, 400, "Bad Request", "text/plain", "bad request\n");
  std::string method = req.substr(0, sp1), path = req.substr(sp1 + 1, sp2 - sp1 - 1);
  if (auto q = path.find('?'); q != std::string::npos) path.resize(q);
  if (method != "GET" && method != "HEAD")
    return respond(fd, 405, "Method Not Allowed", "text/plain", "GET only\n");
  if (path == "/metrics")
    return respond(fd, 200, "OK", "text/plain; version=0.0.4; charset=utf-8", prometheus_text());
  if (path == "/healthz") {
    Health h = health_();
    return respond(fd, h.ok ? 200 : 503, h.ok ? "OK" : "Service Unavailable", "text/plain",
                   h.text + "\n");
  }
  respond(fd, 404, "Not Found", "text/plain", "try /metrics or /healthz\n");
}

}  // namespace tenure::cli
