#include "file_backend.hpp"

#include <memory>
#include <string>

#include "file_session.hpp"
#include "file_store.hpp"
#include "tenure/backend_options.hpp"

namespace tenure::backends {

Result<std::unique_ptr<LeaseBackend>> make_file_backend(const BackendContext& ctx) {
  const Url& u = ctx.url;
  if (!u.host.empty() && u.host != "localhost")
    return make_error(Errc::bad_url, "file backend URL '" + u.redacted() + "' names host '" +
                                         u.host +
                                         "'; use three slashes and an absolute path: "
                                         "file:///var/lib/tenure");
  if (u.path.empty() || u.path == "/")
    return make_error(Errc::bad_url, "file backend URL '" + u.redacted() +
                                         "' has no directory; use file:///var/lib/tenure");
  if (Status s = BackendOptions("file", ctx).finish(); !s.ok()) return s;
  std::string dir = u.path;
  while (dir.size() > 1 && dir.back() == '/') dir.pop_back();
  if (auto s = file::ensure_writable_dir(dir); !s.ok()) return s;
  auto session = std::make_unique<file::FileSession>(ctx, dir);
  if (auto s = session->open_lock(); !s.ok()) return s;
  session->attach_hub();
  return std::unique_ptr<LeaseBackend>(std::move(session));
}

}  // namespace tenure::backends
