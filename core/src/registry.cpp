#include <map>
#include <mutex>

#include "tenure/backend.hpp"

namespace tenure {

namespace {
std::mutex& registry_mutex() {
  static std::mutex mu;
  return mu;
}
std::map<std::string, BackendFactory>& registry() {
  static std::map<std::string, BackendFactory> r;
  return r;
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
