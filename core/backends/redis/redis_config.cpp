#include "redis/redis_config.hpp"

#include <algorithm>
#include <cstdlib>
#include <set>

namespace tenure::backends::redis {

namespace {

bool parse_bool(const std::string& v, bool& out) {
  if (v == "1" || v == "true" || v == "yes" || v == "on") {
    out = true;
    return true;
  }
  if (v == "0" || v == "false" || v == "no" || v == "off") {
    out = false;
    return true;
  }
  return false;
}

bool parse_ms(const std::string& v, milliseconds& out) {
  char* end = nullptr;
  long long x = std::strtoll(v.c_str(), &end, 10);
  if (v.empty() || *end != '\0' || x <= 0 || x > 3600000) return false;
  out = milliseconds(x);
  return true;
}

bool valid_prefix(const std::string& p) {
  if (p.size() > 100) return false;
  return std::all_of(p.begin(), p.end(), [](char c) {
    return c > ' ' && c < 127 && c != '{' && c != '}' && c != '*' && c != '?' && c != '[' &&
           c != ']';
  });
}

}  // namespace

Result<RedisSettings> parse_settings(const BackendContext& ctx) {
  RedisSettings s;
  const Url& u = ctx.url;
  ConnConfig& c = s.conn;
  c.tls = u.scheme == "rediss";
  if (u.scheme != "redis" && u.scheme != "rediss")
    return make_error(Errc::bad_url, "the Redis backend takes redis:// or rediss:// URLs, not " +
                                         u.scheme + "://");
  if (u.hosts.size() > 1)
    return make_error(Errc::bad_url, "the Redis URL " + u.redacted() +
                                         " names several hosts; the Redis backend connects to "
                                         "one server: redis://host:port");
  if (u.host.empty())
    return make_error(Errc::bad_url,
                      "the Redis URL " + u.redacted() + " has no host: use redis://host:port");
  c.host = u.host;
  if (c.host.size() > 2 && c.host.front() == '[' && c.host.back() == ']')
    c.host = c.host.substr(1, c.host.size() - 2);
  c.port = u.port == 0 ? 6379 : u.port;
  c.user = u.user;
  c.password = u.password;
  c.has_password = u.has_password && !u.password.empty();
  if (!u.path.empty() && u.path != "/") {
    const std::string db = u.path.substr(1);
    char* end = nullptr;
    long v = std::strtol(db.c_str(), &end, 10);
    if (db.empty() || *end != '\0' || v < 0 || v > 100000)
      return make_error(Errc::bad_url, "the path of the Redis URL " + u.redacted() +
                                           " must be a database number (redis://host:port/0)");
    c.db = static_cast<int>(v);
  }
  c.display = u.scheme + "://" + c.host + ":" + std::to_string(c.port);

  // Default request timeout: the core's (BackendContext::request_timeout).
  const auto rd = ctx.timing.renew_deadline;
  c.command_timeout = ctx.request_timeout.count() > 0 ? ctx.request_timeout
                                                      : request_timeout_for(ctx.timing);
  c.connect_timeout = c.command_timeout;

  std::map<std::string, std::string> opts = u.query;
  for (const auto& [k, v] : ctx.options) opts[k] = v;
  static const std::set<std::string> known = {
      "prefix",       "timeout_ms",      "connect_timeout_ms",
      "tls_ca",       "tls_cert",        "tls_key",
      "tls_insecure", "keyspace_events", "share_connections",
      "restart_guard"};
  for (const auto& [k, v] : opts) {
    if (!known.count(k))
      return make_error(Errc::unknown_option,
                        "unknown Redis backend option '" + k +
                            "'; known: prefix, timeout_ms, connect_timeout_ms, tls_ca, tls_cert, "
                            "tls_key, tls_insecure, keyspace_events, share_connections, "
                            "restart_guard");
    bool ok = true;
    if (k == "prefix") {
      ok = valid_prefix(v);
      s.prefix = v;
    } else if (k == "timeout_ms") {
      ok = parse_ms(v, c.command_timeout);
    } else if (k == "connect_timeout_ms") {
      ok = parse_ms(v, c.connect_timeout);
    } else if (k == "tls_ca") {
      c.tls_ca = v;
    } else if (k == "tls_cert") {
      c.tls_cert = v;
    } else if (k == "tls_key") {
      c.tls_key = v;
    } else if (k == "tls_insecure") {
      ok = parse_bool(v, c.tls_insecure);
    } else if (k == "keyspace_events") {
      ok = parse_bool(v, s.keyspace_events);
    } else if (k == "share_connections") {
      ok = parse_bool(v, s.share_connections);
    } else if (k == "restart_guard") {
      ok = parse_bool(v, s.restart_guard);
    }
    if (!ok)
      return make_error(Errc::invalid_argument,
                        "bad value '" + v + "' for Redis backend option " + k +
                            (k == "prefix" ? " (printable, no spaces or {}*?[], at most 100 chars)"
                             : k.find("_ms") != std::string::npos ? " (milliseconds, 1..3600000)"
                                                                  : " (true or false)"));
  }
  if (c.command_timeout >= rd)
    return make_error(Errc::invalid_timing, "Redis backend option timeout_ms (" +
                                                std::to_string(c.command_timeout.count()) +
                                                ") must be below renew_deadline (" +
                                                std::to_string(rd.count()) + " ms)");
  if (!c.tls && (!c.tls_ca.empty() || !c.tls_cert.empty() || c.tls_insecure))
    return make_error(Errc::invalid_argument,
                      "TLS options given for a plain redis:// URL: use rediss:// for TLS");
  return s;
}

Keys make_keys(const std::string& prefix, const std::string& election) {
  // The braces make a Redis Cluster hash tag: all keys of one election live in one slot.
  const std::string base = prefix + "{" + election + "}:";
  return Keys{base + "lease", base + "token", base + "transitions", base + "events", base + "run:"};
}

Status reply_error(const Reply& r, const RedisSettings& s, const std::string& what) {
  const std::string who = "Redis at " + s.conn.display;
  const std::string user = s.conn.user.empty() ? "default" : s.conn.user;
  if (!r.is_error())
    return make_error(Errc::backend, who + " gave an unexpected answer to " + what +
                                         " (is another program using the key prefix '" + s.prefix +
                                         "'?)");
  const std::string& e = r.str;
  if (r.starts_with("NOPERM")) {
    std::string grant;
    auto q1 = e.find('\'');
    auto q2 = q1 == std::string::npos ? q1 : e.find('\'', q1 + 1);
    if (e.find("channel") != std::string::npos) {
      grant = "&" + s.prefix + "*";
    } else if (e.find("key") != std::string::npos) {
      grant = "~" + s.prefix + "*";
    } else if (q1 != std::string::npos && q2 != std::string::npos) {
      grant = "+" + e.substr(q1 + 1, q2 - q1 - 1);
    }
    return make_error(
        Errc::permission_denied,
        who + " refused " + what + " for user '" + user + "': " + e.substr(0, e.find(" script:")) +
            (grant.empty() ? "" : ". Grant it: ACL SETUSER " + user + " " + grant) +
            ". tenure needs: ACL SETUSER " + user + " ~" + s.prefix + "* &" + s.prefix +
            "* +evalsha +eval +get +set +del +exists +incr +pttl +time +publish +hgetall "
            "+hset +subscribe +unsubscribe +ping +info +select [+config|get +config|set]");
  }
  // tenure's own scripts refusing (a token counter that cannot give a greater token).
  if (r.starts_with("TENURE "))
    return make_error(Errc::backend, who + ": " + e.substr(7, e.find(" script:") - 7));
  if (r.starts_with("WRONGTYPE"))
    return make_error(Errc::backend,
                      who + ": " + e.substr(0, e.find(" script:")) +
                          ". Another program uses these keys: delete them or choose another "
                          "backend option prefix (now '" +
                          s.prefix + "')");
  if (r.starts_with("NOAUTH"))
    return make_error(Errc::auth_failed, who + " requires a password (NOAUTH): put it in the URL");
  if (r.starts_with("LOADING"))
    return make_error(Errc::unreachable, who + " is loading its data set; retrying");
  if (r.starts_with("READONLY"))
    return make_error(Errc::backend, who + " is a read-only replica: point the URL at the primary");
  if (r.starts_with("MASTERDOWN"))
    return make_error(Errc::unreachable, who + " lost its primary: " + e);
  if (r.starts_with("BUSY"))
    return make_error(Errc::timeout, who + " is busy running a script: " + e);
  if (r.starts_with("OOM"))
    return make_error(Errc::backend, who + " is out of memory (maxmemory): " + e);
  if (e.find("unknown command") != std::string::npos)
    return make_error(Errc::backend, who + " does not know a command tenure needs (" + e +
                                         "): tenure needs Redis 6.2 or later with scripting, "
                                         "and commands not renamed");
  return make_error(Errc::backend, who + " refused " + what + ": " + e);
}

}  // namespace tenure::backends::redis
