#include "etcd/etcd_config.hpp"

#include "tenure/backend_options.hpp"

namespace tenure::backends::etcd {

std::string EtcdSettings::connection_key() const {
  std::string k = tls ? "etcds://" : "etcd://";
  if (!user.empty()) k += user + "@";
  for (auto& e : endpoints) k += e.authority() + ",";
  k += "|" + tls_options.ca_file + "|" + tls_options.cert_file + "|" + tls_options.key_file +
       (tls_options.insecure ? "|insecure" : "");
  return k;
}

Result<EtcdSettings> parse_etcd_settings(const BackendContext& ctx) {
  EtcdSettings s;
  const Url& u = ctx.url;
  s.tls = u.scheme == "etcds";
  if (u.hosts.empty())
    return make_error(Errc::bad_url,
                      "etcd URL '" + u.redacted() +
                          "' names no host: write etcd://host:2379[,host:port...][/prefix]");
  for (auto& h : u.hosts) {
    if (h.host.empty())
      return make_error(Errc::bad_url, "etcd URL '" + u.redacted() + "' has an empty host");
    s.endpoints.push_back(net::Endpoint{h.host, h.port ? h.port : 2379, s.tls});
  }
  s.user = u.user;
  s.password = u.password;
  if (!s.user.empty() && !u.has_password)
    return make_error(Errc::bad_url, "etcd URL '" + u.redacted() + "' names user '" + s.user +
                                         "' without a password: write etcd://user:password@host");
  s.path = u.path;
  // Options from the URL query or backend.<key> (the table in docs/etcd.md), read through the
  // toolkit so a mistake gets the same code and wording as on every backend.
  BackendOptions o("etcd", ctx);
  o.read("tls_ca", s.tls_options.ca_file);
  o.read("tls_cert", s.tls_options.cert_file);
  o.read("tls_key", s.tls_options.key_file);
  o.read_bool("tls_insecure", s.tls_options.insecure);
  if (!s.tls && (!s.tls_options.ca_file.empty() || !s.tls_options.cert_file.empty()))
    o.fail(make_error(Errc::invalid_argument,
                      "TLS options given for a plain etcd:// URL: use etcds:// for TLS"));
  if (Status st = o.finish(); !st.ok()) return st;
  s.tls_options.option_prefix = "backend.tls_";
  s.tls_options.ca_file_option = "backend.tls_ca";
  s.tls_options.cert_file_option = "backend.tls_cert";
  s.tls_options.key_file_option = "backend.tls_key";
  // etcd counts lease TTLs in whole seconds: round up, so the server never ends the lease
  // before the core's lease_duration (the core steps down at renew_deadline, earlier still).
  s.ttl_s = (ctx.timing.lease_duration.count() + 999) / 1000;
  if (s.ttl_s < 1) s.ttl_s = 1;
  return s;
}

}  // namespace tenure::backends::etcd
