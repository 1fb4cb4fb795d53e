#include "redis/subscriber.hpp"

#include "tenure/log.hpp"
#include "tenure/net/registry.hpp"

#include <boost/asio/bind_executor.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <map>

namespace tenure::backends::redis {

namespace asio = boost::asio;

Subscriber::Subscriber(std::shared_ptr<RespConnection> conn, std::shared_ptr<RespConnection> cmd,
                       bool keyspace_events, int db)
    : conn_(std::move(conn)),
      cmd_(cmd),
      keyspace_events_(keyspace_events),
      expired_channel_("__keyevent@" + std::to_string(db) + "__:expired"),
      poll_timer_(conn_->strand()) {}

Result<std::shared_ptr<Subscriber>> Subscriber::create(asio::any_io_executor io, ConnConfig cfg,
                                                       std::shared_ptr<RespConnection> cmd,
                                                       bool keyspace_events) {
  const int db = cfg.db;
  auto conn =
      RespConnection::create(std::move(io), std::move(cfg), RespConnection::Mode::subscriber);
  if (!conn.ok()) return conn.status;
  return std::shared_ptr<Subscriber>(
      new Subscriber(std::move(conn.value), std::move(cmd), keyspace_events, db));
}

uint64_t Subscriber::add(std::string channel, std::string lease_key, asio::any_io_executor target,
                         milliseconds poll_period, Fn fn) {
  const uint64_t id = next_id_++;
  asio::post(conn_->strand(), [self = shared_from_this(), id, channel = std::move(channel),
                               lease_key = std::move(lease_key), target = std::move(target),
                               poll_period, fn = std::move(fn)]() mutable {
    if (self->poll_period_.count() == 0 || poll_period < self->poll_period_)
      self->poll_period_ = poll_period;
    auto& list = self->by_channel_[channel];
    const bool first = list.empty();
    list.push_back(Watcher{id, std::move(target), std::move(fn)});
    self->lease_to_channel_[lease_key] = channel;
    self->by_id_[id] = {channel, lease_key};
    if (!self->started_) {
      self->started_ = true;
      std::weak_ptr<Subscriber> weak = self;
      self->conn_->start_subscriber(
          [weak](const Reply& r) {
            if (auto s = weak.lock()) s->on_push(r);
          },
          [weak] {
            if (auto s = weak.lock()) s->on_ready();
          },
          [weak](const Status&) {
            if (auto s = weak.lock()) s->on_down();
          });
      self->arm_poll();
    } else if (first && self->conn_->ready()) {
      self->conn_->send_now({"SUBSCRIBE", channel});
    }
  });
  return id;
}

void Subscriber::remove(uint64_t id) {
  asio::post(conn_->strand(), [self = shared_from_this(), id] {
    auto it = self->by_id_.find(id);
    if (it == self->by_id_.end()) return;
    auto [channel, lease_key] = it->second;
    self->by_id_.erase(it);
    auto ch = self->by_channel_.find(channel);
    if (ch == self->by_channel_.end()) return;
    auto& list = ch->second;
    list.erase(
        std::remove_if(list.begin(), list.end(), [id](const Watcher& w) { return w.id == id; }),
        list.end());
    if (list.empty()) {
      self->by_channel_.erase(ch);
      self->lease_to_channel_.erase(lease_key);
      if (self->conn_->ready()) self->conn_->send_now({"UNSUBSCRIBE", channel});
    }
  });
}

void Subscriber::shutdown() {
  asio::post(conn_->strand(), [self = shared_from_this()] {
    self->poll_timer_.cancel();
    self->by_channel_.clear();
    self->by_id_.clear();
    self->lease_to_channel_.clear();
  });
  conn_->shutdown();
}

void Subscriber::on_ready() {
  // Resubscribe everything, in batches, then tell every watcher to look: anything may have
  // happened while we were not listening.
  std::vector<std::string> argv{"SUBSCRIBE"};
  if (keyspace_events_) argv.push_back(expired_channel_);
  for (const auto& [channel, list] : by_channel_) {
    argv.push_back(channel);
    if (argv.size() >= 1000) {
      conn_->send_now(argv);
      argv.resize(1);
    }
  }
  if (argv.size() > 1) conn_->send_now(argv);
  subscribed_ = true;
  if (keyspace_events_) configure_keyspace();
  notify_all("reconnected");
}

void Subscriber::configure_keyspace() {
  auto cmd = cmd_.lock();
  if (!cmd) return;
  std::weak_ptr<Subscriber> weak = shared_from_this();
  std::weak_ptr<RespConnection> wcmd = cmd;
  cmd->command({"CONFIG", "GET", "notify-keyspace-events"}, [weak, wcmd](Result<Reply> r) {
    auto self = weak.lock();
    auto cmd = wcmd.lock();
    if (!self || !cmd) return;
    if (!r.ok() || r.value.is_error() || r.value.elements.size() < 2) {
      // Refused: expiry is caught by the sessions' TTL timers and polling; say so once.
      self->refuse_keyspace();
      return;
    }
    std::string flags = r.value.elements[1].as_string();
    const bool has_e = flags.find('E') != std::string::npos;
    const bool has_x = flags.find('x') != std::string::npos || flags.find('A') != std::string::npos;
    if (has_e && has_x) {
      self->keyspace_active_ = true;
      return;
    }
    if (!has_e) flags += 'E';
    if (!has_x) flags += 'x';
    cmd->command({"CONFIG", "SET", "notify-keyspace-events", flags}, [weak](Result<Reply> r2) {
      auto s = weak.lock();
      if (!s) return;
      s->keyspace_active_ = r2.ok() && !r2.value.is_error();
      if (!s->keyspace_active_) s->refuse_keyspace();
    });
  });
}

void Subscriber::on_push(const Reply& r) {
  if (r.type != Reply::Type::array || r.elements.size() < 3) return;
  const std::string& kind = r.elements[0].str;
  if (kind != "message") return;
  const std::string& channel = r.elements[1].str;
  const std::string& payload = r.elements[2].str;
  if (channel == expired_channel_) {
    auto it = lease_to_channel_.find(payload);
    if (it != lease_to_channel_.end()) notify_channel(it->second, "expired");
    return;
  }
  notify_channel(channel, payload);
}

void Subscriber::on_down() {
  // No wake-up burst here: every elector retries on its own; the poll below covers observers
  // until the subscription is back, and on_ready wakes everyone once it is.
  subscribed_ = false;
  arm_poll();
}

void Subscriber::notify_channel(const std::string& channel, const std::string& payload) {
  auto it = by_channel_.find(channel);
  if (it == by_channel_.end()) return;
  for (const auto& w : it->second) asio::post(w.target, [fn = w.fn, payload] { fn(payload); });
}

void Subscriber::refuse_keyspace() {
  keyspace_active_ = false;
  if (keyspace_refused_.exchange(true)) return;
  log(LogLevel::warn, "redis",
      "keyspace notifications are off and CONFIG SET was refused: a crashed leader's expiry is "
      "noticed by polling at retry_period, not at once (enable notify-keyspace-events Ex)");
  // The watcher lists belong to the subscriber connection's strand.
  asio::post(conn_->strand(), [self = shared_from_this()] { self->notify_all(kKeyspaceRefused); });
}

void Subscriber::notify_all(const std::string& payload) {
  for (const auto& [channel, list] : by_channel_)
    for (const auto& w : list) asio::post(w.target, [fn = w.fn, payload] { fn(payload); });
}

void Subscriber::arm_poll() {
  // While the subscription is down, wake every watcher each poll period (the fallback).
  if (poll_armed_ || subscribed_ || poll_period_.count() == 0) return;
  poll_armed_ = true;
  poll_timer_.expires_after(poll_period_);
  poll_timer_.async_wait(asio::bind_executor(
      conn_->strand(), [self = shared_from_this()](const boost::system::error_code& ec) {
        self->poll_armed_ = false;
        if (ec || self->subscribed_) return;
        self->notify_all("poll");
        self->arm_poll();
      }));
}

// ---- connection sharing ----------------------------------------------------------------------

std::shared_ptr<Subscriber> SharedConnections::subscriber() {
  std::lock_guard<std::mutex> lock(mu);
  if (!sub) {
    auto s = Subscriber::create(io, cfg, cmd, keyspace_events);
    if (s.ok()) sub = s.value;
  }
  return sub;
}

SharedConnections::~SharedConnections() {
  if (sub) sub->shutdown();
  if (cmd) cmd->shutdown();
}

Result<std::shared_ptr<SharedConnections>> get_shared_connections(asio::any_io_executor io,
                                                                  const ConnConfig& cfg,
                                                                  bool keyspace_events,
                                                                  bool share) {
  // Shared per runtime: the registry is a service of the io_context, so a runtime started again
  // never sees the old connections.
  auto& registry = net::ConnectionRegistry::of(io);
  const std::string key = cfg.pool_key() + (keyspace_events ? "|ks" : "|noks");
  using Make = std::function<std::shared_ptr<SharedConnections>()>;
  if (share)
    if (auto s = registry.get_or_create<SharedConnections>(key, Make([] { return nullptr; })))
      return s;
  // Outside the registry's lock: loading the TLS files may fail, and takes a moment.
  auto conn = RespConnection::create(io, cfg, RespConnection::Mode::command);
  if (!conn.ok()) return conn.status;
  auto shared = std::make_shared<SharedConnections>();
  shared->cmd = conn.value;
  shared->io = io;
  shared->cfg = cfg;
  shared->keyspace_events = keyspace_events;
  if (!share) return shared;
  // Another elector may have registered one meanwhile: use the winner's.
  return registry.get_or_create<SharedConnections>(key, Make([&] { return shared; }));
}

}  // namespace tenure::backends::redis
