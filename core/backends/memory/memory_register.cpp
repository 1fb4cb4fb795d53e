// Registers the memory backend under its URL scheme(s); called from the list CMake generates
// (core/backends/builtin.cpp.in).
#include "memory/memory_backend.hpp"

namespace tenure::backends {

void register_memory_backend() {
  for (const char* scheme : {"memory"}) register_backend(scheme, make_memory_backend);
}

}  // namespace tenure::backends
