#include <map>
#include <mutex>

#include "tenure/backend.hpp"

namespace tenure {

namespace {
// Never destroyed: an atexit handler registered before the first elector (tenure_shutdown, a
// binding's exit hook) may still create or look up electors after static destructors ran.
std::mutex& registry_mutex() {
  static auto* mu = new std::mutex();
  return *mu;
}
std::map<std::string, BackendFactory>& registry() {
  static auto* r = new std::map<std::string, BackendFactory>();
  return *r;
}
void ensure_builtins() {
  static std::once_flag once;
  std::call_once(once, [] { register_builtin_backends(); });
}
}  // namespace

void register_backend(const std::string& scheme, BackendFactory factory) {
  std::lock_guard lock(registry_mutex());
  registry()[scheme] = std::move(factory);
}

const BackendFactory* find_backend(const std::string& scheme) {
  ensure_builtins();
  std::lock_guard lock(registry_mutex());
  auto it = registry().find(scheme);
  return it == registry().end() ? nullptr : &it->second;  // entries are never erased
}

std::vector<std::string> registered_schemes() {
  ensure_builtins();
  std::lock_guard lock(registry_mutex());
  std::vector<std::string> out;
  for (auto& [k, v] : registry()) out.push_back(k);
  return out;
}

}  // namespace tenure
