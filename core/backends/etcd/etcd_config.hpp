// Settings of the etcd backend from its URL and backend.* options, checked once at creation.
#pragma once

#include <string>
#include <vector>

#include "tenure/backend.hpp"
#include "tenure/net/endpoint.hpp"
#include "tenure/net/tls.hpp"

namespace tenure::backends::etcd {

struct EtcdSettings {
  std::vector<net::Endpoint> endpoints;  // etcd://h1:p1,h2:p2 (default port 2379)
  bool tls = false;                      // etcds://
  net::TlsOptions tls_options;           // backend.tls_ca, tls_cert, tls_key, tls_insecure
  std::string user, password;            // etcd://user:password@...: token auth
  std::string path;                      // the URL's path: the key root (see make_layout)
  int64_t ttl_s = 0;                     // the lease TTL: lease_duration rounded up to seconds
  // Identifies the shared connection: endpoints, TLS files and user (never the password).
  std::string connection_key() const;
};

// Errc::bad_url / unknown_option / invalid_argument with a message naming what to fix.
Result<EtcdSettings> parse_etcd_settings(const BackendContext& ctx);

}  // namespace tenure::backends::etcd
