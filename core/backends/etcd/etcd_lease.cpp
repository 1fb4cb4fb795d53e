#include "etcd/etcd_lease.hpp"

#include <algorithm>
#include <boost/asio/post.hpp>

#include "etcd/etcd_conn.hpp"

namespace tenure::backends::etcd {

namespace asio = boost::asio;

namespace {
// Retrying the revoke of a lease given up while etcd was unreachable: 100 ms doubling to 2 s,
// for at most 5 minutes (after that etcd is back or the process has other worries; the lease
// then expires a TTL after etcd returns).
constexpr net::BackoffPolicy kRevokeRetry{milliseconds(100), 2.0, milliseconds(2000), 0.0};
constexpr auto kAbandonedRevokeFor = std::chrono::minutes(5);
}  // namespace

LeasePool::~LeasePool() {
  for (auto& l : leases_)
    if (l->timer) l->timer->cancel();
}

milliseconds LeasePool::interval(const Lease& l) const {
  // Every user's retry_period is its renew cadence; the shortest serves them all. Never slower
  // than a third of the TTL (as etcd's own client).
  milliseconds m(ttl_s_ * 1000 / 3);
  for (auto& [id, u] : l.users) m = std::min(m, u.timing.retry_period);
  return std::max(m, milliseconds(50));
}

milliseconds LeasePool::deadline(const Lease& l) const {
  milliseconds m(ttl_s_ * 1000);
  for (auto& [id, u] : l.users) m = std::min(m, u.timing.renew_deadline);
  return m;
}

milliseconds LeasePool::timeout(const Lease& l) const {
  milliseconds m(ttl_s_ * 1000);
  for (auto& [id, u] : l.users)
    if (u.request_timeout.count() > 0) m = std::min(m, u.request_timeout);
  return m;
}

void LeasePool::attach(uint64_t user_id, const std::string& election, LeaseUser user,
                       std::function<void(Result<int64_t>)> done) {
  auto conn = conn_.lock();
  if (!conn) return;
  std::shared_ptr<Lease> lease;
  for (auto& l : leases_)
    if (!l->dead && !l->elections.count(election)) {
      lease = l;
      break;
    }
  const bool fresh = !lease;
  if (fresh) {
    lease = std::make_shared<Lease>();
    lease->timer = std::make_unique<asio::steady_timer>(conn->strand());
    leases_.push_back(lease);
  }
  lease->users[user_id] = std::move(user);
  lease->election_of[user_id] = election;
  lease->elections.insert(election);
  if (lease->id != 0) {
    asio::post(conn->strand(), [done, id = lease->id] { done(id); });
    return;
  }
  lease->waiting.emplace_back(user_id, std::move(done));
  if (fresh) grant(lease);
}

void LeasePool::grant(const std::shared_ptr<Lease>& l) {
  auto conn = conn_.lock();
  if (!conn) return;
  std::weak_ptr<Lease> weak = l;
  conn->call(
      "lease/grant", grant_body(ttl_s_), timeout(*l), false,
      [this, weak, conn_w = conn_](Result<json> r) {
        auto l = weak.lock();
        auto conn = conn_w.lock();
        if (!l || !conn || l->dead) return;
        Result<int64_t> id = r.ok() ? get_int64(r.value, "ID") : Result<int64_t>(r.status);
        if (id.ok() && id.value == 0) id = make_error(Errc::backend, "etcd granted lease ID 0");
        auto waiting = std::move(l->waiting);
        if (!id.ok()) {
          // Nobody holds a key on it: forget the lease, each waiter retries on its own.
          l->dead = true;
          std::erase(leases_, l);
          for (auto& [uid, done] : waiting) done(id.status);
          return;
        }
        l->id = id.value;
        l->last_ok = Clock::now();
        if (l->users.empty()) {  // everyone left while the grant was out
          l->dead = true;
          std::erase(leases_, l);
          conn->call("lease/revoke", lease_id_body(l->id), milliseconds(ttl_s_ * 1000), true,
                     [](Result<json>) {});
          return;
        }
        schedule(l);
        for (auto& [uid, done] : waiting) done(l->id);
      },
      true);
}

void LeasePool::schedule(const std::shared_ptr<Lease>& l) {
  std::weak_ptr<Lease> weak = l;
  l->timer->expires_after(interval(*l));
  l->timer->async_wait([this, weak, conn_w = conn_](const boost::system::error_code& ec) {
    auto l = weak.lock();
    auto conn = conn_w.lock();  // keeps this pool alive while it runs
    if (ec || !l || l->dead || !conn) return;
    keep_alive(l);
  });
}

void LeasePool::keep_alive(const std::shared_ptr<Lease>& l) {
  auto conn = conn_.lock();
  if (!conn || l->in_flight) return;
  l->in_flight = true;
  auto sent = Clock::now();
  std::weak_ptr<Lease> weak = l;
  conn->call(
      "lease/keepalive", lease_id_body(l->id), timeout(*l), true,
      [this, weak, sent, conn_w = conn_](Result<json> r) {
        auto l = weak.lock();
        auto conn = conn_w.lock();
        if (!l || !conn || l->dead) return;
        l->in_flight = false;
        Result<int64_t> ttl = r.ok() ? parse_keepalive_ttl(r.value) : Result<int64_t>(r.status);
        if (ttl.ok() && ttl.value > 0) {
          l->last_ok = sent;  // the lease runs TTL from no earlier than the send
          for (auto& [uid, u] : l->users)
            if (u.renewed) u.renewed(l->id);
          schedule(l);
          return;
        }
        if (ttl.ok() || ttl.status.code == Errc::lost) {
          kill(l,
               make_error(Errc::lost, "etcd lease " + lease_hex(l->id) +
                                          " is gone (the server answered TTL 0): it "
                                          "expired before a keep-alive got through"),
               false);
          return;
        }
        auto silent = Clock::now() - l->last_ok;
        if (silent >= deadline(*l)) {
          kill(l,
               make_error(
                   Errc::lost,
                   "no etcd keep-alive of lease " + lease_hex(l->id) + " got through for " +
                       std::to_string(std::chrono::duration_cast<milliseconds>(silent).count()) +
                       " ms (renew_deadline); last error: " + ttl.status.message),
               true);
          return;
        }
        // Try again soon, well before the deadline.
        l->timer->expires_after(std::min(interval(*l), milliseconds(100)));
        std::weak_ptr<Lease> w2 = l;
        l->timer->async_wait([this, w2, conn_w](const boost::system::error_code& ec) {
          auto l = w2.lock();
          auto conn = conn_w.lock();
          if (ec || !l || l->dead || !conn) return;
          keep_alive(l);
        });
      },
      true);
}

void LeasePool::kill(const std::shared_ptr<Lease>& l, const Status& why, bool revoke) {
  l->dead = true;
  l->timer->cancel();
  std::erase(leases_, l);
  auto users = std::move(l->users);
  l->users.clear();
  // Its keys must not outlive the users' belief that they are gone.
  if (revoke && l->id)
    revoke_abandoned(l->id, Clock::now() + kAbandonedRevokeFor,
                     std::make_shared<net::Backoff>(kRevokeRetry));
  for (auto& [uid, u] : users)
    if (u.lost) u.lost(l->id, why);
}

// A lease given up because etcd could not be reached keeps its keys until it expires, and etcd
// renews every lease to its full TTL when a new leader takes over (a restart does that): without
// a revoke, a successor waits a whole TTL after the server is back. So the revoke is retried
// while etcd cannot be reached, and stops once etcd answers anything (revoked, or not found
// because it expired meanwhile).
void LeasePool::revoke_abandoned(int64_t id, Clock::time_point until,
                                 std::shared_ptr<net::Backoff> backoff) {
  auto conn = conn_.lock();
  if (!conn) return;
  conn->call(
      "lease/revoke", lease_id_body(id), milliseconds(ttl_s_ * 1000), true,
      [this, id, until, backoff, conn_w = conn_](Result<json> r) {
        auto conn = conn_w.lock();  // keeps this pool alive while it runs
        if (!conn || r.ok()) return;
        if (r.status.code != Errc::unreachable && r.status.code != Errc::timeout) return;
        const milliseconds wait = backoff->next();
        if (Clock::now() + wait >= until) return;
        auto t = std::make_shared<asio::steady_timer>(conn->strand(), wait);
        t->async_wait([this, t, id, until, backoff, conn_w](const boost::system::error_code& ec) {
          auto conn = conn_w.lock();
          if (ec || !conn) return;
          revoke_abandoned(id, until, backoff);
        });
      },
      true);
}

void LeasePool::detach(uint64_t user_id, milliseconds timeout_ms, std::function<void()> done) {
  auto conn = conn_.lock();
  std::shared_ptr<Lease> lease;
  for (auto& l : leases_)
    if (l->users.count(user_id)) lease = l;
  if (!conn || !lease) {
    if (conn)
      asio::post(conn->strand(), done);
    else
      done();
    return;
  }
  lease->elections.erase(lease->election_of[user_id]);
  lease->election_of.erase(user_id);
  lease->users.erase(user_id);
  std::erase_if(lease->waiting, [&](auto& w) { return w.first == user_id; });
  if (!lease->users.empty() || lease->id == 0) {
    asio::post(conn->strand(), done);
    return;
  }
  lease->dead = true;
  lease->timer->cancel();
  std::erase(leases_, lease);
  conn->call("lease/revoke", lease_id_body(lease->id), timeout_ms, true,
             [done](Result<json>) { done(); });
}

}  // namespace tenure::backends::etcd
