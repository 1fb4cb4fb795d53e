#include "postgres/pg_config.hpp"

#include "tenure/backend_options.hpp"
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

std::string name_rule(const std::string& key) {
  return std::string("[a-z_][a-z0-9_]*, at most ") + (key == "schema" ? "22" : "40") +
         " characters";
}

bool valid_schema(const std::string& s) { return valid_name(s, 22); }
bool valid_table(const std::string& s) { return valid_name(s, 40); }

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
  // Checked again here: a caller may fill Names without parse_config.
  auto bad = [](const std::string& key, const std::string& value) {
    return make_error(Errc::invalid_argument, "PostgreSQL backend option " + key + "='" +
                                                  printable_value(value) + "' is not valid: give " +
                                                  name_rule(key));
  };
  if (!valid_schema(n.schema)) return bad("schema", n.schema);
  if (!valid_table(n.table)) return bad("table", n.table);
  if (!valid_table(n.runs_table)) return bad("runs_table", n.runs_table);
  if (n.table == n.runs_table)
    return make_error(
        Errc::invalid_argument,
        "PostgreSQL backend options table and runs_table must differ (both '" + n.table + "')");
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

  // tenure's options (the table in docs/postgres.md); every other key goes to libpq unchanged.
  BackendOptions o("PostgreSQL", ctx);
  o.read_enum("mode", cfg.session_mode, {{"lease", false}, {"session", true}});
  o.read("schema", cfg.names.schema, valid_schema, name_rule("schema"));
  o.read("table", cfg.names.table, valid_table, name_rule("table"));
  o.read("runs_table", cfg.names.runs_table, valid_table, name_rule("runs_table"));
  o.read_bool("allow_proxy", cfg.allow_proxy);
  o.read_ms("takeover_grace_ms", cfg.takeover_grace, milliseconds(0), milliseconds(60000));
  const std::set<std::string> libpq = libpq_keywords();
  for (const auto& [k, given] : o.given()) {
    if (libpq.count(k) == 0) continue;
    const std::string v = *o.take(k);
    // libpq opens these files itself, blocking, on the I/O thread: a FIFO would hang it.
    for (const char* file_key : {"sslrootcert", "sslcert", "sslkey", "sslcrl", "passfile"})
      if (k == file_key)
        if (Status s = check_not_special_file(k, v); !s.ok()) o.fail(s);
    if (k == "connect_timeout" && !parse_int(v)) o.malformed(k, v, "a whole number of seconds");
    kw[k] = v;
  }
  if (Status s = o.finish("libpq's connection parameters (sslmode, sslrootcert, connect_timeout, "
                          "application_name, target_session_attrs, ...)");
      !s.ok())
    return s;
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
  // libpq waits forever for 0 or less; tenure's own connect timer then keeps its default.
  if (auto it = kw.find("connect_timeout"); it != kw.end()) {
    const int64_t secs = parse_int(it->second).value_or(0);
    if (secs > 0) cfg.conn.connect_timeout = milliseconds(std::min<int64_t>(secs, 86400) * 1000);
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
