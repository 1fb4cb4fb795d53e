#include "tenure/net/registry.hpp"

#include <algorithm>
#include <boost/asio/execution/context.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/query.hpp>
#include <boost/asio/strand.hpp>

namespace tenure::net {

namespace asio = boost::asio;

asio::execution_context::id ConnectionRegistry::id;

ConnectionRegistry::ConnectionRegistry(asio::execution_context& ctx)
    : asio::execution_context::service(ctx) {}

ConnectionRegistry::~ConnectionRegistry() = default;

ConnectionRegistry& ConnectionRegistry::of(const asio::any_io_executor& io) {
  asio::execution_context& ctx = asio::query(io, asio::execution::context);
  return asio::use_service<ConnectionRegistry>(ctx);
}

std::shared_ptr<void> ConnectionRegistry::get_or_create_erased(
    std::type_index type, const std::string& key,
    const std::function<std::shared_ptr<void>()>& make) {
  std::lock_guard<std::mutex> lk(mu_);
  for (auto it = objects_.begin(); it != objects_.end();)  // forget dead objects
    it = it->second.expired() ? objects_.erase(it) : std::next(it);
  auto k = std::make_pair(type, key);
  if (auto it = objects_.find(k); it != objects_.end())
    if (auto p = it->second.lock()) return p;
  auto p = make();
  // After shutdown nothing is kept: the io_context is going away, and a stale entry would
  // outlive it.
  if (p && !shut_down_) objects_[k] = p;
  return p;
}

void ConnectionRegistry::track(const std::shared_ptr<Abandonable>& obj) {
  std::lock_guard<std::mutex> lk(mu_);
  tracked_.erase(
      std::remove_if(tracked_.begin(), tracked_.end(), [](auto& w) { return w.expired(); }),
      tracked_.end());
  tracked_.push_back(obj);
}

size_t ConnectionRegistry::live_objects() const {
  std::lock_guard<std::mutex> lk(mu_);
  return size_t(
      std::count_if(objects_.begin(), objects_.end(), [](auto& e) { return !e.second.expired(); }));
}

void ConnectionRegistry::shutdown() {
  std::vector<std::shared_ptr<Abandonable>> live;
  {
    std::lock_guard<std::mutex> lk(mu_);
    shut_down_ = true;
    for (auto& w : tracked_)
      if (auto p = w.lock()) live.push_back(std::move(p));
    tracked_.clear();
    objects_.clear();
  }
  for (auto& p : live) p->abandon();  // outside the lock: abandon may drop the last reference
}

asio::any_io_executor own_strand(const asio::any_io_executor& io) {
  using IoEx = asio::io_context::executor_type;
  if (const auto* s = io.target<asio::strand<IoEx>>())
    return asio::make_strand(s->get_inner_executor());
  if (const auto* s = io.target<asio::strand<asio::any_io_executor>>())
    return asio::make_strand(s->get_inner_executor());
  if (const auto* e = io.target<IoEx>()) return asio::make_strand(*e);
  return asio::make_strand(io);
}

}  // namespace tenure::net
