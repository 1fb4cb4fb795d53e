// Registers the etcd backend under its URL schemes; called from the list CMake generates
// (core/backends/builtin.cpp.in).
#include "etcd/etcd_backend.hpp"

namespace tenure::backends {

void register_etcd_backend() {
  for (const char* scheme : {"etcd", "etcds"}) register_backend(scheme, make_etcd_backend);
}

}  // namespace tenure::backends
