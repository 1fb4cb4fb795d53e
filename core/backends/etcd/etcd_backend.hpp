// The etcd backend: etcd://[user:password@]host:port[,host:port...][/prefix] and etcds:// (TLS).
// Candidates are laid out as etcd's own concurrency.Election lays them out (a key per candidate,
// "<prefix>/<election>/<lease hex>", on a server lease kept alive for the whole process); the
// lowest create revision leads and is the fencing token. See docs/etcd.md.
#pragma once

#include <memory>

#include "tenure/backend.hpp"

namespace tenure::backends {

Result<std::unique_ptr<LeaseBackend>> make_etcd_backend(const BackendContext& ctx);

}  // namespace tenure::backends
