// Shared connections registered once per runtime: an Asio execution_context service keyed by
// (type, key). A runtime torn down and started again never sees the old objects, and the
// service's shutdown abandons every tracked connection (closing sockets, freeing server-side
// session state) before the io_context's handlers are destroyed.
//
// Generalized from the PostgreSQL hub (core/backends/postgres/pg_hub.cpp). Objects are held
// weakly: a shared connection lives as long as its last user, and is created again on next use.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/execution_context.hpp>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <typeindex>
#include <vector>

namespace tenure::net {

// What the registry abandons at runtime shutdown. abandon() must not block or post work: the
// io_context is stopping. It may run on any thread, concurrently with nothing else of the runtime.
class Abandonable {
 public:
  virtual ~Abandonable() = default;
  virtual void abandon() = 0;
};

class ConnectionRegistry : public boost::asio::execution_context::service {
 public:
  static boost::asio::execution_context::id id;
  explicit ConnectionRegistry(boost::asio::execution_context& ctx);
  ~ConnectionRegistry() override;

  // The registry of the io_context behind `io` (created on first use).
  static ConnectionRegistry& of(const boost::asio::any_io_executor& io);

  // The live object registered under (T, key), or make()'s result registered now. make() runs
  // under the registry's lock: keep it cheap (construct; start connecting afterwards), and do
  // not call back into the registry from it. Thread-safe.
  template <class T>
  std::shared_ptr<T> get_or_create(const std::string& key,
                                   const std::function<std::shared_ptr<T>()>& make) {
    bool created = false;
    auto p = get_or_create_erased(std::type_index(typeid(T)), key, [&]() -> std::shared_ptr<void> {
      created = true;
      return make();
    });
    (void)created;
    return std::static_pointer_cast<T>(p);
  }

  // abandon() is called on `obj` at shutdown if it is still alive then. Thread-safe.
  void track(const std::shared_ptr<Abandonable>& obj);
  size_t live_objects() const;  // registered objects still alive (tests)

  void shutdown() override;

 private:
  std::shared_ptr<void> get_or_create_erased(std::type_index type, const std::string& key,
                                             const std::function<std::shared_ptr<void>()>& make);
  mutable std::mutex mu_;
  std::map<std::pair<std::type_index, std::string>, std::weak_ptr<void>> objects_;
  std::vector<std::weak_ptr<Abandonable>> tracked_;
  bool shut_down_ = false;
};

// A new strand on the io_context under `io` (unwrapping an elector's strand), so a connection
// shared by many electors runs on its own strand, not on the first user's.
boost::asio::any_io_executor own_strand(const boost::asio::any_io_executor& io);

}  // namespace tenure::net
