// Registers the postgres backend under its URL scheme(s); called from the list CMake generates
// (core/backends/builtin.cpp.in).
#include "postgres/postgres_backend.hpp"

namespace tenure::backends {

void register_postgres_backend() {
  for (const char* scheme : {"postgres", "postgresql"})
    register_backend(scheme, make_postgres_backend);
}

}  // namespace tenure::backends
