// Helpers shared by the C++ test suites: event logs, condition waits, server lookup.
#pragma once

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "child_process.hpp"
#include "tenure/elector.hpp"

namespace tenure::testing {

using tools::ChildProcess;

using namespace std::chrono_literals;

// Records the events of one elector (set as its callback) and lets a test wait for one. The
// callback shares the log's state, so the log may be destroyed before the elector.
class EventLog {
 public:
  EventCallback callback() {
    return [st = st_](const Event& e) {
      std::lock_guard lock(st->mu);
      st->events.push_back(e);
      st->cv.notify_all();
    };
  }
  // Waits for an event matching pred among those not yet consumed by a previous wait.
  bool wait_for(const std::function<bool(const Event&)>& pred, std::chrono::milliseconds limit,
                Event* out = nullptr) {
    std::unique_lock lock(st_->mu);
    return st_->cv.wait_for(lock, limit, [&] {
      for (; st_->cursor < st_->events.size(); ++st_->cursor)
        if (pred(st_->events[st_->cursor])) {
          if (out) *out = st_->events[st_->cursor];
          ++st_->cursor;
          return true;
        }
      return false;
    });
  }
  bool wait_type(EventType t, std::chrono::milliseconds limit, Event* out = nullptr) {
    return wait_for([t](const Event& e) { return e.type == t; }, limit, out);
  }
  std::vector<Event> all() const {
    std::lock_guard lock(st_->mu);
    return st_->events;
  }

 private:
  struct State {
    std::mutex mu;
    std::condition_variable cv;
    std::vector<Event> events;
    size_t cursor = 0;
  };
  std::shared_ptr<State> st_ = std::make_shared<State>();
};

inline bool wait_until(const std::function<bool()>& cond, std::chrono::milliseconds limit,
                       std::chrono::milliseconds step = 5ms) {
  auto end = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < end) {
    if (cond()) return true;
    std::this_thread::sleep_for(step);
  }
  return cond();
}

inline bool under_ci() {
  const char* ci = std::getenv("CI");
  return ci && std::string(ci) == "true";
}

// The value of a server's environment variable, or "" after failing (under CI) or skipping
// (locally) the current test with a message saying how to start the server.
#define TENURE_REQUIRE_ENV(var, value_out, hint)                                                 \
  do {                                                                                           \
    const char* v_ = std::getenv(var);                                                           \
    if (!v_ || !*v_) {                                                                           \
      std::string msg_ = std::string(var) + " is not set: " + (hint);                            \
      if (::tenure::testing::under_ci()) FAIL() << msg_ << " (CI=true: a missing server fails)"; \
      GTEST_SKIP() << msg_;                                                                      \
    }                                                                                            \
    value_out = v_;                                                                              \
  } while (0)

// The value of an environment variable, "" when it is unset.
inline std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

// Runs a shell command; returns all it wrote to stdout (stderr too if cmd says 2>&1).
inline std::string shell_output(const std::string& cmd) {
  std::string out;
  if (FILE* p = ::popen(cmd.c_str(), "r")) {
    char buf[4096];
    size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
    ::pclose(p);
  }
  return out;
}

// An elector on `url` (not started), or nullptr after failing the current test.
inline std::unique_ptr<Elector> make_elector(const std::string& url, const std::string& election,
                                             const std::string& identity, Timing timing,
                                             std::chrono::milliseconds stop_timeout) {
  ElectorOptions o;
  o.backend_url = url;
  o.election = election;
  o.identity = identity;
  o.timing = timing;
  o.stop_timeout = stop_timeout;
  auto r = Elector::create(o);
  EXPECT_TRUE(r.ok()) << r.status.message;
  return r.ok() ? std::move(r.value) : nullptr;
}

// How many of es (null entries allowed) say they lead.
inline int count_leaders(const std::vector<std::unique_ptr<Elector>>& es) {
  int n = 0;
  for (auto& e : es)
    if (e && e->status().is_leader) ++n;
  return n;
}

// The events queued on e so far (poll_event without waiting).
inline std::vector<Event> drain_events(Elector& e) {
  std::vector<Event> out;
  for (;;) {
    auto r = e.poll_event(std::chrono::milliseconds(0));
    if (!r.ok()) return out;
    out.push_back(r.value);
  }
}

// The first event of type t in v, or nullptr.
inline const Event* find_event(const std::vector<Event>& v, EventType t) {
  for (auto& e : v)
    if (e.type == t) return &e;
  return nullptr;
}

// Samples every millisecond on a thread that at most one of es leads; finish() stops it and says
// whether that held throughout. es must outlive the sampler (or its finish()).
class OneLeaderSampler {
 public:
  explicit OneLeaderSampler(const std::vector<std::unique_ptr<Elector>>& es)
      : th_([this, &es] {
          while (!stop_) {
            if (count_leaders(es) > 1) two_ = true;
            std::this_thread::sleep_for(std::chrono::milliseconds(1));
          }
        }) {}
  ~OneLeaderSampler() { finish(); }
  bool finish() {
    stop_ = true;
    if (th_.joinable()) th_.join();
    return !two_;
  }

 private:
  std::atomic<bool> stop_{false}, two_{false};
  std::thread th_;
};

inline std::string unique_name(const std::string& prefix) {
  static std::atomic<int> n{0};
  auto now = std::chrono::steady_clock::now().time_since_epoch().count();
  return prefix + "-" + std::to_string(now % 100000000) + "-" + std::to_string(n++);
}

}  // namespace tenure::testing
