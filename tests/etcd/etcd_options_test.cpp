// The etcd backend answers option mistakes as every backend does (tenure/backend_options.hpp):
// unknown option, malformed value, TLS options on a plain URL, a manual executor. No server is
// needed: the backend refuses these at creation, before connecting.
#include <gtest/gtest.h>

#include <map>
#include <string>

#include "tenure/elector.hpp"
#include "tenure/manual_executor.hpp"

namespace tenure {
namespace {

// Nothing listens on port 1: a creation that wrongly succeeded would never connect anyway.
const std::string kEtcd = "etcd://127.0.0.1:1";
const std::string kEtcds = "etcds://127.0.0.1:1";

Status create(const std::string& backend_url, std::map<std::string, std::string> backend_opts) {
  ElectorOptions o;
  o.backend_url = backend_url;
  o.election = "opts";
  o.identity = "a";
  o.backend_options = std::move(backend_opts);
  return Elector::create(o).status;
}

// As a URL query key and as a backend.<key> elector option: the same code and message.
void expect_both_ways(const std::string& base, const std::string& key, const std::string& value,
                      Errc want, const std::string& needle) {
  for (const Status& s :
       {create(base + "?" + key + "=" + value, {}), create(base, {{key, value}})}) {
    EXPECT_EQ(s.code, want) << base << " " << key << "=" << value << ": " << s.message;
    EXPECT_NE(s.message.find(needle), std::string::npos) << s.message;
  }
}

TEST(EtcdOptions, UnknownOptionIsUnknownOptionNamingTheKnownOnes) {
  expect_both_ways(kEtcd, "nope", "1", Errc::unknown_option, "'nope'");
  expect_both_ways(kEtcds, "tls_cafile", "/x", Errc::unknown_option,
                   "known: tls_ca, tls_cert, tls_key, tls_insecure");
}

TEST(EtcdOptions, MalformedValueIsInvalidArgument) {
  expect_both_ways(kEtcds, "tls_insecure", "maybe", Errc::invalid_argument, "true or false");
}

TEST(EtcdOptions, TlsOptionsOnAPlainUrlAreInvalidArgument) {
  expect_both_ways(kEtcd, "tls_ca", "/tmp/ca.crt", Errc::invalid_argument, "etcds://");
}

TEST(EtcdOptions, GoodOptionsAreAccepted) {
  EXPECT_TRUE(create(kEtcds + "?tls_insecure=true", {}).ok());
  EXPECT_TRUE(create(kEtcds, {{"tls_insecure", "yes"}}).ok());
}

TEST(EtcdOptions, NeedsTheAsioRuntimeIsUnsupportedBackend) {
  auto exec = std::make_shared<ManualExecutor>();
  ElectorOptions o;
  o.backend_url = kEtcd;
  o.election = "opts";
  o.identity = "a";
  auto e = Elector::create_with_executor(o, exec);
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.status.code, Errc::unsupported_backend) << e.status.message;
  EXPECT_NE(e.status.message.find("needs the Asio runtime"), std::string::npos) << e.status.message;
  exec->run_ready();
}

}  // namespace
}  // namespace tenure
