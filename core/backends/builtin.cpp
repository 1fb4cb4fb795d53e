// The one place that knows every built-in backend: registers each under its URL scheme(s).
#include "file/file_backend.hpp"
#include "memory/memory_backend.hpp"
#include "tenure/backend.hpp"
#ifdef TENURE_WITH_REDIS
#include "redis/redis_backend.hpp"
#endif
#ifdef TENURE_WITH_POSTGRES
#include "postgres/postgres_backend.hpp"
#endif
#ifdef TENURE_WITH_ETCD
#include "etcd/etcd_backend.hpp"
#endif

namespace tenure {

void register_builtin_backends() {
  register_backend("memory", backends::make_memory_backend);
  register_backend("file", backends::make_file_backend);
#ifdef TENURE_WITH_REDIS
  register_backend("redis", backends::make_redis_backend);
  register_backend("rediss", backends::make_redis_backend);
#endif
#ifdef TENURE_WITH_POSTGRES
  register_backend("postgres", backends::make_postgres_backend);
  register_backend("postgresql", backends::make_postgres_backend);
#endif
#ifdef TENURE_WITH_ETCD
  register_backend("etcd", backends::make_etcd_backend);
  register_backend("etcds", backends::make_etcd_backend);
#endif
}

}  // namespace tenure
