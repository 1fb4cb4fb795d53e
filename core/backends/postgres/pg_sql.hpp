// The SQL tenure runs: schema and versioned migrations, and the single-statement lease and ledger
// operations. Expiry always uses the server's now(); tokens come from a sequence.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "postgres/pg_config.hpp"
#include "postgres/pg_connection.hpp"
#include "tenure/backend.hpp"
#include "tenure/ledger.hpp"

namespace tenure::backends::pg {

inline constexpr int kSchemaVersion = 2;

// The DDL of migrations after `from_version` up to kSchemaVersion (idempotent statements).
std::string migration_ddl(const Names& n, int from_version);
// The complete DDL and grants an owner runs for a role that may not create tables.
std::string manual_ddl(const Names& n, const std::string& role);

// Creates or migrates the tables on first use. done runs on conn's executor.
void ensure_schema(const std::shared_ptr<PgConnection>& conn, const Names& n, milliseconds timeout,
                   std::function<void(Status)> done);

// Lease statements. Every lease statement returns the record columns below, starting at a column
// offset; parse_lease reads them.
struct LeaseSql {
  // $1 election $2 holder $3 duration_ms $4 mode $5 take_abandoned $6 channel $7 abandoned token.
  // Columns: acquired, the record (1..7), then for a row not taken: was its holder's lock session
  // ended (session mode, same server incarnation), and is no session of its process left.
  std::string acquire;
  std::string renew;    // $1 election $2 holder $3 token $4 duration_ms $5 check_pid
  std::string release;  // $1 election $2 holder $3 token $4 channel
  // Session mode: release, then (same transaction, after the row is locked) the advisory lock.
  // $1..$4 as release, $5 lock key text.
  std::string release_unlock;
  std::string read;                               // $1 election
  std::string lock_try, lock_wait, lock_release;  // $1 lock key text
  // Ends the lock session of an expired session-mode holder: $1 election $2 token $3 lock key
  // text. One row (holder_pid, terminated) when it tried.
  std::string evict;
};
LeaseSql lease_sql(const Names& n);
LeaseRecord parse_lease(const PgResult& r, int row, int offset);

struct LedgerSql {
  std::string claim;   // $1 election $2 job $3 token $4 holder $5 retry_started
  std::string finish;  // $1 election $2 job $3 token $4 success $5 detail
  std::string read;    // $1 election $2 job
  std::string list;    // $1 election $2 key prefix $3 limit: the last $3 keys in byte order
};
LedgerSql ledger_sql(const Names& n);
RunRecord parse_run(const PgResult& r, int row, int offset);

}  // namespace tenure::backends::pg
