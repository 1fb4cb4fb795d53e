// The contract suite on the two backends that need no server: memory and file.
#include <cstdlib>

#include "../support/test_support.hpp"
#include "contract_suite.hpp"

namespace tenure::testing {
namespace {

ContractTarget memory_target() {
  ContractTarget t;
  t.name = "Memory";
  t.url = [] { return "memory://" + unique_name("contract"); };
  t.cross_process = false;
  return t;
}

ContractTarget file_target() {
  ContractTarget t;
  t.name = "File";
  t.url = [] {
    char tmpl[] = "/tmp/tenure-contract-XXXXXX";
    const char* d = ::mkdtemp(tmpl);
    return d ? std::string("file://") + d : std::string();
  };
  t.missing_hint = "mkdtemp failed in /tmp";
  return t;
}

INSTANTIATE_TEST_SUITE_P(Local, BackendContract, ::testing::Values(memory_target(), file_target()),
                         [](const auto& info) { return info.param.name; });

}  // namespace
}  // namespace tenure::testing
