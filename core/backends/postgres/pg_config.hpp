// PostgreSQL backend configuration: the URL split into libpq connection keywords (passed through
// untouched) and tenure's own options (mode, schema, table names).
#pragma once

#include <chrono>
#include <string>
#include <utility>
#include <vector>

#include "tenure/backend.hpp"

namespace tenure::backends::pg {

using std::chrono::milliseconds;

// Connection parameters as libpq keyword/value pairs (password included: never print them).
struct ConnParams {
  std::vector<std::pair<std::string, std::string>> keywords;
  std::string where;  // "host:port/db as user", for messages; never holds the password
  std::string user;
  std::string dbname;
  milliseconds connect_timeout{10000};
};

// Table, sequence and channel names, validated ([a-z_][a-z0-9_]*) so they never need escaping.
struct Names {
  std::string schema = "public";
  std::string table = "tenure_leases";
  std::string runs_table = "tenure_runs";
  // Derived, quoted and schema-qualified:
  std::string q_table, q_runs, q_seq, q_version;
  std::string seq_name, version_table;
  std::string channel;  // LISTEN/NOTIFY channel: the lease table's qualified name
};

struct PgConfig {
  ConnParams conn;
  Names names;
  bool session_mode = false;  // ?mode=session: advisory lock on a dedicated connection
  bool allow_proxy = false;   // ?allow_proxy=true: accept a connection through a pooler
  // ?takeover_grace_ms=N (session mode): how long a standby waits before it takes the row of a
  // holder whose process has no session left (crashed, or every connection cut).
  milliseconds takeover_grace{30};
  std::string hub_key;  // connections are shared by configs with the same key
};

// tenure's options (mode, schema, table, runs_table, allow_proxy, takeover_grace_ms) from the URL
// query and backend.<key> options; every other key must be a libpq connection keyword and goes
// to libpq unchanged. Mistakes get the codes of tenure/backend_options.hpp.
Result<PgConfig> parse_config(const BackendContext& ctx);
Status derive_names(Names& n);

// "#" and 16 hex digits, random, one per process (a forked child gets a new one).
std::string process_tag();

// SQL identifier quoting for validated names (they need no escaping, but quoting keeps case).
std::string quote_ident(const std::string& name);

}  // namespace tenure::backends::pg
