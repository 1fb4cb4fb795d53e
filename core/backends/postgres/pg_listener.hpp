// LISTEN/NOTIFY wake-up: acquire and release statements NOTIFY the lease table's channel with the
// election as payload; the hub's connection LISTENs and this registry wakes the electors of that
// election. After a reconnect every subscriber is woken (a notification may have been missed).
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>

namespace tenure::backends::pg {

namespace asio = boost::asio;

class PgListener : public std::enable_shared_from_this<PgListener> {
 public:
  explicit PgListener(std::string channel) : channel_(std::move(channel)) {}
  // Thread-safe. on_change is posted to io whenever election's lease may have changed.
  uint64_t subscribe(const std::string& election, asio::any_io_executor io,
                     std::function<void()> on_change);
  void unsubscribe(uint64_t id);
  // From the connection (its executor).
  void on_notify(const std::string& channel, const std::string& payload);
  void on_reconnected();
  std::string listen_sql() const;

 private:
  struct Sub {
    std::string election;
    asio::any_io_executor io;
    std::function<void()> fn;
  };
  std::string channel_;
  std::mutex mu_;
  uint64_t next_ = 1;
  std::multimap<std::string, uint64_t> by_election_;
  std::map<uint64_t, Sub> subs_;
};

}  // namespace tenure::backends::pg
