// What a failed connect or statement means, from the server's SQLSTATE and words, as a Status
// whose message says what to change.
#include "postgres/pg_connection.hpp"

#include <cstring>

namespace tenure::backends::pg {

std::string trim_message(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ' || s.back() == '\r')) s.pop_back();
  return s;
}

namespace {

bool has(const std::string& s, const char* needle) { return s.find(needle) != std::string::npos; }

// libpq's verbose message of a failed connect ("...: FATAL:  53300: sorry, too many clients
// already\nLOCATION:  ...") split into the SQLSTATE ("" when none) and the message as the default
// verbosity would print it, so the language of the server's messages does not matter.
std::pair<std::string, std::string> split_sqlstate(const std::string& m) {
  std::string state, out;
  size_t pos = 0;
  while (pos < m.size()) {
    size_t nl = m.find('\n', pos);
    std::string line = m.substr(pos, nl == std::string::npos ? std::string::npos : nl - pos);
    pos = nl == std::string::npos ? m.size() : nl + 1;
    if (line.rfind("LOCATION:", 0) == 0) continue;
    for (const char* sev : {"FATAL:  ", "ERROR:  "}) {
      auto at = line.find(sev);
      if (at == std::string::npos) continue;
      auto code = at + std::strlen(sev);
      if (line.size() > code + 7 && line.compare(code + 5, 2, ": ") == 0) {
        if (state.empty()) state = line.substr(code, 5);
        line.erase(code, 7);
      }
      break;
    }
    out += (out.empty() ? "" : "\n") + line;
  }
  return {state, out};
}

}  // namespace

Status connection_limit_error(const ConnParams& p, const std::string& server_message) {
  const std::string limit =
      has(server_message, "for role")       ? "the role's CONNECTION LIMIT (ALTER ROLE)"
      : has(server_message, "for database") ? "the database's CONNECTION LIMIT (ALTER DATABASE)"
                                            : "its max_connections";
  return make_error(
      Errc::connection_limit,
      "PostgreSQL at " + p.where + " refuses new connections: " + limit +
          " is reached. Session mode (?mode=session) holds one server connection per elector, "
          "leader or standby, plus one per process: raise the limit, run fewer session-mode "
          "electors against this server, or use lease mode (one connection per process). tenure "
          "retries with a backoff of up to 30 s. Server said: " +
          server_message);
}

Status classify_connect_error(const ConnParams& p, const std::string& raw) {
  const auto [state, plain] = split_sqlstate(raw);
  const std::string m = trim_message(plain);
  const std::string at = "PostgreSQL at " + p.where;
  if (state == "53300") return connection_limit_error(p, m);
  if (has(m, "password authentication failed") || has(m, "no password supplied") ||
      has(m, "SCRAM") || has(m, "authentication failed") || has(m, "password is required")) {
    return make_error(Errc::auth_failed,
                      at +
                          " refused the credentials: check the user and password in the URL "
                          "(postgres://USER:PASSWORD@host:port/db). Server said: " +
                          m);
  }
  if (has(m, "database \"") && has(m, "does not exist")) {
    return make_error(Errc::backend,
                      at +
                          ": the database does not exist: fix the path of the URL, or "
                          "create it (CREATE DATABASE " +
                          quote_ident(p.dbname) + " OWNER " + quote_ident(p.user) +
                          ";). Server said: " + m);
  }
  if (has(m, "role \"") && has(m, "does not exist")) {
    return make_error(Errc::auth_failed,
                      at + ": the role does not exist: fix the user in the URL. Server said: " + m);
  }
  if (has(m, "no pg_hba.conf entry") || has(m, "not permitted to log in") ||
      has(m, "permission denied for database")) {
    return make_error(Errc::permission_denied,
                      at +
                          " does not let this role connect: grant CONNECT / LOGIN or add a "
                          "pg_hba.conf entry. Server said: " +
                          m);
  }
  if (has(m, "invalid response to SSL negotiation") || has(m, "expected authentication request") ||
      has(m, "unexpected message from server") || has(m, "invalid length of startup packet") ||
      has(m, "received invalid response")) {
    return make_error(
        Errc::unreachable,
        at + " does not speak the PostgreSQL protocol: is the port right? libpq said: " + m);
  }
  if (has(m, "server does not support SSL") || has(m, "SSL")) {
    return make_error(
        Errc::unreachable,
        at +
            ": TLS could not be set up: check sslmode/sslrootcert/sslcert in the URL. libpq "
            "said: " +
            m);
  }
  return make_error(Errc::unreachable,
                    at +
                        " cannot be reached: check host and port, and that the server runs. libpq "
                        "said: " +
                        m);
}

namespace {
Status classify_result_text(const ConnParams& p, const PGresult* r, const std::string& state) {
  // The primary message with its detail and hint; not the caret drawing of the full message.
  std::string m;
  if (const char* primary = PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY)) {
    m = primary;
    if (const char* d = PQresultErrorField(r, PG_DIAG_MESSAGE_DETAIL))
      m += std::string(" (") + d + ")";
    if (const char* h = PQresultErrorField(r, PG_DIAG_MESSAGE_HINT))
      m += std::string(" Hint: ") + h;
  } else {
    m = trim_message(PQresultErrorMessage(r));
  }
  const std::string at = "PostgreSQL at " + p.where;
  if (state == "42501")
    return make_error(Errc::permission_denied, at + ": permission denied: " + m);
  if (state == "2200H")  // the token sequence is at its maximum: never cycle to a smaller token
    return make_error(Errc::backend, at + ": refusing to lead: " + m +
                                         "; fencing tokens only grow, and this sequence has no "
                                         "greater one. Reset every resource guarded by these "
                                         "tokens to accept smaller ones, then reset the sequence");
  if (state == "57014")
    return make_error(Errc::timeout, at + ": statement cancelled (statement_timeout?): " + m);
  if (state == "25006")
    return make_error(Errc::backend,
                      at +
                          " is a read-only server (a standby?): point the URL at the "
                          "primary, or add target_session_attrs=read-write. " +
                          m);
  if (state == "53300") return connection_limit_error(p, m);
  if (state.rfind("08", 0) == 0 || state.rfind("57P", 0) == 0)
    return make_error(Errc::unreachable, at + ": connection failure: " + m);
  if (state.empty()) return make_error(Errc::unreachable, at + ": connection lost: " + m);
  return make_error(Errc::backend, at + ": SQLSTATE " + state + ": " + m);
}
}  // namespace

Status classify_result_error(const ConnParams& p, const PGresult* r) {
  const char* st = PQresultErrorField(r, PG_DIAG_SQLSTATE);
  Status s = classify_result_text(p, r, st != nullptr ? st : "");
  s.detail.sqlstate = st != nullptr ? st : "";  // callers act on this, never on the text
  return s;
}

}  // namespace tenure::backends::pg
