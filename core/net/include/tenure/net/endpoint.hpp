// A server address a network backend talks to: host, port and whether it speaks TLS.
#pragma once

#include <string>
#include <vector>

#include "tenure/errors.hpp"

namespace tenure::net {

struct Endpoint {
  std::string host;  // name, IPv4 or IPv6 literal (no brackets)
  int port = 0;
  bool tls = false;
  // "https://[::1]:2379" / "10.0.0.1:6379": for messages; never carries credentials.
  std::string describe() const;
  std::string authority() const;  // "host:port" with IPv6 in brackets (HTTP Host header)
};

// "http://h:p", "https://h:p", or "h:p" (then `default_tls`). A missing port takes
// default_port. Userinfo and paths are refused: Errc::bad_url naming the text.
Result<Endpoint> parse_endpoint(const std::string& text, int default_port, bool default_tls);
// A comma-separated list ("https://a:2379,https://b:2379"); empty items are refused.
Result<std::vector<Endpoint>> parse_endpoints(const std::string& text, int default_port,
                                              bool default_tls);

}  // namespace tenure::net
