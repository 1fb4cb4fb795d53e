#include "postgres/pg_hub.hpp"

#include "postgres/pg_sql.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>
#include <map>

namespace tenure::backends::pg {

namespace {
std::mutex g_mu;
std::map<std::string, std::weak_ptr<PgHub>> g_hubs;
uint64_t g_unshared = 0;
}  // namespace

std::shared_ptr<PgHub> PgHub::get(const PgConfig& cfg, const asio::any_io_executor& io) {
  // The elector's executor is a strand over the runtime's io_context: share per io_context.
  asio::io_context* ioc = nullptr;
  using Strand = asio::strand<asio::io_context::executor_type>;
  if (const auto* s = io.target<Strand>()) {
    ioc = &s->get_inner_executor().context();
  } else if (const auto* e = io.target<asio::io_context::executor_type>()) {
    ioc = &e->context();
  }
  std::lock_guard<std::mutex> lk(g_mu);
  std::string key;
  asio::any_io_executor ex;
  if (ioc != nullptr) {
    key = std::to_string(reinterpret_cast<uintptr_t>(ioc)) + "\x1e" + cfg.hub_key;
    ex = asio::make_strand(ioc->get_executor());
  } else {
    key = "unshared-" + std::to_string(++g_unshared);
    ex = asio::make_strand(io);
  }
  for (auto it = g_hubs.begin(); it != g_hubs.end();) {  // forget dead hubs
    it = it->second.expired() ? g_hubs.erase(it) : std::next(it);
  }
  if (auto it = g_hubs.find(key); it != g_hubs.end()) {
    if (auto hub = it->second.lock()) return hub;
  }
  std::shared_ptr<PgHub> hub(new PgHub(cfg, ex));
  hub->start();
  g_hubs[key] = hub;
  return hub;
}

PgHub::PgHub(PgConfig cfg, asio::any_io_executor ex) : cfg_(std::move(cfg)), ex_(std::move(ex)) {}

void PgHub::start() {
  listener_ = std::make_shared<PgListener>(cfg_.names.channel);
  ConnHooks hooks;
  hooks.setup.push_back(listener_->listen_sql());
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
