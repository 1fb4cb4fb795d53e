#include "postgres/pg_config.hpp"

#include "tenure/local_file.hpp"

#include <libpq-fe.h>

#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <mutex>
#include <random>
#include <set>

namespace tenure::backends::pg {

namespace {

bool valid_name(const std::string& s, size_t max_len) {
  if (s.empty() || s.size() > max_len) return false;
  if (!(std::islower(static_cast<unsigned char>(s[0])) || s[0] == '_')) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return std::islower(static_cast<unsigned char>(c)) ||
           std::isdigit(static_cast<unsigned char>(c)) || c == '_';
  });
}

std::set<std::string> libpq_keywords() {
  std::set<std::string> out;
  PQconninfoOption* opts = PQconndefaults();
  if (opts == nullptr) return out;
  for (PQconninfoOption* o = opts; o->keyword != nullptr; ++o) out.insert(o->keyword);
  PQconninfoFree(opts);
  return out;
}

bool parse_bool(const std::string& v, bool& out) {
  if (v == "1" || v == "true" || v == "yes" || v == "on") return out = true, true;
  if (v == "0" || v == "false" || v == "no" || v == "off") return out = false, true;
  return false;
}

}  // namespace

std::string process_tag() {
  static std::mutex mu;
  static pid_t pid = 0;
  static std::string tag;
  std::lock_guard lock(mu);
  if (pid != getpid()) {  // first use, or a forked child: a tag of its own
    pid = getpid();
    std::random_device rd;
    char buf[32];
    std::snprintf(buf, sizeof buf, "#%08x%08x", rd(), rd());
    tag = buf;
  }
  return tag;
}

std::string quote_ident(const std::string& name) { return "\"" + name + "\""; }

Status derive_names(Names& n) {
  if (!valid_name(n.schema, 22))
    return make_error(Errc::bad_url,
                      "postgres: schema '" + n.schema +
                          "' must match [a-z_][a-z0-9_]* and have at most 22 characters");
  if (!valid_name(n.table, 40))
    return make_error(Errc::bad_url,
                      "postgres: table '" + n.table +
                          "' must match [a-z_][a-z0-9_]* and have at most 40 characters");
  if (!valid_name(n.runs_table, 40))
    return make_error(Errc::bad_url,
                      "postgres: runs_table '" + n.runs_table +
                          "' must match [a-z_][a-z0-9_]* and have at most 40 characters");
  if (n.table == n.runs_table)
    return make_error(Errc::bad_url, "postgres: table and runs_table must differ");
  const std::string s = quote_ident(n.schema) + ".";
  n.seq_name = n.table + "_token_seq";
  n.version_table = n.table + "_schema";
  n.q_table = s + quote_ident(n.table);
  n.q_runs = s + quote_ident(n.runs_table);
  n.q_seq = s + quote_ident(n.seq_name);
  n.q_version = s + quote_ident(n.version_table);
  n.channel = n.schema + "." + n.table;
  return {};
}

