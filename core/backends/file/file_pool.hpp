// The file backend's worker pool: blocking file work (fsync) runs here, never on the I/O thread.
#pragma once

#include <atomic>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <memory>
#include <thread>
#include <vector>

namespace tenure::backends::file {

// Two threads of tenure's own (so they carry the host's thread hooks), one pool per process (a
// forked child makes its own).
struct FilePool {
  boost::asio::io_context io{2};
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> guard =
      boost::asio::make_work_guard(io);
  std::vector<std::thread> threads;
  std::atomic<bool> stopped{false};  // by tenure::shutdown: work posted later never runs
  FilePool();
  ~FilePool() { stop(false); }
  // An exception from file work must not end the thread (std::terminate): log it, go on.
  void run();
  void stop(bool now);
};

// The process's pool, started on first use and joined by tenure::shutdown.
std::shared_ptr<FilePool> file_pool();

}  // namespace tenure::backends::file
