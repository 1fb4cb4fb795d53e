#include "redis/redis_config.hpp"

#include "tenure/backend_options.hpp"

#include <algorithm>
#include <cstdlib>

namespace tenure::backends::redis {

namespace {

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
  c.command_timeout =
      ctx.request_timeout.count() > 0 ? ctx.request_timeout : request_timeout_for(ctx.timing);
  c.connect_timeout = c.command_timeout;

  // The options, their defaults and ranges: the table in docs/redis.md.
  BackendOptions o("Redis", ctx);
  o.read("prefix", s.prefix, valid_prefix,
         "printable characters without spaces or {}*?[], at most 100 of them");
  o.read_ms("timeout_ms", c.command_timeout, milliseconds(1), milliseconds(3600000));
  o.read_ms("connect_timeout_ms", c.connect_timeout, milliseconds(1), milliseconds(3600000));
  // TLS items as core/net names them (tls_ca_file, tls_ca_pem, ...); tls_ca, tls_cert and
  // tls_key are the same files under their first names.
  net::TlsOptions& t = c.tls_opts;
  t.option_prefix = "tls_";
  o.read("tls_ca", t.ca_file);
  o.read("tls_ca_file", t.ca_file);
  o.read("tls_ca_pem", t.ca_pem);
  o.read("tls_cert", t.cert_file);
  o.read("tls_cert_file", t.cert_file);
  o.read("tls_cert_pem", t.cert_pem);
  o.read("tls_key", t.key_file);
  o.read("tls_key_file", t.key_file);
  o.read("tls_key_pem", t.key_pem);
  o.read_bool("tls_insecure", t.insecure);
  o.read_bool("keyspace_events", s.keyspace_events);
  o.read_bool("share_connections", s.share_connections);
  o.read_bool("restart_guard", s.restart_guard);
  const bool tls_given = !t.ca_file.empty() || !t.ca_pem.empty() || !t.cert_file.empty() ||
                         !t.cert_pem.empty() || !t.key_file.empty() || !t.key_pem.empty() ||
                         t.insecure;
  if (!c.tls && tls_given)
    o.fail(make_error(Errc::invalid_argument,
                      "TLS options (tls_ca, tls_cert, tls_key, tls_insecure, ...) given for a "
                      "plain redis:// URL: use rediss:// for TLS"));
  if (Status st = o.finish(); !st.ok()) return st;
  if (c.command_timeout >= rd)
    return make_error(Errc::invalid_timing, "Redis backend option timeout_ms (" +
                                                std::to_string(c.command_timeout.count()) +
                                                ") must be below renew_deadline (" +
                                                std::to_string(rd.count()) + " ms)");
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
