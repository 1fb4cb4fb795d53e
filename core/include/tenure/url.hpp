// Backend URL parsing: scheme://[user[:password]@]host[:port][,host[:port]...][/path][?k=v&...],
// percent-decoded. An IPv6 host is written in brackets: [::1]:2379.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "tenure/errors.hpp"

namespace tenure {

struct HostPort {
  std::string host;  // IPv6 without brackets
  int port = 0;      // 0: not given
};

struct Url {
  std::string scheme;  // lower-cased
  std::string user;
  std::string password;  // never log it: use redacted()
  bool has_password = false;
  std::vector<HostPort> hosts;  // in the order given; empty when the URL names none (file:///d)
  std::string host;             // hosts[0] (empty when none): for backends that take one host
  int port = 0;                 // hosts[0]'s port; 0: not given
  std::string path;             // decoded, starts with '/' when present
  std::map<std::string, std::string> query;
  std::string raw;

  std::string redacted() const;  // the URL with the password replaced by "***"
};

Result<Url> parse_url(const std::string& text);

}  // namespace tenure
