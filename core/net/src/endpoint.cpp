#include "tenure/net/endpoint.hpp"

#include <cctype>

namespace tenure::net {

std::string Endpoint::authority() const {
  const bool v6 = host.find(':') != std::string::npos;
  return (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

std::string Endpoint::describe() const {
  return std::string(tls ? "https://" : "http://") + authority();
}

namespace {

Status bad(const std::string& text, const std::string& why) {
  return make_error(Errc::bad_url,
                    "bad endpoint '" + text + "': " + why +
                        " (expected host:port, http://host:port or https://host:port)");
}

}  // namespace

Result<Endpoint> parse_endpoint(const std::string& text, int default_port, bool default_tls) {
  Endpoint ep;
  ep.tls = default_tls;
  std::string rest = text;
  if (auto p = rest.find("://"); p != std::string::npos) {
    const std::string scheme = rest.substr(0, p);
    if (scheme == "http")
      ep.tls = false;
    else if (scheme == "https")
      ep.tls = true;
    else
      return bad(text, "unknown scheme '" + scheme + "'");
    rest = rest.substr(p + 3);
  }
  if (!rest.empty() && rest.back() == '/') rest.pop_back();
  // Userinfo would carry a password into messages; paths have no place in an endpoint.
  if (rest.find('@') != std::string::npos)
    return bad("<redacted>", "credentials in an endpoint are not accepted; use the auth options");
  if (rest.find('/') != std::string::npos) return bad(text, "an endpoint has no path");
  std::string port;
  if (!rest.empty() && rest.front() == '[') {
    auto close = rest.find(']');
    if (close == std::string::npos) return bad(text, "missing ']' after the IPv6 address");
    ep.host = rest.substr(1, close - 1);
    if (close + 1 < rest.size()) {
      if (rest[close + 1] != ':') return bad(text, "expected ':' after ']'");
      port = rest.substr(close + 2);
    }
  } else {
    auto colon = rest.rfind(':');
    if (colon != std::string::npos && rest.find(':') != colon)
      return bad(text, "an IPv6 address needs brackets, as in [::1]:2379");
    ep.host = rest.substr(0, colon);
    if (colon != std::string::npos) port = rest.substr(colon + 1);
  }
  if (ep.host.empty()) return bad(text, "the host is empty");
  if (port.empty()) {
    ep.port = default_port;
  } else {
    if (port.size() > 5) return bad(text, "the port is not a number from 1 to 65535");
    int v = 0;
    for (char c : port) {
      if (!std::isdigit(static_cast<unsigned char>(c)))
        return bad(text, "the port is not a number from 1 to 65535");
      v = v * 10 + (c - '0');
    }
    ep.port = v;
  }
  if (ep.port < 1 || ep.port > 65535) return bad(text, "the port is not a number from 1 to 65535");
  return ep;
}

Result<std::vector<Endpoint>> parse_endpoints(const std::string& text, int default_port,
                                              bool default_tls) {
  std::vector<Endpoint> out;
  size_t start = 0;
  while (true) {
    auto comma = text.find(',', start);
    std::string item =
        text.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    if (item.empty())
      return make_error(Errc::bad_url,
                        "empty endpoint in the list '" + text + "' (remove the extra comma)");
    auto ep = parse_endpoint(item, default_port, default_tls);
    if (!ep.ok()) return ep.status;
    out.push_back(std::move(ep.value));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

}  // namespace tenure::net
