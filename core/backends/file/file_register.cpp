// Registers the file backend under its URL scheme(s); called from the list CMake generates
// (core/backends/builtin.cpp.in).
#include "file/file_backend.hpp"

namespace tenure::backends {

void register_file_backend() {
  for (const char* scheme : {"file"}) register_backend(scheme, make_file_backend);
}

}  // namespace tenure::backends
