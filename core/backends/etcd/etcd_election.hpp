// One elector's candidacy in one etcd election; shared with its run-once ledger. Runs on the
// elector's strand; the connection and the lease pool run on theirs, results come back posted.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "etcd/etcd_config.hpp"
#include "etcd/etcd_conn.hpp"
#include "etcd/etcd_proto.hpp"
#include "tenure/backend.hpp"

namespace tenure::backends::etcd {

struct Election : std::enable_shared_from_this<Election> {
  Election(const BackendContext& ctx, EtcdSettings s, std::shared_ptr<EtcdConn> c);

  // A gateway call whose done runs on the elector's strand, never after close.
  void call(const std::string& path, const json& body, std::function<void(Result<json>)> done,
            bool idempotent = true);
  void post(std::function<void()> fn);
  // Our lease (attached on first use); done(ok) once lease_id is set.
  void with_lease(std::function<void(Status)> done);
  // Our candidate key exists (created under create_revision == 0 if not); done once my_rev set.
  void ensure_key(std::function<void(Status)> done);
  // Watches `key` (or the range up to range_end) from start_rev; any event calls sink.changed().
  void watch(const std::string& key, const std::string& range_end, int64_t start_rev);
  void stop_watch();
  void forget_key();  // our key is gone (released, lease lost)
  LeaseRecord record_of(const KeyValue& kv) const;

  void on_renewed(int64_t lease);
  void on_lease_lost(int64_t lease, Status why);

  boost::asio::any_io_executor io;
  std::shared_ptr<Executor> executor;
  EtcdSettings settings;
  std::shared_ptr<EtcdConn> conn;
  Layout layout;
  std::string election, identity;
  Timing timing;
  milliseconds request_timeout;
  uint64_t user_id;
  LeaseSink* sink = nullptr;
  bool closed = false;

  int64_t lease_id = 0;
  bool attaching = false;
  std::vector<std::function<void(Status)>> lease_waiters;
  std::string my_key;  // "<election prefix><lease hex>" once we have a lease
  int64_t my_rev = 0;  // its create revision; 0: no key
  bool leading = false;
  Clock::time_point last_keepalive{};

  std::shared_ptr<net::HttpStream> stream;
  std::string watched;  // key (or key + range end) of the open watch
};

std::unique_ptr<Ledger> make_etcd_ledger(std::shared_ptr<Election> e);

}  // namespace tenure::backends::etcd
