// The etcd backend answers option mistakes as every backend does (tenure/backend_options.hpp):
// unknown option, malformed value, TLS options on a plain URL, a manual executor. No server is
// needed: the backend refuses these at creation, before connecting.
#include <gtest/gtest.h>

#include <string>

#include "support/option_errors.hpp"
#include "tenure/elector.hpp"
#include "tenure/manual_executor.hpp"

namespace tenure {
namespace {

// Nothing listens on port 1: a creation that wrongly succeeded would never connect anyway.
const std::string kEtcd = "etcd://127.0.0.1:1";
const std::string kEtcds = "etcds://127.0.0.1:1";

using testing::create_status;
using testing::expect_both_ways;

TEST(EtcdOptions, UnknownOptionIsUnknownOptionNamingTheKnownOnes) {
  expect_both_ways({kEtcd, "nope", "1", Errc::unknown_option, "'nope'"});
  expect_both_ways({kEtcds, "tls_cafile", "/x", Errc::unknown_option,
                    "known: tls_ca, tls_cert, tls_key, tls_insecure"});
}

TEST(EtcdOptions, MalformedValueIsInvalidArgument) {
  expect_both_ways({kEtcds, "tls_insecure", "maybe", Errc::invalid_argument, "true or false"});
}

TEST(EtcdOptions, TlsOptionsOnAPlainUrlAreInvalidArgument) {
  expect_both_ways({kEtcd, "tls_ca", "/tmp/ca.crt", Errc::invalid_argument, "etcds://"});
}

TEST(EtcdOptions, GoodOptionsAreAccepted) {
  EXPECT_TRUE(create_status(kEtcds + "?tls_insecure=true", {}).ok());
  EXPECT_TRUE(create_status(kEtcds, {{"tls_insecure", "yes"}}).ok());
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
