// `tenure watch`: one line per leadership change, until SIGINT/SIGTERM/SIGHUP.
#include <poll.h>

#include <nlohmann/json.hpp>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "commands.hpp"

namespace tenure::cli {

namespace {

// Prints one line and flushes it, so a pipe reader sees each change at once. False when stdout
// is gone (the reader quit).
bool emit_line(const std::string& line) {
  if (std::fprintf(stdout, "%s\n", line.c_str()) < 0) return false;
  return std::fflush(stdout) == 0;
}

}  // namespace

int watch_command(const WatchArgs& args) {
  SignalFd signals({SIGINT, SIGTERM, SIGHUP});
  if (!signals.ok()) {
    print_error("watch", std::string("signalfd: ") + std::strerror(errno));
    return kExitFailure;
  }
  auto opts = build_options(args.election, true);
  if (!opts.ok()) {
    print_error("watch", opts.status);
    return kExitUsage;
  }
  auto created = Elector::create(std::move(opts.value));
  if (!created.ok()) {
    print_error("watch", created.status);
    return kExitUsage;
  }
  auto& elector = *created.value;
  if (auto s = elector.start(); !s.ok()) {
    print_error("watch", s);
    return kExitFailure;
  }

  int code = kExitOk;
  bool contacted = false;
  bool done = false;
  while (!done) {
    // stdout too (no events asked): a pipe whose reader quit reports POLLERR, so `watch | head`
    // ends without waiting for the next change.
    pollfd fds[3] = {{signals.fd(), POLLIN, 0}, {elector.event_fd(), POLLIN, 0}, {1, 0, 0}};
    if (::poll(fds, 3, -1) < 0 && errno != EINTR) {
      print_error("watch", std::string("poll: ") + std::strerror(errno));
      code = kExitFailure;
      break;
    }
    if ((fds[0].revents & POLLIN) && !signals.drain().empty()) break;
    if (fds[2].revents & POLLERR) break;
    for (;;) {
      auto ev = elector.poll_event(std::chrono::milliseconds(0));
      if (!ev.ok()) break;
      const Event& e = ev.value;
      if (e.type == EventType::error) {
        print_error("watch", std::string(errc_name(e.code)) + ": " + e.message);
        if (!contacted && is_permanent_backend_error(e.code)) {
          code = kExitBackend;
          done = true;
          break;
        }
        continue;
      }
      if (e.type != EventType::leader_changed) continue;
      contacted = true;
      const int64_t now = unix_ms_now();
      std::string line;
      if (args.json) {
        nlohmann::json j;
        j["election"] = args.election.election;
        j["holder"] = e.leader.empty() ? nlohmann::json(nullptr) : nlohmann::json(e.leader);
        j["token"] = e.leader.empty() ? nlohmann::json(nullptr) : nlohmann::json(e.token);
        j["time"] = format_utc_ms(now);
        j["time_unix_ms"] = now;
        line = j.dump();
      } else if (e.leader.empty()) {
        line = format_utc_ms(now) + " " + args.election.election + ": no leader";
      } else {
        line = format_utc_ms(now) + " " + args.election.election + ": leader " + e.leader +
               " (token " + std::to_string(e.token) + ")";
      }
      if (!emit_line(line)) {
        done = true;  // the reader went away: nothing left to do
        break;
      }
    }
  }
  elector.stop();
  return code;
}

}  // namespace tenure::cli
