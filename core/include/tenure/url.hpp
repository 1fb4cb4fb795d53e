// Backend URL parsing: scheme://[user[:password]@]host[:port][/path][?k=v&...], percent-decoded.
#pragma once

#include <map>
#include <string>

#include "tenure/errors.hpp"

namespace tenure {

struct Url {
  std::string scheme;  // lower-cased
  std::string user;
  std::string password;  // never log it: use redacted()
  bool has_password = false;
  std::string host;
  int port = 0;      // 0: not given
  std::string path;  // decoded, starts with '/' when present
  std::map<std::string, std::string> query;
  std::string raw;

  std::string redacted() const;  // the URL with the password replaced by "***"
};

Result<Url> parse_url(const std::string& text);

}  // namespace tenure
