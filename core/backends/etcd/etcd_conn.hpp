// One etcd client per (endpoints, user, TLS files) and runtime, shared by every elector of the
// process: the HTTP client (kept-alive connections, failover, token auth) and the leases.
// Everything here runs on the connection's own strand; callers post results to their own.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include "etcd/etcd_config.hpp"
#include "etcd/etcd_proto.hpp"
#include "tenure/net/http_client.hpp"

namespace tenure::backends::etcd {

class LeasePool;

class EtcdConn : public std::enable_shared_from_this<EtcdConn> {
 public:
  // The live connection for these settings, or a new one.
  static Result<std::shared_ptr<EtcdConn>> get(const boost::asio::any_io_executor& io,
                                               const EtcdSettings& s);
  ~EtcdConn();

  // POST /v3/<path>. done runs on strand() with the answer or an error that names the endpoint
  // and what to fix (gRPC codes mapped as error_from_body; 404 and non-JSON: not etcd).
  // idempotent: may be sent again to another endpoint if the connection dies mid-request.
  // urgent: waits ahead of other calls when every connection is busy (lease grant, keep-alive).
  void call(const std::string& path, const json& body, milliseconds timeout, bool idempotent,
            std::function<void(Result<json>)> done, bool urgent = false);
  // A /v3/watch stream; on_msg per message, on_end once (unless closed), both on strand().
  std::shared_ptr<net::HttpStream> watch(const json& create,
                                         std::function<void(Result<WatchMessage>)> on_msg,
                                         std::function<void(Status)> on_end);
  // The leases of one TTL (one pool per TTL; created on first use). Only on strand().
  LeasePool& leases(int64_t ttl_s);

  const boost::asio::any_io_executor& strand() const { return strand_; }
  std::string describe() const { return where_; }

 private:
  EtcdConn() = default;
  Status answer_error(const net::HttpResponse& r, const std::string& what) const;

  boost::asio::any_io_executor strand_;
  std::shared_ptr<net::HttpClient> http_;
  std::string where_;  // "etcd at 127.0.0.1:2379,..." for messages
  std::map<int64_t, std::unique_ptr<LeasePool>> pools_;
};

}  // namespace tenure::backends::etcd
