// tenure_fault_proxy: the suite's fault proxy as a program, for trying faults by hand.
// Usage: tenure_fault_proxy TARGET_PORT [LISTEN_PORT]   (both on 127.0.0.1)
// Prints "listening 127.0.0.1:PORT", then reads commands from stdin, one per line:
//   pass | hold c2s | hold s2c | blackhole | delay MS | reset | ports | quit
#include <csignal>
#include <iostream>
#include <sstream>
#include <string>

#include "fault_proxy.hpp"

int main(int argc, char** argv) {
  if (argc < 2 || argc > 3) {
    std::cerr << "usage: " << argv[0] << " TARGET_PORT [LISTEN_PORT]\n";
    return 2;
  }
  std::signal(SIGPIPE, SIG_IGN);
  tenure::faults::FaultProxy proxy(uint16_t(std::stoi(argv[1])),
                                   uint16_t(argc > 2 ? std::stoi(argv[2]) : 0));
  std::cout << "listening 127.0.0.1:" << proxy.port() << std::endl;
  std::string line;
  while (std::getline(std::cin, line)) {
    std::istringstream in(line);
    std::string cmd, arg;
    in >> cmd >> arg;
    if (cmd == "pass") {
      proxy.pass();
    } else if (cmd == "hold" && arg == "c2s") {
      proxy.hold_client_to_server();
    } else if (cmd == "hold" && arg == "s2c") {
      proxy.hold_server_to_client();
    } else if (cmd == "blackhole") {
      proxy.black_hole();
    } else if (cmd == "delay" && !arg.empty()) {
      proxy.delay_replies(std::chrono::milliseconds(std::stoi(arg)));
    } else if (cmd == "reset") {
      proxy.reset_all();
    } else if (cmd == "ports") {
      for (auto p : proxy.server_side_ports()) std::cout << p << ' ';
      std::cout << "(" << proxy.open_connections() << " open)";
    } else if (cmd == "quit") {
      break;
    } else {
      std::cout << "unknown command; pass | hold c2s | hold s2c | blackhole | delay MS | reset | "
                   "ports | quit"
                << std::endl;
      continue;
    }
    std::cout << (cmd == "ports" ? "\n" : "") << "ok" << std::endl;
  }
}
