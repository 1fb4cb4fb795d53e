// The Redis backend: redis://[user[:password]@]host[:port][/db] and rediss:// (TLS).
// Leases are SET NX PX keys written by Lua scripts, fencing tokens come from an INCR counter that
// never expires, followers wake on pub/sub and keyspace expiry events. See docs/redis.md.
#pragma once

#include <memory>

#include "tenure/backend.hpp"

namespace tenure::backends {

Result<std::unique_ptr<LeaseBackend>> make_redis_backend(const BackendContext& ctx);

}  // namespace tenure::backends
