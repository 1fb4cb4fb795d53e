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
  return make_error(Errc::bad_url,
                    "backend URL '" + shown + "': " + why +
                        " (expected scheme://[user[:password]@]host[:port][,host[:port]...]"
                        "[/path][?key=value], e.g. file:///var/lib/tenure or "
                        "redis://127.0.0.1:6379)");
}

// Query keys whose values may appear in messages. Every other key's value is shown as ***, so a
// secret is hidden however its key is spelled (PASSWORD, pa%73sword, sslpassword, auth_token).
bool shown_key(const std::string& raw_key) {
  static const char* const keys[] = {
      // tenure's own options (file, Redis, PostgreSQL backends)
      "mode", "schema", "table", "runs_table", "allow_proxy", "prefix", "timeout_ms",
      "connect_timeout_ms", "tls_ca", "tls_cert", "tls_key", "tls_insecure", "keyspace_events",
      "share_connections", "restart_guard",
      // libpq connection parameters that hold no secret
      "host", "hostaddr", "port", "dbname", "user", "connect_timeout", "application_name",
      "fallback_application_name", "sslmode", "sslrootcert", "sslcert", "sslkey", "sslcrl",
      "target_session_attrs", "keepalives", "keepalives_idle", "keepalives_interval",
      "keepalives_count", "tcp_user_timeout", "gssencmode", "channel_binding",
      "load_balance_hosts"};
  std::string key;
  if (!decode(raw_key, key)) return false;
  for (const char* k : keys)
    if (key == k) return true;
  return false;
}

// Bytes a terminal or a log line must not receive raw are shown %XX-encoded.
std::string printable(const std::string& s) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (c <= 0x20 || c >= 0x7f) {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

// Where the RFC 3986 authority ends: the first '/', '?' or '#' after "//".
size_t authority_end(const std::string& text, size_t start) {
  const size_t end = text.find_first_of("/?#", start);
  return end == std::string::npos ? text.size() : end;
}

// One "host:port" of the host list with a port that is not a number from 1 to 65535 may be
// "user:password" without its '@'. Returns where the suspicious ':' is, or npos when all is well.
size_t bad_port_at(const std::string& hostport) {
  size_t piece = 0;
  for (;;) {
    size_t comma = hostport.find(',', piece);
    if (comma == std::string::npos) comma = hostport.size();
    const std::string one = hostport.substr(piece, comma - piece);
    size_t from = 0;
    if (!one.empty() && one[0] == '[') {
      from = one.find(']');
      if (from == std::string::npos) from = one.size();  // no port to show or hide
    }
    const size_t colon = one.find(':', from);
    if (colon != std::string::npos) {
      const std::string port = one.substr(colon + 1);
      const bool ok =
          !port.empty() && port.size() <= 5 &&
          std::all_of(port.begin(), port.end(), [](unsigned char c) { return std::isdigit(c); }) &&
          std::stoi(port) >= 1 && std::stoi(port) <= 65535;
      if (!ok) return piece + colon;
    }
    if (comma >= hostport.size()) return std::string::npos;
    piece = comma + 1;
  }
}

std::string redact_query(const std::string& query) {
  std::string out;
  size_t i = 0;
  for (;;) {
    size_t amp = query.find('&', i);
    if (amp == std::string::npos) amp = query.size();
    const std::string pair = query.substr(i, amp - i);
    const size_t eq = pair.find('=');
    if (eq == std::string::npos)
      out += pair.empty() ? "" : "***";  // a stray piece may be the tail of a value with a '&'
    else
      out += pair.substr(0, eq + 1) + (shown_key(pair.substr(0, eq)) ? pair.substr(eq + 1) : "***");
    if (amp >= query.size()) break;
    out += '&';
    i = amp + 1;
  }
  return out;
}

// Redacts everything that may be secret before a URL can appear in a message: the userinfo
// (all of it up to the last '@', wherever that '@' is, unless the URL parsed and so the user
// name is known), a port that is not a number (it may be a password whose '@' is missing), a
// fragment, and the value of every query key not known to be harmless.
std::string redact_raw(const std::string& text, bool parsed) {
  const size_t sep = text.find("://");
  const size_t start = sep == std::string::npos ? 0 : sep + 3;
  std::string head = text.substr(0, start);
  std::string rest = text.substr(start);
  const size_t auth_len = authority_end(text, start) - start;
  const size_t at = rest.rfind('@');
  // With no authority (file:///dir) an '@' belongs to the path, unless a ':' before it makes it
  // look like a password given after one slash too many (redis:///:pw@host).
  if (at != std::string::npos &&
      (auth_len > 0 || rest.find(':') < at || sep == std::string::npos)) {
    // An '@' inside what reads as a query or fragment (a password holding '?' or '#', or a query
    // value holding '@'): whatever follows it may be the secret's tail, so nothing is shown.
    if (rest.find_first_of("?#") < at) return printable(head + "***");
    const std::string userinfo = rest.substr(0, at);
    if (parsed && at < auth_len) {
      const size_t colon = userinfo.find(':');
      head += colon == std::string::npos ? userinfo + "@" : userinfo.substr(0, colon) + ":***@";
    } else {
      head += "***@";
    }
    rest = rest.substr(at + 1);
  }
  std::string tail;
  if (const size_t hash = rest.find('#'); hash != std::string::npos) {
    tail = "#***";
    rest.resize(hash);
  }
  if (const size_t q = rest.find('?'); q != std::string::npos) {
    tail = "?" + redact_query(rest.substr(q + 1)) + tail;
    rest.resize(q);
  }
  const size_t slash = rest.find('/');
  std::string hostport = rest.substr(0, slash);
  if (const size_t colon = bad_port_at(hostport); colon != std::string::npos) {
    // Possibly "user:password" without its '@': the password's tail may be in the path or the
    // query too, so nothing after the ':' is shown.
    return printable(head + hostport.substr(0, colon) + ":***");
  }
  rest = hostport + (slash == std::string::npos ? "" : rest.substr(slash));
  return printable(head + rest + tail);
}

// One entry of the host list: host, host:port, [v6] or [v6]:port.
Status parse_host_port(const std::string& shown, std::string piece, HostPort& out) {
  if (piece.empty())
    return bad(shown,
               "an empty host in the host list: separate hosts with single commas, as in "
               "scheme://h1:2379,h2:2379");
  std::string port;
  if (piece[0] == '[') {
    auto close = piece.find(']');
    if (close == std::string::npos) return bad(shown, "unclosed '[' in an IPv6 host");
    const std::string v6 = piece.substr(1, close - 1);
    if (v6.empty()) return bad(shown, "empty brackets where an IPv6 host belongs");
    // The address, then an optional zone written "%25zone" (RFC 6874).
    const std::string addr = v6.substr(0, v6.find('%'));
    if (addr.find_first_not_of("0123456789abcdefABCDEF:.") != std::string::npos)
      return bad(shown, "an IPv6 host in brackets holds only hex digits, ':' and '.'");
    if (!decode(v6, out.host)) return bad(shown, "bad percent-encoding in the IPv6 zone");
    std::string after = piece.substr(close + 1);
    if (!after.empty() && after[0] != ':')
      return bad(shown, "junk after the IPv6 host (expected ':port', ',' or the end)");
    if (!after.empty()) port = after.substr(1);
    if (!after.empty() && port.empty()) return bad(shown, "a ':' without a port number");
  } else {
    auto colon = piece.rfind(':');
    std::string host = piece.substr(0, colon == std::string::npos ? piece.size() : colon);
    if (colon != std::string::npos) {
      port = piece.substr(colon + 1);
      if (host.find(':') != std::string::npos)
        return bad(shown, "an IPv6 host needs brackets: [::1]:2379");
      if (port.empty()) return bad(shown, "a ':' without a port number");
    }
    if (!decode(host, out.host)) return bad(shown, "bad percent-encoding in the host");
  }
  if (!port.empty()) {
    if (port.size() > 5 ||
        !std::all_of(port.begin(), port.end(), [](unsigned char c) { return std::isdigit(c); }))
      return bad(shown,
                 "the port (after the host's last ':') is not a number from 1 to 65535; a "
                 "password goes before an '@': scheme://user:password@host:port");
    out.port = std::stoi(port);
    if (out.port < 1 || out.port > 65535) return bad(shown, "the port is not in 1..65535");
  }
  return {};
}

}  // namespace

