// One elector in a process of its own, for the tests' and benchmarks' kill -9, pause and
// cross-process handover cases (a process that runs tenure's threads must posix_spawn it, never
// fork). Prints one line per event to stdout:
//   elected TOKEN | revoked REASON | leader IDENTITY TOKEN | error CODE MESSAGE
// and "stopped" after SIGTERM/SIGINT, which stops the elector (releasing a lease it holds).
// Usage: tenure_elector_child URL ELECTION IDENTITY LEASE_MS RENEW_MS RETRY_MS [backend.k=v ...]
#include <pthread.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <string>

#include "tenure/elector.hpp"

int main(int argc, char** argv) {
  if (argc < 7) {
    std::fprintf(stderr, "usage: %s URL ELECTION IDENTITY LEASE_MS RENEW_MS RETRY_MS [k=v]...\n",
                 argv[0]);
    return 2;
  }
  tenure::ElectorOptions o;
  o.backend_url = argv[1];
  o.election = argv[2];
  o.identity = argv[3];
  o.timing = {tenure::milliseconds(std::stoll(argv[4])), tenure::milliseconds(std::stoll(argv[5])),
              tenure::milliseconds(std::stoll(argv[6]))};
  for (int i = 7; i < argc; ++i) {
    std::string kv = argv[i];
    auto eq = kv.find('=');
    if (eq == std::string::npos) return 2;
    if (auto s = tenure::set_option(o, kv.substr(0, eq), kv.substr(eq + 1)); !s.ok()) {
      std::fprintf(stderr, "%s\n", s.message.c_str());
      return 2;
    }
  }
  // Blocked before Elector::create starts tenure's threads, which inherit the mask: the signals
  // then reach only the sigwait below.
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  auto e = tenure::Elector::create(o);
  if (!e.ok()) {
    std::printf("error %s %s\n", tenure::errc_name(e.status.code), e.status.message.c_str());
    std::fflush(stdout);
    return 3;
  }
  e.value->set_callback([](const tenure::Event& ev) {
    switch (ev.type) {
      case tenure::EventType::elected:
        std::printf("elected %llu\n", (unsigned long long)ev.token);
        break;
      case tenure::EventType::revoked:
        std::printf("revoked %s\n", tenure::revoke_reason_name(ev.reason));
        break;
      case tenure::EventType::leader_changed:
        std::printf("leader %s %llu\n", ev.leader.empty() ? "-" : ev.leader.c_str(),
                    (unsigned long long)ev.token);
        break;
      case tenure::EventType::error:
        std::printf("error %s %s\n", tenure::errc_name(ev.code), ev.message.c_str());
        break;
    }
    std::fflush(stdout);
  });
  if (auto s = e.value->start(); !s.ok()) {
    std::printf("error %s %s\n", tenure::errc_name(s.code), s.message.c_str());
    std::fflush(stdout);
    return 3;
  }
  int sig = 0;
  sigwait(&set, &sig);
  e.value->stop();
  std::printf("stopped\n");
  std::fflush(stdout);
  return 0;
}