Result<PgConfig> parse_config(const BackendContext& ctx) {
  PgConfig cfg;
  const Url& url = ctx.url;
  // URL query first, backend.<key> options override it.
  std::map<std::string, std::string> query = url.query;
  for (const auto& [k, v] : ctx.options) query[k] = v;

  std::map<std::string, std::string> kw;  // libpq keyword -> value
  // Several hosts go to libpq as its own comma lists (it tries them in order).
  std::string hosts, ports;
  bool any_port = false;
  for (const auto& hp : url.hosts) {
    hosts += (hosts.empty() ? "" : ",") + hp.host;
    ports += (ports.empty() ? "" : ",") + std::to_string(hp.port != 0 ? hp.port : 5432);
    any_port = any_port || hp.port != 0;
  }
  if (!hosts.empty()) kw["host"] = hosts;
  if (any_port) kw["port"] = ports;
  if (!url.user.empty()) kw["user"] = url.user;
  if (url.has_password) kw["password"] = url.password;
  if (url.path.size() > 1) kw["dbname"] = url.path.substr(1);

  const std::set<std::string> known = libpq_keywords();
  for (const auto& [k, v] : query) {
    if (k == "mode") {
      if (v == "session") {
        cfg.session_mode = true;
      } else if (v != "lease") {
        return Status{make_error(
            Errc::bad_url,
            "postgres: mode='" + v + "' is not known; use mode=lease (default) or mode=session")};
      }
    } else if (k == "schema") {
      cfg.names.schema = v;
    } else if (k == "table") {
      cfg.names.table = v;
    } else if (k == "runs_table") {
      cfg.names.runs_table = v;
    } else if (k == "allow_proxy") {
      if (!parse_bool(v, cfg.allow_proxy))
        return Status{
            make_error(Errc::bad_url, "postgres: allow_proxy='" + v + "' must be true or false")};
    } else if (k == "takeover_grace_ms") {
      char* end = nullptr;
      errno = 0;
      const long long ms = std::strtoll(v.c_str(), &end, 10);
      if (v.empty() || *end != '\0' || errno != 0 || ms < 0 || ms > 60000)
        return Status{
            make_error(Errc::bad_url, "postgres: takeover_grace_ms='" + v +
                                          "' must be a number of milliseconds, 0 to 60000")};
      cfg.takeover_grace = milliseconds(ms);
    } else if (known.count(k) != 0) {
      // libpq opens these files itself, blocking, on the I/O thread: a FIFO would hang it.
      for (const char* file_key : {"sslrootcert", "sslcert", "sslkey", "sslcrl", "passfile"})
        if (k == file_key)
          if (Status s = check_not_special_file(k, v); !s.ok()) return s;
      kw[k] = v;
    } else {
      return Status{make_error(
          Errc::bad_url,
          "postgres: '" + k +
              "' is neither a libpq connection parameter (sslmode, sslrootcert, connect_timeout, "
              "application_name, target_session_attrs, ...) nor a tenure option (mode, schema, "
              "table, runs_table, allow_proxy, takeover_grace_ms)")};
    }
  }
  if (Status s = derive_names(cfg.names); !s.ok()) return s;

  // Defaults that suit leader election; any of them can be overridden in the URL.
  // application_name carries a tag of this process (the name given in the URL, or "tenure", then
  // the tag): a session-mode standby asks pg_stat_activity whether a holder's process still has a
  // session before it takes over that holder's lease (see LeaseSql::acquire).
  std::string app;
  for (char c : kw.count("application_name") ? kw["application_name"] : std::string("tenure"))
    if (c >= 0x20 && c < 0x7f && app.size() < 40) app += c;
  kw["application_name"] = app + " " + process_tag();
  kw.try_emplace("keepalives", "1");
  kw.try_emplace("keepalives_idle", "5");
  kw.try_emplace("keepalives_interval", "2");
  kw.try_emplace("keepalives_count", "3");
  if (auto it = kw.find("connect_timeout"); it != kw.end()) {
    try {
      int secs = std::stoi(it->second);
      if (secs > 0) cfg.conn.connect_timeout = milliseconds(secs * 1000L);
    } catch (...) {
      return Status{
          make_error(Errc::bad_url, "postgres: connect_timeout must be a number of seconds")};
    }
  }

  for (const auto& [k, v] : kw) cfg.conn.keywords.emplace_back(k, v);
  auto get = [&](const char* k, const char* dflt) {
    auto it = kw.find(k);
    return it == kw.end() ? std::string(dflt) : it->second;
  };
  cfg.conn.user = get("user", "");
  cfg.conn.dbname = get("dbname", "");
  cfg.conn.where = get("host", "localhost") + ":" + get("port", "5432") + "/" +
                   (cfg.conn.dbname.empty() ? cfg.conn.user : cfg.conn.dbname) + " as user '" +
                   cfg.conn.user + "'";

  std::string key;
  for (const auto& [k, v] : kw) key += k + "=" + v + "\x1f";
  key += cfg.names.q_table + "\x1f" + cfg.names.q_runs;
  cfg.hub_key = key;
  return cfg;
}

}  // namespace tenure::backends::pg
