// Server leases shared by the electors of one process, as etcd's concurrency.Session shares one:
// 10,000 electors on one etcd need one lease and one keep-alive, not 10,000. A lease carries at
// most one candidate key per election (the key is "<election prefix><lease hex>"), so a second
// elector of the same election in this process gets a second lease.
// Everything here runs on the connection's strand.
#pragma once

#include <boost/asio/steady_timer.hpp>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "etcd/etcd_proto.hpp"
#include "tenure/executor.hpp"
#include "tenure/net/backoff.hpp"
#include "tenure/options.hpp"

namespace tenure::backends::etcd {

class EtcdConn;

// What a user hears from its lease, on the connection's strand (post to your own).
struct LeaseUser {
  std::function<void(int64_t lease)> renewed;  // a keep-alive got through (TTL > 0)
  // The lease is gone (TTL 0, not found) or keep-alives failed past the users' renew_deadline:
  // every key on it is gone or will be. The user is detached already.
  std::function<void(int64_t lease, Status why)> lost;
  Timing timing;
  milliseconds request_timeout{0};
};

class LeasePool {
 public:
  LeasePool(std::weak_ptr<EtcdConn> conn, int64_t ttl_s) : conn_(std::move(conn)), ttl_s_(ttl_s) {}
  ~LeasePool();
  // A lease with no candidate of `election` yet (granted now if needed); done gets its ID.
  // `user_id` is unique per elector.
  void attach(uint64_t user_id, const std::string& election, LeaseUser user,
              std::function<void(Result<int64_t>)> done);
  // The user leaves; the last user of a lease revokes it (bounded by timeout). done runs once
  // the revoke finished or failed (at once when others still use the lease).
  void detach(uint64_t user_id, milliseconds timeout, std::function<void()> done);

 private:
  struct Lease {
    int64_t id = 0;  // 0 while the grant is out
    std::map<uint64_t, LeaseUser> users;
    std::map<uint64_t, std::string> election_of;
    std::set<std::string> elections;
    std::vector<std::pair<uint64_t, std::function<void(Result<int64_t>)>>> waiting;
    std::unique_ptr<boost::asio::steady_timer> timer;
    Clock::time_point last_ok{};
    bool in_flight = false;
    bool dead = false;
  };
  void grant(const std::shared_ptr<Lease>& l);
  void schedule(const std::shared_ptr<Lease>& l);
  void keep_alive(const std::shared_ptr<Lease>& l);
  void kill(const std::shared_ptr<Lease>& l, const Status& why, bool revoke);
  void revoke_abandoned(int64_t id, Clock::time_point until, std::shared_ptr<net::Backoff> backoff);
  milliseconds interval(const Lease& l) const;
  milliseconds deadline(const Lease& l) const;
  milliseconds timeout(const Lease& l) const;

  std::weak_ptr<EtcdConn> conn_;
  int64_t ttl_s_;
  std::vector<std::shared_ptr<Lease>> leases_;
};

}  // namespace tenure::backends::etcd
