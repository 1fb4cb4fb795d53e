#include "postgres/postgres_backend.hpp"

#include "postgres/pg_config.hpp"
#include "postgres/pg_hub.hpp"
#include "postgres/pg_session.hpp"

namespace tenure::backends {

Result<std::unique_ptr<LeaseBackend>> make_postgres_backend(const BackendContext& ctx) {
  if (!ctx.io) {
    return Status{
        make_error(Errc::unsupported_backend,
                   "the postgres backend needs the Asio runtime (not a manual executor)")};
  }
  auto cfg = pg::parse_config(ctx);
  if (!cfg.ok()) return cfg.status;
  auto hub = pg::PgHub::get(cfg.value, ctx.io);
  std::shared_ptr<pg::LeaseImpl> impl;
  if (cfg.value.session_mode) {
    impl =
        std::make_shared<pg::LockImpl>(ctx, hub, cfg.value.allow_proxy, cfg.value.takeover_grace);
  } else {
    impl = std::make_shared<pg::LeaseImpl>(ctx, hub);
  }
  return pg::make_session(std::move(impl));
}

}  // namespace tenure::backends
