// The lease holder of file_bench: one elector in its own process, so the benchmark can kill it
// with SIGKILL (crash failover) or stop it with SIGTERM (cross-process graceful handover).
// Prints "elected TOKEN" when it leads, "error CODE MESSAGE" on trouble, "stopped" after a
// SIGTERM/SIGINT stop (which releases the lease).
// Usage: tenure_bench_holder URL ELECTION IDENTITY LEASE_MS RENEW_MS RETRY_MS
#include <pthread.h>

#include <csignal>
#include <cstdio>
#include <string>

#include "tenure/elector.hpp"

int main(int argc, char** argv) {
  if (argc != 7) {
    std::fprintf(stderr, "usage: %s URL ELECTION IDENTITY LEASE_MS RENEW_MS RETRY_MS\n", argv[0]);
    return 2;
  }
  // Block the stop signals before tenure starts its threads, then wait for them with sigwait.
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);

  tenure::ElectorOptions o;
  o.backend_url = argv[1];
  o.election = argv[2];
  o.identity = argv[3];
  o.timing = {tenure::milliseconds(std::stoll(argv[4])), tenure::milliseconds(std::stoll(argv[5])),
              tenure::milliseconds(std::stoll(argv[6]))};
  auto e = tenure::Elector::create(o);
  if (!e.ok()) {
    std::printf("error %s %s\n", tenure::errc_name(e.status.code), e.status.message.c_str());
    std::fflush(stdout);
    return 3;
  }
  e.value->set_callback([](const tenure::Event& ev) {
    if (ev.type == tenure::EventType::elected) {
      std::printf("elected %llu\n", static_cast<unsigned long long>(ev.token));
    } else if (ev.type == tenure::EventType::error) {
      std::printf("error %s %s\n", tenure::errc_name(ev.code), ev.message.c_str());
    } else {
      return;
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
