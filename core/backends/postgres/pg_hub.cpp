#include "postgres/pg_hub.hpp"

#include "postgres/pg_sql.hpp"

#include <boost/asio/post.hpp>

namespace tenure::backends::pg {

// Hubs and lock connections live as long as their runtime: the registry is a service of the
// io_context (net::ConnectionRegistry), so a runtime that is torn down (the last elector gone)
// and started again never sees the old hubs, and its shutdown abandons every connection that is
// left (closing the sockets, freeing advisory locks).
void track_connection(const asio::any_io_executor& io, const std::shared_ptr<PgConnection>& conn) {
  net::ConnectionRegistry::of(io).track(conn);
}

std::shared_ptr<PgHub> PgHub::get(const PgConfig& cfg, const asio::any_io_executor& io) {
  auto& registry = net::ConnectionRegistry::of(io);
  bool created = false;
  auto hub = registry.get_or_create<PgHub>(cfg.hub_key, [&] {
    created = true;
    // Its own strand on the runtime's io_context (the elector's executor is a strand on it).
    return std::shared_ptr<PgHub>(new PgHub(cfg, net::own_strand(io)));
  });
  if (created) {
    hub->start();
    registry.track(hub->conn_);
  }
  return hub;
}

PgHub::PgHub(PgConfig cfg, asio::any_io_executor ex) : cfg_(std::move(cfg)), ex_(std::move(ex)) {}

void PgHub::start() {
  listener_ = std::make_shared<PgListener>(cfg_.names.channel);
  ConnHooks hooks;
  hooks.setup.push_back(listener_->listen_sql());
  const LeaseSql sql = lease_sql(cfg_.names);
  hooks.prepare = {sql.acquire, sql.renew, sql.release, sql.read};
  hooks.keep_connected = true;
  std::weak_ptr<PgListener> wl = listener_;
  hooks.on_notify = [wl](const std::string& ch, const std::string& payload) {
    if (auto l = wl.lock()) l->on_notify(ch, payload);
  };
  auto first = std::make_shared<bool>(true);
  hooks.on_connected = [wl, first] {
    if (*first) {
      *first = false;
      return;
    }
    if (auto l = wl.lock()) l->on_reconnected();
  };
  conn_ = std::make_shared<PgConnection>(ex_, cfg_.conn, std::move(hooks));
  conn_->connect();
}

PgHub::~PgHub() {
  if (conn_) conn_->close();
  for (auto& [key, conns] : idle_locks_)
    for (auto& c : conns) c->close();
}

namespace {
constexpr size_t kIdleLockConnections = 4;
}

std::shared_ptr<PgConnection> PgHub::take_lock_connection(const std::vector<std::string>& setup,
                                                          bool refuse_pooler,
                                                          const std::vector<std::string>& prepare,
                                                          std::string& key) {
  key = refuse_pooler ? "direct\n" : "any\n";
  for (const auto& s : setup) key += s + "\n";
  {
    std::lock_guard<std::mutex> lk(pool_mu_);
    auto& idle = idle_locks_[key];
    if (!idle.empty()) {
      auto c = std::move(idle.back());
      idle.pop_back();
      return c;
    }
  }
  ConnHooks hooks;
  hooks.check_direct_session = refuse_pooler;
  hooks.setup = setup;
  hooks.prepare = prepare;
  auto c = std::make_shared<PgConnection>(ex_, cfg_.conn, std::move(hooks));
  track_connection(ex_, c);
  return c;
}

void PgHub::give_back_lock_connection(std::shared_ptr<PgConnection> conn, const std::string& key) {
  conn->set_on_lost(nullptr);
  // Queued behind anything still in flight (a pg_try_advisory_lock whose answer the closed
  // session never saw): the next owner starts without a lock it does not know about. If this
  // fails the connection is reset, which frees every lock as well.
  conn->query("SELECT pg_advisory_unlock_all()", {}, cfg_.conn.connect_timeout,
              [](Result<PgResult>) {});
  std::lock_guard<std::mutex> lk(pool_mu_);
  auto& idle = idle_locks_[key];
  if (idle.size() >= kIdleLockConnections) return conn->close();
  idle.push_back(std::move(conn));
}

void PgHub::ensure_schema(milliseconds timeout, std::function<void(Status)> done) {
  asio::post(ex_, [self = shared_from_this(), timeout, done = std::move(done)]() mutable {
    if (self->schema_ready()) return done({});
    self->schema_waiters_.push_back(std::move(done));
    if (self->schema_running_) return;
    self->schema_running_ = true;
    pg::ensure_schema(self->conn_, self->cfg_.names, timeout, [self](Status s) {
      // Runs on the connection's executor, which is the hub's.
      self->schema_running_ = false;
      if (s.ok()) self->schema_ready_.store(true, std::memory_order_release);
      auto waiters = std::move(self->schema_waiters_);
      self->schema_waiters_.clear();
      for (auto& w : waiters) w(s);
    });
  });
}

void PgHub::schema_suspect() { schema_ready_.store(false, std::memory_order_release); }

}  // namespace tenure::backends::pg
