#include "postgres/pg_listener.hpp"

#include <boost/asio/post.hpp>
#include <vector>

namespace tenure::backends::pg {

std::string PgListener::listen_sql() const { return "LISTEN \"" + channel_ + "\""; }

uint64_t PgListener::subscribe(const std::string& election, asio::any_io_executor io,
                               std::function<void()> on_change) {
  std::lock_guard<std::mutex> lk(mu_);
  const uint64_t id = next_++;
  subs_[id] = Sub{election, std::move(io), std::move(on_change)};
  by_election_.emplace(election, id);
  return id;
}

void PgListener::unsubscribe(uint64_t id) {
  std::lock_guard<std::mutex> lk(mu_);
  auto it = subs_.find(id);
  if (it == subs_.end()) return;
  auto range = by_election_.equal_range(it->second.election);
  for (auto e = range.first; e != range.second; ++e) {
    if (e->second == id) {
      by_election_.erase(e);
      break;
    }
  }
  subs_.erase(it);
}

void PgListener::on_notify(const std::string& channel, const std::string& payload) {
  if (channel != channel_) return;
  std::vector<std::pair<asio::any_io_executor, std::function<void()>>> wake;
  {
    std::lock_guard<std::mutex> lk(mu_);
    auto range = by_election_.equal_range(payload);
    for (auto e = range.first; e != range.second; ++e) {
      const Sub& s = subs_[e->second];
      wake.emplace_back(s.io, s.fn);
    }
  }
  // Never call back under the lock, and never inline: each elector on its own strand.
  for (auto& [io, fn] : wake) asio::post(io, fn);
}

void PgListener::on_reconnected() {
  std::vector<std::pair<asio::any_io_executor, std::function<void()>>> wake;
  {
    std::lock_guard<std::mutex> lk(mu_);
    for (auto& [id, s] : subs_) wake.emplace_back(s.io, s.fn);
  }
  for (auto& [io, fn] : wake) asio::post(io, fn);
}

}  // namespace tenure::backends::pg
