// One Redis connection: hiredis' RESP reader and command encoder over Boost.Asio sockets (plain TCP
// or TLS through asio::ssl, since Debian's hiredis 0.14 has no TLS). Pipelined requests, handshake
// (AUTH, SELECT, INFO, PING), connect and command timeouts, reconnect with backoff. All state lives
// on the connection's own strand; callers on other strands talk to it through command().
#pragma once

#include <utility>

#include <atomic>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/strand.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "tenure/errors.hpp"

struct redisReply;  // hiredis

namespace tenure::backends::redis {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

// A decoded RESP2 reply, copied out of hiredis' reply tree.
struct Reply {
  enum class Type { string, array, integer, nil, status, error };
  Type type = Type::nil;
  std::string str;  // string, status, error
  long long integer = 0;
  std::vector<Reply> elements;

  bool is_error() const { return type == Type::error; }
  bool is_nil() const { return type == Type::nil; }
  bool starts_with(const char* code) const;  // an error or status whose text starts with code
  std::string as_string() const;             // string/status/integer as text; "" otherwise
  long long as_int(long long fallback = 0) const;
};

// Copies hiredis' reply tree into a Reply (public for the RESP fuzz target).
Reply reply_from_hiredis(const redisReply* r);

struct ConnConfig {
  std::string host;
  int port = 6379;
  bool tls = false;
  std::string user;
  std::string password;
  bool has_password = false;
  int db = 0;
  std::string tls_ca;    // CA file; empty: the system's default paths
  std::string tls_cert;  // client certificate (chain) file, optional
  std::string tls_key;   // client key file, optional
  bool tls_insecure = false;
  milliseconds connect_timeout{2000};
  milliseconds command_timeout{2000};
  std::string display;  // host:port (scheme included) for messages; never the password

  std::string pool_key() const;  // identifies connections that may be shared
};

class RespConnection : public std::enable_shared_from_this<RespConnection> {
 public:
  using Callback = std::function<void(Result<Reply>)>;
  enum class Mode { command, subscriber };

  // Validates TLS files (loads the CA, client certificate and key) so mistakes show at creation.
  static Result<std::shared_ptr<RespConnection>> create(boost::asio::any_io_executor io,
                                                        ConnConfig cfg, Mode mode);
  ~RespConnection();

  // Thread-safe. cb runs once on the connection's strand: a Reply (possibly an error reply), or a
  // failed Status (unreachable, timeout, auth_failed, ...). min_uptime: if the server has been up
  // for less than this (it may have restarted and lost its data), the request is not sent and cb
  // gets a failed Status whose detail.retry_after says how long is left. Applies only after this
  // connection saw the server restart (a new run_id): a process that never knew the old server
  // cannot tell.
  void command(const std::vector<std::string>& argv, Callback cb,
               milliseconds min_uptime = milliseconds(0));

  // Subscriber mode: replies after the handshake go to on_push; on_ready runs after every
  // (re)connect, on_down after every loss. The connection reconnects with backoff until shutdown().
  void start_subscriber(std::function<void(const Reply&)> on_push, std::function<void()> on_ready,
                        std::function<void(const Status&)> on_down);
  // Subscriber mode, on the strand: write a command whose answer arrives through on_push.
  void send_now(const std::vector<std::string>& argv);
  bool ready() const { return state_ == State::ready; }

  void shutdown();  // thread-safe; fails nothing more, drops pending callbacks
  const boost::asio::strand<boost::asio::any_io_executor>& strand() const { return strand_; }
  const ConnConfig& config() const { return cfg_; }

 private:
  struct Impl;
  enum class State { idle, connecting, handshaking, ready, backoff, closed };
  RespConnection(boost::asio::any_io_executor io, ConnConfig cfg, Mode mode);

  void do_command(std::string wire, Callback cb, milliseconds min_uptime);
  void start_connect();
  void on_connected();
  void start_handshake();
  void handle_handshake_reply(Reply r);
  void become_ready();
  void flush();
  void do_write();
  void do_read();
  void on_bytes(const char* data, size_t n);
  void dispatch(Reply r);
  void fail(Status st);
  void schedule_reconnect();
  void arm_tick();
  void on_tick();
  void close_socket();

  boost::asio::strand<boost::asio::any_io_executor> strand_;
  ConnConfig cfg_;
  Mode mode_;
  std::unique_ptr<Impl> impl_;
  std::atomic<State> state_{State::idle};
  uint64_t gen_ = 0;
  Status last_error_;
  milliseconds backoff_{0};
  // Server start, estimated conservatively from INFO's uptime_in_seconds, and whether this
  // connection saw the server restart (its run_id changed between two connects).
  Clock::time_point server_started_{};
  std::string run_id_;
  bool restart_seen_ = false;
  // The server completed a handshake on this connection once: a later failure is a lost
  // connection, never a sign of a wrong port or scheme.
  bool answered_before_ = false;

  std::function<void(const Reply&)> on_push_;
  std::function<void()> on_ready_;
  std::function<void(const Status&)> on_down_;
};

}  // namespace tenure::backends::redis
