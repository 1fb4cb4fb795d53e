// The PostgreSQL backend: postgres://user:password@host:port/db?mode=session&schema=...&table=...
// (and postgresql://). See docs/postgres.md.
#pragma once

#include <memory>

#include "tenure/backend.hpp"

namespace tenure::backends {

Result<std::unique_ptr<LeaseBackend>> make_postgres_backend(const BackendContext& ctx);

}  // namespace tenure::backends
