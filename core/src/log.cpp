#include "tenure/log.hpp"

#include "runtime.hpp"

#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <condition_variable>
#include <cstdlib>
#include <deque>
#include <mutex>
#include <shared_mutex>

namespace tenure {

namespace {

constexpr size_t kQueueCapacity = 10000;

// True while this thread runs the sink: a sink that logs (or calls tenure, which logs) must not
// re-enter itself, and must not wait for itself in set_log_sink.
thread_local bool t_in_sink = false;

struct Logger {
  // The sink is called under a shared lock, so set_log_sink (exclusive) returns only once no
  // call to the old sink is in progress.
  std::shared_mutex sink_mu;
  LogSink sink;
  LogLevel sink_level = LogLevel::off;

  std::mutex q_mu;
  std::condition_variable q_cv;
  std::deque<LogRecord> q;
  LogLevel q_level = LogLevel::off;
  int q_fd = -1;
  std::atomic<uint64_t> dropped{0};

  LogLevel env_level = LogLevel::off;  // TENURE_LOG, read once
  std::atomic<int> max_level{0};       // the most verbose of the three, for log_enabled

  Logger() {
    if (const char* v = std::getenv("TENURE_LOG")) {
      auto r = parse_log_level(v);
      if (r.ok()) env_level = r.value;
    }
    recompute();
  }
  // Stderr only when the host chose neither a sink nor the queue.
  LogLevel stderr_level() const {
    return sink || q_level != LogLevel::off ? LogLevel::off : env_level;
  }
  // Called with sink_mu held exclusively and q_mu held.
  void recompute() {
    int m = std::max({static_cast<int>(sink ? sink_level : LogLevel::off),
                      static_cast<int>(q_level), static_cast<int>(stderr_level())});
    max_level.store(m, std::memory_order_relaxed);
  }
};

Logger& logger() {
  static Logger* l = new Logger();  // never destroyed: threads may log during exit
  return *l;
}

int64_t now_unix_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

void write_stderr(const LogRecord& r) {
  std::string line = "tenure: ";
  line += log_level_name(r.level);
  line += " [" + r.facility;
  if (!r.election.empty()) line += " " + r.election;
  if (!r.identity.empty()) line += "/" + r.identity;
  line += "] " + r.message + "\n";
  // One write: lines from several threads do not interleave.
  [[maybe_unused]] auto n = ::write(2, line.data(), line.size());
}

void enqueue(Logger& l, const LogRecord& r) {
  std::lock_guard lock(l.q_mu);
  if (l.q_level == LogLevel::off || r.level > l.q_level) return;
  if (l.q.size() >= kQueueCapacity) {
    l.q.pop_front();
    l.dropped.fetch_add(1, std::memory_order_relaxed);
  }
  bool was_empty = l.q.empty();
  l.q.push_back(r);
  if (was_empty && l.q_fd >= 0) {
    uint64_t one = 1;
    [[maybe_unused]] auto n = ::write(l.q_fd, &one, sizeof one);
  }
  l.q_cv.notify_one();
}

}  // namespace

const char* log_level_name(LogLevel level) noexcept {
  switch (level) {
    case LogLevel::off:
      return "off";
    case LogLevel::error:
      return "error";
    case LogLevel::warn:
      return "warn";
    case LogLevel::info:
      return "info";
    case LogLevel::debug:
      return "debug";
  }
  return "unknown";
}

Result<LogLevel> parse_log_level(std::string_view text) {
  std::string t;
  for (char c : text) t += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (t == "off" || t == "0" || t == "none") return LogLevel::off;
  if (t == "error" || t == "1") return LogLevel::error;
  if (t == "warn" || t == "warning" || t == "2") return LogLevel::warn;
  if (t == "info" || t == "3") return LogLevel::info;
  if (t == "debug" || t == "4") return LogLevel::debug;
  return make_error(Errc::invalid_argument, "log level '" + std::string(text) +
                                                "' is not one of off, error, warn, info, debug");
}

Status set_log_sink(LogLevel level, LogSink sink) {
  if (level < LogLevel::off || level > LogLevel::debug)
    return make_error(Errc::invalid_argument, "log level must be TENURE_LOG_OFF..TENURE_LOG_DEBUG");
  if (t_in_sink)
    return make_error(Errc::in_callback,
                      "the log callback cannot be replaced from inside the log callback");
  Logger& l = logger();
  LogSink old;
  {
    std::unique_lock w(l.sink_mu);
    old = std::move(l.sink);
    l.sink = std::move(sink);
    l.sink_level = l.sink ? level : LogLevel::off;
    std::lock_guard q(l.q_mu);
    l.recompute();
  }
  return {};  // `old` (and what it captured) is destroyed here, outside the lock
}

Status set_log_queue(LogLevel level) {
  if (level < LogLevel::off || level > LogLevel::debug)
    return make_error(Errc::invalid_argument, "log level must be TENURE_LOG_OFF..TENURE_LOG_DEBUG");
  if (t_in_sink)
    return make_error(Errc::in_callback,
                      "the log queue cannot be changed from inside the log callback");
  Logger& l = logger();
  std::unique_lock w(l.sink_mu);  // log() reads q_level under the shared lock (stderr_level)
  std::lock_guard lock(l.q_mu);
  l.q_level = level;
  if (level == LogLevel::off) {
    l.q.clear();
    if (l.q_fd >= 0) {
      uint64_t v;
      [[maybe_unused]] auto n = ::read(l.q_fd, &v, sizeof v);
    }
  }
  l.recompute();
  l.q_cv.notify_all();
  return {};
}

Result<LogRecord> poll_log(std::chrono::milliseconds timeout) {
  Logger& l = logger();
  std::unique_lock lock(l.q_mu);
  if (l.q_level == LogLevel::off && l.q.empty())
    return make_error(Errc::bad_state,
                      "the log queue is not enabled; call tenure_log_set_queue with a level first");
  if (!l.q_cv.wait_for(lock, timeout, [&] { return !l.q.empty(); }))
    return make_error(Errc::no_event, "no log record within the timeout");
  LogRecord rec = std::move(l.q.front());
  l.q.pop_front();
  if (l.q.empty() && l.q_fd >= 0) {
    uint64_t v;
    [[maybe_unused]] auto n = ::read(l.q_fd, &v, sizeof v);
  }
  return rec;
}

int log_fd() {
  Logger& l = logger();
  std::lock_guard lock(l.q_mu);
  if (l.q_fd < 0) l.q_fd = ::eventfd(l.q.empty() ? 0 : 1, EFD_NONBLOCK | EFD_CLOEXEC);
  return l.q_fd;
}

uint64_t log_dropped() { return logger().dropped.load(std::memory_order_relaxed); }

bool log_enabled(LogLevel level) noexcept {
  return static_cast<int>(level) <= logger().max_level.load(std::memory_order_relaxed) &&
         level != LogLevel::off;
}

void log(LogLevel level, std::string_view facility, std::string message, std::string_view election,
         std::string_view identity) noexcept {
  if (!log_enabled(level)) return;
  try {
    Logger& l = logger();
    LogRecord rec{level,
                  std::string(facility),
                  std::string(election),
                  std::string(identity),
                  std::move(message),
                  now_unix_ms()};
    enqueue(l, rec);
    // Logged from inside the sink: a sink is set (so no stderr), and the lock is not taken twice.
    if (t_in_sink) return;
    bool to_stderr = false;
    {
      std::shared_lock r(l.sink_mu);
      if (l.sink && level <= l.sink_level) {
        t_in_sink = true;
        try {
          l.sink(rec);
        } catch (...) {
          // A host's sink must not take a tenure thread down; nothing sensible to report to.
        }
        t_in_sink = false;
      }
      to_stderr = level <= l.stderr_level();
    }
    if (to_stderr) write_stderr(rec);
  } catch (...) {
    // Out of memory while logging: the record is lost, the caller goes on.
  }
}

void log_after_fork_child() {
  // A parent thread may have held these at fork; the parent's queued records and its eventfd (a
  // descriptor shared with the parent) are not the child's.
  Logger& l = logger();
  new (&l.sink_mu) std::shared_mutex();
  new (&l.q_mu) std::mutex();
  new (&l.q_cv) std::condition_variable();
  keep_after_fork(new std::deque<LogRecord>(std::move(l.q)));
  if (l.q_fd >= 0) ::close(l.q_fd);
  l.q_fd = -1;
}

}  // namespace tenure
