// The backend contract suite against a real PostgreSQL, in both modes.
#include <cstdlib>

#include "contract/contract_suite.hpp"
#include "pg_test_support.hpp"

namespace tenure::testing {
namespace {

std::string wrong_password(const std::string& url) {
  // postgres://user:PASSWORD@host... -> same URL with another password
  const auto at = url.find('@');
  const auto colon = url.rfind(':', at);
  if (at == std::string::npos || colon == std::string::npos || colon < 11) return url;
  return url.substr(0, colon + 1) + "not-the-password" + url.substr(at);
}

ContractTarget pg_target(const std::string& name, const std::string& query) {
  ContractTarget t;
  t.name = name;
  t.url = [query] {
    const std::string base = pg_env("TENURE_TEST_POSTGRES_URL");
    return base.empty() ? base : with_query(base, query);
  };
  t.missing_hint = std::string("TENURE_TEST_POSTGRES_URL is not set: ") + kPgHint;
  t.restart_server = [] {
    const std::string cmd = pg_env("TENURE_TEST_POSTGRES_RESTART");
    if (!cmd.empty()) (void)std::system(cmd.c_str());
  };
  t.bad_credentials_url = [query] {
    return with_query(wrong_password(pg_env("TENURE_TEST_POSTGRES_URL")), query);
  };
  return t;
}

INSTANTIATE_TEST_SUITE_P(Postgres, BackendContract,
                         ::testing::Values(pg_target("Lease", ""),
                                           pg_target("Session", "mode=session")),
                         [](const auto& info) { return info.param.name; });

}  // namespace
}  // namespace tenure::testing
