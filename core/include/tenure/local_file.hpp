// Reading a small local file named by an option (a TLS CA, certificate or key) without blocking:
// a FIFO or a device named by mistake or malice would block open() or read() forever.
#pragma once

#include <cstddef>
#include <string>

#include "tenure/errors.hpp"

namespace tenure {

// The contents of the regular file `path`, at most max_bytes. Anything else (missing, a FIFO, a
// device, a directory, too large) is an Errc::invalid_argument naming `option` and the path.
Result<std::string> read_regular_file(const std::string& option, const std::string& path,
                                      size_t max_bytes = size_t(1) << 20);

// For files another library opens (libpq's sslrootcert, ...): refuses a path that exists and is
// not a regular file. A missing file is left to that library's own message.
Status check_not_special_file(const std::string& option, const std::string& path);

}  // namespace tenure
