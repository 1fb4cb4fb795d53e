#include "file_pool.hpp"

#include <mutex>
#include <string>

#include "tenure/log.hpp"
#include "tenure/process.hpp"

namespace tenure::backends::file {

FilePool::FilePool() {
  for (int i = 0; i < 2; ++i) threads.push_back(spawn_thread("tenure-file", [this] { run(); }));
}

void FilePool::run() {
  for (;;) {
    try {
      io.run();
      return;
    } catch (const std::exception& e) {
      log(LogLevel::error, "file", std::string("file work threw: ") + e.what());
    } catch (...) {
      log(LogLevel::error, "file", "file work threw a non-standard exception");
    }
  }
}

void FilePool::stop(bool now) {
  guard.reset();
  if (now) {
    stopped = true;
    io.stop();
  }
  for (auto& t : threads) {
    if (!t.joinable()) continue;
    if (t.get_id() == std::this_thread::get_id())
      t.detach();  // the last session was freed on a pool thread: it ends on its own
    else
      t.join();
  }
}

std::shared_ptr<FilePool> file_pool() {
  // Never destroyed: electors may be created from an atexit handler after static destructors.
  static auto* mu = new std::mutex();
  static auto* weak = new std::weak_ptr<FilePool>();
  static uint64_t generation = 0;
  if (generation != fork_generation()) {
    // In a forked child the parent's pool (and a lock a parent thread held) is not ours.
    new (mu) std::mutex();
    new (weak) std::weak_ptr<FilePool>();
    generation = fork_generation();
  }
  std::lock_guard lock(*mu);
  auto pool = weak->lock();
  if (!pool || pool->stopped) {
    pool = std::make_shared<FilePool>();
    *weak = pool;
    // Joined by tenure::shutdown like the runtime's own threads.
    on_shutdown([w = std::weak_ptr<FilePool>(pool)] {
      if (auto p = w.lock()) p->stop(true);
    });
  }
  return pool;
}

}  // namespace tenure::backends::file
