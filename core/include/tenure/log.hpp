// Process-wide logging: what an operator needs (connects, reconnects, degraded modes, step-downs,
// server notices, caught exceptions) goes to one place the host chooses: a sink called on the
// logging thread, a bounded queue polled through a descriptor, or stderr when TENURE_LOG=level
// asks for it and neither is set. Messages never carry a password or token: callers pass URLs
// through Url::redacted().
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "tenure/errors.hpp"

namespace tenure {

// Values are part of the C ABI (tenure_log_level).
enum class LogLevel : int { off = 0, error = 1, warn = 2, info = 3, debug = 4 };
const char* log_level_name(LogLevel level) noexcept;
// "error", "warn"/"warning", "info", "debug", "off" (any case), or 0..4.
Result<LogLevel> parse_log_level(std::string_view text);

struct LogRecord {
  LogLevel level = LogLevel::info;
  std::string facility;  // core, redis, postgres, file, memory, cli
  std::string election;  // empty when the record concerns no single election
  std::string identity;  // empty when the record concerns no single elector
  std::string message;
  int64_t unix_ms = 0;  // wall clock when logged, for people
};

using LogSink = std::function<void(const LogRecord&)>;

// Replaces the sink (empty: none) and its level. When it returns, the old sink is not running and
// is never called again. Refused from inside a sink (it would wait for itself).
Status set_log_sink(LogLevel level, LogSink sink);
// Enables (level > off) or disables the log queue. Disabling drops what is queued.
Status set_log_queue(LogLevel level);
// The next queued record, waiting up to timeout. Errc::no_event when none; bad_state when the
// queue is not enabled.
Result<LogRecord> poll_log(std::chrono::milliseconds timeout);
// Readable while records wait in the queue; reset when the queue empties. -1 when refused.
int log_fd();
// Records the queue dropped (oldest first) because nobody drained it; it holds 10,000.
uint64_t log_dropped();

// Cheap check before building a message.
bool log_enabled(LogLevel level) noexcept;
// Never throws; a sink that throws is caught (and the record goes to stderr when TENURE_LOG asks).
void log(LogLevel level, std::string_view facility, std::string message,
         std::string_view election = {}, std::string_view identity = {}) noexcept;

}  // namespace tenure
