// The backend contract suite on real etcd 3.6: the single server (etcd://), the TLS member with
// client certificates (etcds://) and the three-member cluster (etcd://h1,h2,h3).
#include <cstdlib>

#include "contract/contract_suite.hpp"
#include "etcd_test_support.hpp"

namespace tenure::testing {
namespace {

void restart_etcd() {
  std::string cmd = env("TENURE_TEST_ETCD_RESTART");
  ASSERT_FALSE(cmd.empty()) << "TENURE_TEST_ETCD_RESTART not set: " << etcd::kStartHint;
  ASSERT_EQ(std::system(cmd.c_str()), 0) << "restart failed: " << cmd;
}

std::string auth_url_with(const std::string& password) {
  std::string u = env("TENURE_TEST_ETCD_AUTH_URL");
  if (u.empty()) return "";
  return "etcd://" + env("TENURE_TEST_ETCD_USER") + ":" + password + "@" + etcd::host_port(u);
}

ContractTarget etcd_target() {
  ContractTarget t;
  t.name = "Etcd";
  t.url = [] { return env("TENURE_TEST_ETCD_URL"); };
  t.missing_hint = etcd::kStartHint;
  t.restart_server = restart_etcd;
  t.bad_credentials_url = [] { return auth_url_with("not-the-password"); };
  return t;
}

ContractTarget etcd_auth_target() {
  ContractTarget t;
  t.name = "EtcdAuth";
  t.url = [] { return auth_url_with(env("TENURE_TEST_ETCD_PASSWORD")); };
  t.missing_hint = etcd::kStartHint;
  t.bad_credentials_url = [] { return auth_url_with("not-the-password"); };
  return t;
}

ContractTarget etcds_target() {
  ContractTarget t;
  t.name = "EtcdTls";
  t.url = [] { return env("TENURE_TEST_ETCDS_URL"); };
  t.missing_hint = etcd::kStartHint;
  t.backend_options["tls_ca"] = env("TENURE_TEST_ETCD_CA");
  t.backend_options["tls_cert"] = env("TENURE_TEST_ETCD_CLIENT_CERT");
  t.backend_options["tls_key"] = env("TENURE_TEST_ETCD_CLIENT_KEY");
  return t;
}

ContractTarget etcd_cluster_target() {
  ContractTarget t;
  t.name = "EtcdCluster";
  t.url = [] { return env("TENURE_TEST_ETCD_CLUSTER_URL"); };
  t.missing_hint = etcd::kStartHint;
  return t;
}

INSTANTIATE_TEST_SUITE_P(Etcd, BackendContract,
                         ::testing::Values(etcd_target(), etcd_auth_target(), etcds_target(),
                                           etcd_cluster_target()),
                         [](const auto& info) { return info.param.name; });

}  // namespace
}  // namespace tenure::testing
