// A small scripted HTTP/1.1 server for the tests of core/net and of the HTTP backends: each
// request goes to a handler that returns a Reply, a list of steps (write bytes, pause, cut the
// connection), so tests can send chunked and slow bodies, cut a body in the middle, lie about the
// content type or answer any status. Plain or TLS (certificates from TestPki). Loopback only.
//
// Threading: one accept thread plus one thread per connection, blocking I/O; handlers run on the
// connection's thread (guard shared state). stop() (or the destructor) closes everything and joins.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace tenure::testing {

struct HttpTestRequest {
  std::string method, target, body;
  std::vector<std::pair<std::string, std::string>> headers;
  int connection = 0;  // which accepted connection carried it (1, 2, ...)
  std::string header(const std::string& name) const;  // case-insensitive; "" when absent
};

struct Reply {
  struct Step {
    std::string bytes;
    std::chrono::milliseconds pause_before{0};
    bool cut = false;  // close the connection (after pause_before) instead of writing
  };
  std::vector<Step> steps;
  bool close_after = false;  // close the connection after the last step (no keep-alive)

  // A complete response with Content-Length.
  static Reply status(int code, std::string body = {},
                      std::string content_type = "application/json",
                      std::vector<std::pair<std::string, std::string>> extra = {});
  static Reply json(int code, const std::string& body) { return status(code, body); }
  // Chunked: headers now, then each chunk after `gap`, then the terminating chunk (unless
  // `finish` is false, for a stream that stays open until cut or stopped).
  static Reply chunked(int code, const std::vector<std::string>& chunks,
                       std::chrono::milliseconds gap = {}, bool finish = true,
                       std::string content_type = "application/json");
  Reply& then_pause(std::chrono::milliseconds d);  // a pause before the next step
  Reply& then_cut();                               // close the connection here
  Reply& then_write(std::string raw);
};

// A CA, a server certificate for 127.0.0.1/localhost signed by it, a client certificate signed
// by it, and a second, unrelated CA (the "wrong CA"). Made with the openssl command in `dir`.
struct TestPki {
  std::string dir;
  std::string ca_cert, server_cert, server_key, client_cert, client_key,
      other_ca_cert;                            // file paths
  static TestPki make(const std::string& dir);  // throws std::runtime_error naming the failed step
  static std::string read(const std::string& path);
};

class HttpTestServer {
 public:
  using Handler = std::function<Reply(const HttpTestRequest&)>;
  struct Tls {
    std::string cert_file, key_file;
    std::string client_ca_file;  // set: clients must present a certificate signed by it
  };

  explicit HttpTestServer(Handler handler);  // plain HTTP on 127.0.0.1, a free port
  HttpTestServer(Handler handler, Tls tls);
  ~HttpTestServer();
  HttpTestServer(const HttpTestServer&) = delete;
  HttpTestServer& operator=(const HttpTestServer&) = delete;

  int port() const { return port_; }
  std::string url() const;  // "http://127.0.0.1:PORT" or https
  void set_handler(Handler h);
  std::vector<HttpTestRequest> requests() const;  // every request received so far
  int connections() const { return connections_.load(); }
  void stop();  // closes the listener and every connection; joins the threads

  // A loopback port with nothing listening (bound, then closed): connecting is refused.
  static int dead_port();

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
  int port_ = 0;
  std::atomic<int> connections_{0};
};

}  // namespace tenure::testing
