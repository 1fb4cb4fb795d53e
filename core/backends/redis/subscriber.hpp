// The pub/sub side: one subscriber connection per URL per process, multiplexing the channels of
// every election watched through it, plus keyspace expiry events (__keyevent@DB__:expired) when
// the server allows them. Watchers get a call on their own executor when their election's channel
// or lease key fires, after every reconnect, and every poll period while the subscription is down.
#pragma once

#include <utility>

#include <atomic>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "redis/resp_connection.hpp"

namespace tenure::backends::redis {

class Subscriber : public std::enable_shared_from_this<Subscriber> {
 public:
  using Fn = std::function<void(const std::string& payload)>;

  static Result<std::shared_ptr<Subscriber>> create(boost::asio::any_io_executor io, ConnConfig cfg,
                                                    std::shared_ptr<RespConnection> cmd,
                                                    bool keyspace_events);
  // Thread-safe. fn runs on target. poll_period: how often to call fn while unsubscribed.
  uint64_t add(std::string channel, std::string lease_key, boost::asio::any_io_executor target,
               milliseconds poll_period, Fn fn);
  void remove(uint64_t id);
  void shutdown();
  // True once CONFIG allowed keyspace expiry events (or they were on already).
  bool keyspace_active() const { return keyspace_active_; }
  // True once the server refused to turn them on; watchers also get kKeyspaceRefused then.
  bool keyspace_refused() const { return keyspace_refused_; }
  static constexpr const char* kKeyspaceRefused = "tenure:keyspace-refused";
  bool subscribed() const { return subscribed_; }

 private:
  struct Watcher {
    uint64_t id;
    boost::asio::any_io_executor target;
    Fn fn;
  };
  Subscriber(std::shared_ptr<RespConnection> conn, std::shared_ptr<RespConnection> cmd,
             bool keyspace_events, int db);
  void on_ready();
  void on_push(const Reply& r);
  void on_down();
  void notify_channel(const std::string& channel, const std::string& payload);
  void notify_all(const std::string& payload);
  void configure_keyspace();
  void refuse_keyspace();
  void arm_poll();

  std::shared_ptr<RespConnection> conn_;
  std::weak_ptr<RespConnection> cmd_;
  bool keyspace_events_;
  std::string expired_channel_;
  boost::asio::steady_timer poll_timer_;
  bool poll_armed_ = false;
  milliseconds poll_period_{0};
  bool started_ = false;
  std::atomic<bool> keyspace_active_{false};
  std::atomic<bool> keyspace_refused_{false};
  std::atomic<bool> subscribed_{false};
  std::atomic<uint64_t> next_id_{1};
  std::unordered_map<std::string, std::vector<Watcher>> by_channel_;
  std::unordered_map<std::string, std::string> lease_to_channel_;
  std::unordered_map<uint64_t, std::pair<std::string, std::string>> by_id_;  // channel, lease key
};

// Connections shared by all sessions of one URL (and settings) on one io_context.
struct SharedConnections {
  std::shared_ptr<RespConnection> cmd;
  // Created on the first watch().
  std::shared_ptr<Subscriber> subscriber();
  ~SharedConnections();

  boost::asio::any_io_executor io;
  ConnConfig cfg;
  bool keyspace_events = true;
  std::mutex mu;
  std::shared_ptr<Subscriber> sub;
};

Result<std::shared_ptr<SharedConnections>> get_shared_connections(boost::asio::any_io_executor io,
                                                                  const ConnConfig& cfg,
                                                                  bool keyspace_events, bool share);

}  // namespace tenure::backends::redis
