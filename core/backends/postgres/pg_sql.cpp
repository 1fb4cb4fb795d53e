#include "postgres/pg_sql.hpp"

#include <boost/asio/post.hpp>

namespace tenure::backends::pg {

namespace {

// A stored token below 0 (a hand edit: the sequence never gives one) would read as a huge
// unsigned token; the failed cast raises an error (SQLSTATE 22P02) naming the row instead.
std::string checked_token(const std::string& a, const std::string& row) {
  return "CASE WHEN " + a + ".token >= 0 THEN " + a + ".token ELSE ('tenure: the " + row +
         " holds the fencing token ' || " + a +
         ".token || ', below 0; tokens are 1..9223372036854775807: restore the row')::bigint "
         "END";
}

// Record columns of a lease row aliased `t` (7 columns). Times in Unix ms for people; the
// remaining lifetime computed by the server from its own now().
std::string rec(const char* t) {
  const std::string a = t;
  return a + ".holder, " + checked_token(a, "lease row of election ' || " + a + ".election || '") +
         ", " + a + ".lease_duration_ms, " + "coalesce((extract(epoch from " + a +
         ".acquired_at) * 1000)::bigint, 0), " + "coalesce((extract(epoch from " + a +
         ".renewed_at) * 1000)::bigint, 0), " + a + ".transitions, " + "CASE WHEN " + a +
         ".holder = '' THEN -1 ELSE greatest(0, (extract(epoch from " + a +
         ".expires_at - now()) * 1000)::bigint) END";
}

// Run record columns of a runs row aliased `r` (7 columns).
std::string runrec(const char* r) {
  const std::string a = r;
  return a + ".job_key, " + a + ".status, " +
         checked_token(a, "run row of job ' || " + a + ".job_key || '") + ", " + a + ".holder, " +
         "coalesce((extract(epoch from " + a + ".started_at) * 1000)::bigint, 0), " +
         "coalesce((extract(epoch from " + a + ".finished_at) * 1000)::bigint, 0), " + a +
         ".detail";
}

}  // namespace

std::string migration_ddl(const Names& n, int from) {
  std::string ddl;
  if (from < 1) {
    ddl += "CREATE SEQUENCE IF NOT EXISTS " + n.q_seq +
           ";\n"
           "CREATE TABLE IF NOT EXISTS " +
           n.q_table +
           " (\n"
           "  election text PRIMARY KEY,\n"
           "  holder text NOT NULL DEFAULT '',          -- '' when no one leads\n"
           "  token bigint NOT NULL DEFAULT 0,          -- fencing token, from " +
           n.seq_name +
           "\n"
           "  lease_duration_ms bigint NOT NULL DEFAULT 0,\n"
           "  acquired_at timestamptz,\n"
           "  renewed_at timestamptz,\n"
           "  expires_at timestamptz NOT NULL DEFAULT now(),\n"
           "  transitions bigint NOT NULL DEFAULT 0,\n"
           "  mode text NOT NULL DEFAULT 'lease',       -- lease | session\n"
           "  holder_pid integer,                       -- server pid of the holder's connection\n"
           "  server_started timestamptz                -- pg_postmaster_start_time() at last "
           "renewal\n"
           ");\n"
           "CREATE TABLE IF NOT EXISTS " +
           n.q_runs +
           " (\n"
           "  election text NOT NULL,\n"
           "  job_key text NOT NULL,\n"
           "  status text NOT NULL,                     -- started | finished | failed\n"
           "  token bigint NOT NULL,\n"
           "  holder text NOT NULL,\n"
           "  started_at timestamptz NOT NULL DEFAULT now(),\n"
           "  finished_at timestamptz,\n"
           "  detail text NOT NULL DEFAULT '',\n"
           "  PRIMARY KEY (election, job_key)\n"
           ");\n"
           "INSERT INTO " +
           n.q_version +
           " (version, description) VALUES (1, 'leases, runs, token sequence') "
           "ON CONFLICT DO NOTHING;\n";
  }
  // Later migrations go here as `if (from < N) ddl += ...;`, idempotent (IF NOT EXISTS) because
  // two processes may both see the old version before one takes the migration lock.
  if (from < 2) {
    ddl += "ALTER TABLE " + n.q_table +
           " ADD COLUMN IF NOT EXISTS holder_process text;  -- application_name of the holder's "
           "process (session mode: is it still connected?)\n"
           "INSERT INTO " +
           n.q_version +
           " (version, description) VALUES (2, 'holder_process') ON CONFLICT DO NOTHING;\n";
  }
  return ddl;
}

std::string manual_ddl(const Names& n, const std::string& role) {
  std::string ddl;
  if (n.schema != "public") ddl += "CREATE SCHEMA IF NOT EXISTS " + quote_ident(n.schema) + ";\n";
  ddl +=
      "CREATE TABLE IF NOT EXISTS " + n.q_version +
      " (version integer PRIMARY KEY, description text NOT NULL DEFAULT '', applied_at timestamptz "
      "NOT NULL DEFAULT now());\n";
  ddl += migration_ddl(n, 0);
  const std::string r = quote_ident(role);
  if (n.schema != "public")
    ddl += "GRANT USAGE ON SCHEMA " + quote_ident(n.schema) + " TO " + r + ";\n";
  ddl += "GRANT SELECT, INSERT, UPDATE ON " + n.q_table + ", " + n.q_runs + " TO " + r + ";\n";
  ddl += "GRANT SELECT ON " + n.q_version + " TO " + r + ";\n";
  ddl += "GRANT USAGE, SELECT ON SEQUENCE " + n.q_seq + " TO " + r + ";\n";
  return ddl;
}

void ensure_schema(const std::shared_ptr<PgConnection>& conn, const Names& n, milliseconds timeout,
                   std::function<void(Status)> done) {
  // 1: does the version table exist, and which version does it hold?
  const std::string probe = "SELECT to_regclass($1) IS NOT NULL, to_regnamespace($2) IS NOT NULL";
  std::string version_regclass = n.schema + "." + n.version_table;
  conn->query(
      probe, {version_regclass, n.schema}, timeout, [conn, n, timeout, done](Result<PgResult> r) {
        if (!r.ok()) return done(r.status);
        const bool have_version = r.value.boolean(0, 0);
        const bool have_schema = r.value.boolean(0, 1);
        auto migrate = [conn, n, timeout, done, have_schema](int from) {
          if (from >= kSchemaVersion) return done({});
          std::string script =
              "SELECT pg_advisory_xact_lock(hashtextextended('tenure-migrate:" + n.schema + "." +
              n.table + "', 0));\n";
          if (!have_schema)
            script += "CREATE SCHEMA IF NOT EXISTS " + quote_ident(n.schema) + ";\n";
          script +=
              "CREATE TABLE IF NOT EXISTS " + n.q_version +
              " (version integer PRIMARY KEY, description text NOT NULL DEFAULT '', applied_at "
              "timestamptz NOT NULL DEFAULT now());\n";
          script += migration_ddl(n, from);
          // One simple-protocol string = one implicit transaction: all or nothing.
          conn->script(script, timeout, [conn, n, done, from](Result<PgResult> r) {
            if (r.ok()) return done({});
            if (r.status.code == Errc::permission_denied) {
              const std::string role =
                  conn->params().user.empty() ? "CURRENT_USER" : conn->params().user;
              return done(make_error(
                  Errc::permission_denied,
                  "PostgreSQL role '" + role + "' may not create tenure's tables (schema version " +
                      std::to_string(from) + ", needs " + std::to_string(kSchemaVersion) +
                      ") in schema '" + n.schema + "' (" + r.status.message +
                      "). Ask the database owner to run once:\n" + manual_ddl(n, role)));
            }
            done(r.status);
          });
        };
        if (!have_version) return migrate(0);
        conn->query("SELECT coalesce(max(version), 0) FROM " + n.q_version, {}, timeout,
                    [migrate, done](Result<PgResult> r) {
                      if (!r.ok()) return done(r.status);
                      migrate(static_cast<int>(r.value.i64(0, 0)));
                    });
      });
}

LeaseSql lease_sql(const Names& n) {
  LeaseSql s;
  const std::string T = n.q_table;
  const std::string dur = "($3::bigint * interval '1 millisecond')";
  // Acquire: one upsert. It takes the row when nobody holds it, when it expired by the server's
  // clock, or when we hold it already. In session mode (we hold the advisory lock, so the
  // holder's lock session has ended) it also takes a row still within its lease, but only the
  // token $7 whose takeover grace we have waited out, and only when no session of the holder's
  // process is left on the server: such a process crashed, while a live one has heard its lock
  // connection end and steps down, then releases the row (a live holder is waited for).
  const std::string abandoned =
      "(l.mode = 'session' AND l.server_started = pg_postmaster_start_time())";
  const std::string process_gone =
      "NOT EXISTS (SELECT 1 FROM pg_stat_activity a WHERE a.application_name = "
      "l.holder_process)";
  // The token: nextval runs only where the row is taken (the DO UPDATE SET runs only when its
  // WHERE holds, the VALUES row's only for an election without a row), so a failed acquire
  // spends no sequence value. Should the row vanish between the EXISTS and the insert (a manual
  // DELETE), the insert carries token 0 and the outcome says "not acquired": 0 is never handed
  // out, and the next acquire (the row is ours) takes a real token.
  const std::string next = "nextval('" + n.q_seq + "')";
  s.acquire =
      "WITH up AS (INSERT INTO " + T +
      " AS l (election, holder, token, lease_duration_ms, acquired_at, "
      "renewed_at, expires_at, transitions, mode, holder_pid, server_started, holder_process) "
      "VALUES ($1::text, $2::text, CASE WHEN EXISTS (SELECT 1 FROM " +
      T + " e WHERE e.election = $1::text) THEN 0 ELSE " + next +
      " END, $3::bigint, now(), now(), now() + " + dur +
      ", 1, $4::text, pg_backend_pid(), pg_postmaster_start_time(), "
      "current_setting('application_name')) ON CONFLICT (election) DO UPDATE SET "
      "holder = EXCLUDED.holder, token = " +
      next +
      ", lease_duration_ms = "
      "EXCLUDED.lease_duration_ms, "
      "acquired_at = now(), renewed_at = now(), expires_at = EXCLUDED.expires_at, "
      "transitions = l.transitions + CASE WHEN l.holder = EXCLUDED.holder THEN 0 ELSE 1 END, "
      "mode = EXCLUDED.mode, holder_pid = EXCLUDED.holder_pid, server_started = "
      "EXCLUDED.server_started, holder_process = EXCLUDED.holder_process "
      "WHERE l.holder = '' OR l.expires_at <= now() OR l.holder = EXCLUDED.holder OR ($5::boolean "
      "AND l.token = $7::bigint AND " +
      abandoned + " AND " + process_gone +
      ") RETURNING l.*) "
      "SELECT up.token <> 0, " +
      rec("up") +
      ", false, false FROM up CROSS JOIN LATERAL (SELECT pg_notify($6::text, $1::text)) n "
      "UNION ALL SELECT false, " +
      rec("l") + ", " + abandoned + ", " + process_gone + " FROM " + T +
      " l WHERE l.election = $1::text AND NOT EXISTS (SELECT 1 FROM up)";
  s.renew = "WITH up AS (UPDATE " + T +
            " l SET renewed_at = now(), expires_at = now() + ($4::bigint * "
            "interval '1 millisecond'), lease_duration_ms = $4::bigint, server_started = "
            "pg_postmaster_start_time(), holder_pid = CASE WHEN $5::boolean THEN l.holder_pid ELSE "
            "pg_backend_pid() END WHERE l.election = $1::text AND l.holder = $2::text AND l.token "
            "= $3::bigint "
            "RETURNING l.*, l.holder_pid IS NOT DISTINCT FROM pg_backend_pid() AS same_session) "
            "SELECT true, " +
            rec("up") + ", up.same_session FROM up UNION ALL SELECT false, " + rec("t") +
            ", true FROM " + T + " t WHERE t.election = $1::text AND NOT EXISTS (SELECT 1 FROM up)";
  // Release commits without waiting for the WAL flush (synchronous_commit off for this
  // transaction only): a release lost in a server crash leaves the old holder's row, which
  // expires as after any crash, and the next acquire's durable commit flushes it anyway. Never so
  // for acquire and renew: a lost acquire could hand its fencing token out twice.
  const std::string release_up =
      "up AS (UPDATE " + T +
      " l SET holder = '', expires_at = now() "
      "WHERE l.election = $1::text AND l.holder = $2::text AND l.token = $3::bigint RETURNING l.*)";
  const std::string release_rows =
      "SELECT true, " + rec("up") +
      " FROM up CROSS JOIN LATERAL (SELECT pg_notify($4::text, $1::text), "
      "set_config('synchronous_commit', 'off', true)) n "
      "UNION ALL SELECT false, " +
      rec("t") + " FROM " + T + " t WHERE t.election = $1::text AND NOT EXISTS (SELECT 1 FROM up)";
  s.release = "WITH " + release_up + " " + release_rows;
  // The unlock runs once the row is updated and locked: a standby that the unlock wakes waits on
  // that row lock until the commit, then finds the row free. One round trip instead of two.
  s.release_unlock = "WITH " + release_up + ", q AS (" + release_rows +
                     ") SELECT q.*, pg_advisory_unlock(hashtextextended($5::text, 0)) FROM q";
  s.read = "SELECT " + rec("t") + " FROM " + T + " t WHERE t.election = $1::text";
  s.lock_try = "SELECT pg_try_advisory_lock(hashtextextended($1::text, 0))";
  s.lock_wait = "SELECT pg_advisory_lock(hashtextextended($1::text, 0))";
  s.lock_release = "SELECT pg_advisory_unlock(hashtextextended($1::text, 0))";
  // Session mode, a standby: end the server session of a holder whose lease was released or has
  // expired by the server's clock while that session still holds the advisory lock (a frozen
  // process, a connection kept alive by a proxy). Only the lock session of the row's own epoch
  // ($2 token; release keeps holder_pid) is ended, never a newer one.
  // pg_locks shows a bigint advisory key as classid (high half) and objid (low half), objsubid 1.
  s.evict = "SELECT t.holder_pid, pg_terminate_backend(t.holder_pid) FROM " + T +
            " t WHERE t.election = $1::text AND t.token = $2::bigint AND t.mode = 'session' AND "
            "t.expires_at <= now() AND t.holder_pid IN (SELECT l.pid FROM "
            "pg_locks l WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1 AND "
            "l.database = (SELECT oid FROM pg_database WHERE datname = current_database()) AND "
            "((l.classid::bigint << 32) | l.objid::bigint) = hashtextextended($3::text, 0))";
  return s;
}

LeaseRecord parse_lease(const PgResult& r, int row, int o) {
  LeaseRecord rec;
  rec.holder = r.text(row, o + 0);
  rec.token = static_cast<uint64_t>(r.i64(row, o + 1));
  rec.lease_duration = milliseconds(r.i64(row, o + 2));
  rec.acquired_unix_ms = r.i64(row, o + 3);
  rec.renewed_unix_ms = r.i64(row, o + 4);
  rec.transitions = static_cast<uint64_t>(r.i64(row, o + 5));
  rec.expires_in_ms = r.is_null(row, o + 6) ? -1 : r.i64(row, o + 6);
  return rec;
}

LedgerSql ledger_sql(const Names& n) {
  LedgerSql s;
  const std::string T = n.q_table, R = n.q_runs;
  // The lease row is share-locked: a takeover waits for the claim to commit, or the claim sees
  // the new token and is fenced.
  const std::string cur =
      "cur AS (SELECT token FROM " + T +
      " WHERE election = $1::text AND token = $3::bigint AND holder <> '' FOR SHARE)";
  s.claim = "WITH " + cur + ", prev AS (SELECT * FROM " + R +
            " WHERE election = $1::text AND job_key = "
            "$2::text), up AS (INSERT INTO " +
            R +
            " AS r (election, job_key, status, token, holder, started_at, "
            "finished_at, detail) SELECT $1::text, $2::text, 'started', $3::bigint, $4::text, "
            "now(), NULL, '' "
            "FROM cur ON CONFLICT (election, job_key) DO UPDATE SET status = 'started', token = "
            "EXCLUDED.token, "
            "holder = EXCLUDED.holder, started_at = now(), finished_at = NULL, detail = '' WHERE "
            "r.status = "
            "'failed' OR (r.status = 'started' AND r.token < EXCLUDED.token AND $5::boolean) "
            "RETURNING r.job_key) "
            "SELECT (SELECT count(*) FROM cur), (SELECT count(*) FROM up), " +
            runrec("p") + " FROM (SELECT 1) one LEFT JOIN prev p ON true";
  s.finish =
      "WITH " + cur + ", up AS (UPDATE " + R +
      " r SET status = CASE WHEN $4::boolean THEN 'finished' "
      "ELSE 'failed' END, finished_at = now(), detail = $5::text WHERE r.election = $1::text AND "
      "r.job_key = $2::text AND r.token = $3::bigint AND r.status = 'started' AND EXISTS (SELECT 1 "
      "FROM "
      "cur) RETURNING r.*), x AS (SELECT * FROM up UNION ALL SELECT * FROM " +
      R +
      " WHERE election = "
      "$1::text AND job_key = $2::text AND NOT EXISTS (SELECT 1 FROM up)) "
      "SELECT (SELECT count(*) FROM cur), (SELECT count(*) FROM up), " +
      runrec("x") + " FROM (SELECT 1) one LEFT JOIN x ON true";
  s.read = "SELECT " + runrec("r") + " FROM " + R +
           " r WHERE r.election = $1::text AND r.job_key = $2::text";
  // COLLATE "C": byte order, as the other backends list (a locale collation may ignore '-').
  s.list = "SELECT " + runrec("r") + " FROM " + R +
           " r WHERE r.election = $1::text AND left(r.job_key, length($2::text)) = $2::text "
           "ORDER BY r.job_key COLLATE \"C\" DESC LIMIT $3::bigint";
  return s;
}

RunRecord parse_run(const PgResult& r, int row, int o) {
  RunRecord rec;
  if (r.is_null(row, o)) return rec;
  rec.job_key = r.text(row, o + 0);
  const std::string st = r.text(row, o + 1);
  rec.status = st == "started"    ? RunStatus::started
               : st == "finished" ? RunStatus::finished
               : st == "failed"   ? RunStatus::failed
                                  : RunStatus::none;
  rec.token = static_cast<uint64_t>(r.i64(row, o + 2));
  rec.holder = r.text(row, o + 3);
  rec.started_unix_ms = r.i64(row, o + 4);
  rec.finished_unix_ms = r.i64(row, o + 5);
  rec.detail = r.text(row, o + 6);
  return rec;
}

}  // namespace tenure::backends::pg
