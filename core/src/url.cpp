// A small RFC 3986 splitter for backend URLs; enough for scheme://userinfo@host:port/path?query.
#include "tenure/url.hpp"

#include <algorithm>
#include <cctype>

namespace tenure {

namespace {

int hexval(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool decode(const std::string& in, std::string& out) {
  out.clear();
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] == '%') {
      if (i + 2 >= in.size()) return false;
      int h = hexval(in[i + 1]), l = hexval(in[i + 2]);
      if (h < 0 || l < 0) return false;
      out.push_back(static_cast<char>(h * 16 + l));
      i += 2;
    } else {
      out.push_back(in[i]);
    }
  }
  return true;
}

Status bad(const std::string& shown, const std::string& why) {
  return make_error(Errc::bad_url, "backend URL '" + shown + "': " + why +
                                       " (expected scheme://[user[:password]@]host[:port][/path]"
                                       "[?key=value], e.g. file:///var/lib/tenure or "
                                       "redis://127.0.0.1:6379)");
}

// Query keys whose values are secrets (libpq's password and sslpassword pass through as query
// parameters, for one).
bool secret_key(std::string key) {
  for (auto& c : key) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  for (const char* word : {"pass", "secret", "token"})
    if (key.find(word) != std::string::npos) return true;
  return false;
}

// Redact the password, and secret query values, before the URL can appear in any message.
std::string redact_raw(const std::string& text) {
  auto scheme_end = text.find("://");
  if (scheme_end == std::string::npos) return text;
  size_t auth_start = scheme_end + 3;
  size_t auth_end = text.find_first_of("/?#", auth_start);
  if (auth_end == std::string::npos) auth_end = text.size();
  std::string out = text;
  size_t at = text.rfind('@', auth_end);
  if (at != std::string::npos && at >= auth_start) {
    size_t colon = text.find(':', auth_start);
    if (colon != std::string::npos && colon < at)
      out = text.substr(0, colon + 1) + "***" + text.substr(at);
  }
  const size_t q = out.find('?');
  if (q == std::string::npos) return out;
  std::string redacted = out.substr(0, q + 1);
  size_t i = q + 1;
  while (i <= out.size()) {
    size_t amp = out.find_first_of("&#", i);
    if (amp == std::string::npos) amp = out.size();
    const std::string pair = out.substr(i, amp - i);
    const size_t eq = pair.find('=');
    if (eq != std::string::npos && secret_key(pair.substr(0, eq)))
      redacted += pair.substr(0, eq + 1) + "***";
    else
      redacted += pair;
    if (amp >= out.size()) break;
    redacted += out[amp];
    if (out[amp] == '#') {
      redacted += out.substr(amp + 1);
      break;
    }
    i = amp + 1;
  }
  return redacted;
}

}  // namespace

std::string Url::redacted() const { return redact_raw(raw); }

Result<Url> parse_url(const std::string& text) {
  const std::string shown = redact_raw(text);
  Url u;
  u.raw = text;
  if (text.empty()) return bad(shown, "it is empty");
  for (unsigned char c : text)
    if (c <= 0x20 || c >= 0x7f) return bad(shown, "it contains a space or control character");
  auto sep = text.find("://");
  if (sep == std::string::npos || sep == 0) return bad(shown, "no scheme:// at the start");
  u.scheme = text.substr(0, sep);
  for (char& c : u.scheme) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '+' || c == '-' || c == '.'))
      return bad(shown, "the scheme contains an illegal character");
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  std::string rest = text.substr(sep + 3);
  if (auto hash = rest.find('#'); hash != std::string::npos) rest.resize(hash);
  std::string query;
  if (auto q = rest.find('?'); q != std::string::npos) {
    query = rest.substr(q + 1);
    rest.resize(q);
  }
  std::string authority = rest, path;
  if (auto slash = rest.find('/'); slash != std::string::npos) {
    authority = rest.substr(0, slash);
    path = rest.substr(slash);
  }
  if (auto at = authority.rfind('@'); at != std::string::npos) {
    std::string userinfo = authority.substr(0, at);
    authority = authority.substr(at + 1);
    std::string user = userinfo, pass;
    if (auto colon = userinfo.find(':'); colon != std::string::npos) {
      user = userinfo.substr(0, colon);
      pass = userinfo.substr(colon + 1);
      u.has_password = true;
    }
    if (!decode(user, u.user) || !decode(pass, u.password))
      return bad(shown, "bad percent-encoding in the user or password");
  }
  std::string hostport = authority;
  if (!hostport.empty() && hostport[0] == '[') {
    auto close = hostport.find(']');
    if (close == std::string::npos) return bad(shown, "unclosed '[' in an IPv6 host");
    u.host = hostport.substr(1, close - 1);
    hostport = hostport.substr(close + 1);
    if (!hostport.empty() && hostport[0] != ':') return bad(shown, "junk after the IPv6 host");
  } else {
    auto colon = hostport.rfind(':');
    u.host = hostport.substr(0, colon == std::string::npos ? hostport.size() : colon);
    hostport = colon == std::string::npos ? "" : hostport.substr(colon);
    std::string decoded;
    if (!decode(u.host, decoded)) return bad(shown, "bad percent-encoding in the host");
    u.host = decoded;
  }
  if (!hostport.empty()) {
    std::string port = hostport.substr(1);
    if (port.empty() || port.size() > 5 ||
        !std::all_of(port.begin(), port.end(), [](unsigned char c) { return std::isdigit(c); }))
      return bad(shown, "the port '" + port + "' is not a number from 1 to 65535");
    u.port = std::stoi(port);
    if (u.port < 1 || u.port > 65535) return bad(shown, "the port " + port + " is not in 1..65535");
  }
  if (!decode(path, u.path)) return bad(shown, "bad percent-encoding in the path");
  size_t pos = 0;
  while (pos < query.size()) {
    size_t amp = query.find('&', pos);
    if (amp == std::string::npos) amp = query.size();
    std::string kv = query.substr(pos, amp - pos);
    pos = amp + 1;
    if (kv.empty()) continue;
    auto eq = kv.find('=');
    std::string k, v;
    if (!decode(kv.substr(0, eq), k) ||
        !decode(eq == std::string::npos ? "" : kv.substr(eq + 1), v))
      return bad(shown, "bad percent-encoding in the query");
    if (k.empty()) return bad(shown, "a query parameter has an empty name");
    u.query[k] = v;
  }
  return u;
}

}  // namespace tenure
