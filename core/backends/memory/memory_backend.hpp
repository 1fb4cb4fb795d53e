// memory://NAMESPACE — an in-process backend for fast, deterministic core tests. Electors in one
// process that name the same namespace share leases; nothing survives the process.
#pragma once

#include <memory>

#include "tenure/backend.hpp"

namespace tenure::backends {

Result<std::unique_ptr<LeaseBackend>> make_memory_backend(const BackendContext& ctx);

// Fault injection for tests: every request of the given namespace/election fails with
// Errc::unreachable (fail), or never completes until healed (hang).
enum class MemoryFault { none, fail, hang };
void set_memory_fault(const std::string& ns, const std::string& election, MemoryFault fault);
// Test hook: sets the last token handed out, as a long history would.
void set_memory_token(const std::string& ns, const std::string& election, uint64_t token);
// Test hook: hands the lease to new_holder with a new token, as an operator overriding it would.
void steal_memory_lease(const std::string& ns, const std::string& election,
                        const std::string& new_holder);

}  // namespace tenure::backends
