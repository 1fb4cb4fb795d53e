// file:///DIR — the embedded backend for processes on one host. Leadership is an OFD lock
// (fcntl F_OFD_SETLK) on DIR/ELECTION.lock: session-bound, so the kernel releases it the instant
// a crashed leader's file is closed. The lease record (holder, fencing token) is DIR/ELECTION.lease
// and the run-once ledger DIR/ELECTION.runs/, both replaced atomically and fsynced.
#pragma once

#include <memory>

#include "tenure/backend.hpp"

namespace tenure::backends {

Result<std::unique_ptr<LeaseBackend>> make_file_backend(const BackendContext& ctx);

}  // namespace tenure::backends
