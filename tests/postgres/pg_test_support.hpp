// Helpers of the PostgreSQL tests: the server's URLs from the environment, and a blocking libpq
// connection for looking at tables and locks the way an operator would.
#pragma once

#include <libpq-fe.h>

#include <cstdlib>
#include <string>
#include <vector>

#include "support/test_support.hpp"

namespace tenure::testing {

inline const char* kPgHint =
    "start a server with `tests/servers/postgres.sh start /tmp/tenure-pg && source "
    "/tmp/tenure-pg/postgres.env`";

inline std::string pg_env(const char* name) { return env(name); }

// URL with extra query parameters (the base URL from postgres.sh has none).
inline std::string with_query(const std::string& base, const std::string& q) {
  if (q.empty()) return base;
  return base + (base.find('?') == std::string::npos ? "?" : "&") + q;
}

class Pq {
 public:
  explicit Pq(const std::string& url) : c_(PQconnectdb(url.c_str())) {}
  ~Pq() { PQfinish(c_); }
  Pq(const Pq&) = delete;
  Pq& operator=(const Pq&) = delete;
  bool ok() const { return PQstatus(c_) == CONNECTION_OK; }
  std::string error() const { return PQerrorMessage(c_); }
  // Rows of text values; on error returns {} and sets err.
  std::vector<std::vector<std::string>> rows(const std::string& sql, std::string* err = nullptr) {
    std::vector<std::vector<std::string>> out;
    PGresult* r = PQexec(c_, sql.c_str());
    const auto st = PQresultStatus(r);
    if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK) {
      if (err) *err = PQresultErrorMessage(r);
    } else {
      for (int i = 0; i < PQntuples(r); ++i) {
        std::vector<std::string> row;
        for (int j = 0; j < PQnfields(r); ++j) row.emplace_back(PQgetvalue(r, i, j));
        out.push_back(std::move(row));
      }
    }
    PQclear(r);
    return out;
  }
  std::string one(const std::string& sql) {
    auto r = rows(sql);
    return r.empty() || r[0].empty() ? std::string() : r[0][0];
  }

 private:
  PGconn* c_;
};

}  // namespace tenure::testing
