// RespConnection's private state, shared by its two source files: resp_connection.cpp (requests,
// reading, writing, deadlines) and resp_connect.cpp (connect, TLS, handshake, reconnect).
#pragma once

#include <hiredis/hiredis.h>

#include <array>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "redis/resp_connection.hpp"
#include "redis/resp_handshake.hpp"
#include "tenure/net/deadline_queue.hpp"
#include "tenure/net/tls.hpp"

namespace tenure::backends::redis {

namespace asio = boost::asio;
namespace ssl = boost::asio::ssl;
using tcp = asio::ip::tcp;

struct RespConnection::Impl {
  struct Request {
    std::string wire;
    Callback cb;
    Clock::time_point deadline;
    milliseconds min_uptime{0};
  };
  struct Inflight {
    Callback cb;
    Clock::time_point deadline;
  };

  explicit Impl(const asio::any_io_executor& s)
      : resolver(s), deadlines(net::DeadlineQueue::create(s)) {}

  std::shared_ptr<net::TlsContext> tls;  // rediss:// only
  tcp::resolver resolver;
  // The socket and its TLS stream. Handlers hold the shared_ptr, so a transport outlives the
  // operations started on it even after a reconnect replaced it.
  struct Transport {
    explicit Transport(const asio::any_io_executor& s) : sock(s) {}
    tcp::socket sock;
    std::unique_ptr<ssl::stream<tcp::socket&>> tls;
  };
  std::shared_ptr<Transport> t;
  // The deadline check (armed for the earliest deadline anything waits for) and the reconnect
  // delay. Entries hold the connection weakly: the queue never keeps it alive.
  std::shared_ptr<net::DeadlineQueue> deadlines;
  net::DeadlineQueue::Id tick_id = 0;  // 0: no check armed
  Clock::time_point tick_at{};
  net::DeadlineQueue::Id backoff_id = 0;  // 0: no reconnect waiting
  redisReader* reader = nullptr;
  std::array<char, 16384> rbuf{};
  std::deque<Request> queued;     // not written yet
  std::deque<Inflight> inflight;  // written, awaiting their replies in order
  std::string out;                // to write after the current write
  std::string writing;            // being written
  bool write_busy = false;
  Clock::time_point connect_deadline{};
  std::vector<HandshakeStep> handshake;  // this connect's steps, in the order of their replies
  size_t handshake_at = 0;               // the step the next reply answers

  ~Impl() {
    if (reader) redisReaderFree(reader);
  }
  void reset_reader() {
    if (reader) redisReaderFree(reader);
    reader = redisReaderCreate();
  }
};

}  // namespace tenure::backends::redis
