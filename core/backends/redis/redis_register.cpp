// Registers the redis backend under its URL scheme(s); called from the list CMake generates
// (core/backends/builtin.cpp.in).
#include "redis/redis_backend.hpp"

namespace tenure::backends {

void register_redis_backend() {
  for (const char* scheme : {"redis", "rediss"}) register_backend(scheme, make_redis_backend);
}

}  // namespace tenure::backends