std::string Url::redacted() const { return redact_raw(raw, true); }

Result<Url> parse_url(const std::string& text) {
  const std::string shown = redact_raw(text, false);
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
  if (text.find('#') != std::string::npos)
    return bad(shown,
               "it contains a '#': backend URLs take no fragment; write a '#' in a password or "
               "value as %23");
  std::string rest = text.substr(sep + 3);
  // An '@' after the authority means a user name or password holding '/', '?' or '#' unencoded
  // (the host would be wrong, and parts of the password would show in messages as a port, a
  // database or a query key). file:///dir has no authority, so '@' is fine in its path.
  // Same rule as redact_raw: with no authority, a ':' before an '@' looks like a password.
  const size_t auth_len = authority_end(text, sep + 3) - (sep + 3);
  const size_t last_at = rest.rfind('@');
  if (last_at != std::string::npos &&
      (auth_len > 0 ? last_at > auth_len : rest.find(':') < last_at))
    return bad(shown,
               "an '@' after the host: write '/', '?', '#' and '@' in a user name or password as "
               "%2F, %3F, %23 and %40, and an '@' in a path or query value as %40");
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
  if (!authority.empty()) {
    size_t piece = 0;
    for (;;) {
      size_t comma = authority.find(',', piece);
      if (comma == std::string::npos) comma = authority.size();
      HostPort hp;
      if (auto s = parse_host_port(shown, authority.substr(piece, comma - piece), hp); !s.ok())
        return s;
      u.hosts.push_back(std::move(hp));
      if (comma >= authority.size()) break;
      piece = comma + 1;
    }
    u.host = u.hosts.front().host;
    u.port = u.hosts.front().port;
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
    // Not echoed: a piece without '=' may be the tail of a password holding an unencoded '&'.
    if (eq == std::string::npos)
      return bad(shown,
                 "a query parameter has no '=': write key=value, and a '&' in a value as %26");
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
