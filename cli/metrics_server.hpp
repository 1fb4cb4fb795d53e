// `tenure run --metrics-addr HOST:PORT`: a minimal HTTP/1.0 server on its own thread, for
// Prometheus scraping (/metrics) and Kubernetes probes (/healthz). One request per connection.
#pragma once

#include <atomic>
#include <functional>
#include <string>
#include <thread>

#include "tenure/errors.hpp"

namespace tenure::cli {

struct Health {
  bool ok = false;
  std::string text;  // one line: "leader", "follower", or why not healthy
};

class MetricsServer {
 public:
  MetricsServer() = default;
  ~MetricsServer();
  // Binds addr ("127.0.0.1:9100", "[::1]:9100", ":9100" for every address) and starts serving.
  Status start(const std::string& addr, std::function<Health()> health);
  // The port bound (useful with port 0).
  int port() const { return port_; }

 private:
  void serve();
  void answer(int fd);
  int listen_fd_ = -1;
  int wake_[2] = {-1, -1};  // a pipe: stop() writes to end serve()'s poll
  int port_ = 0;
  std::function<Health()> health_;
  std::thread thread_;
};

}  // namespace tenure::cli
