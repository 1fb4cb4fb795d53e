#include "postgres/pg_ledger.hpp"

#include <boost/asio/post.hpp>

#include "postgres/pg_session.hpp"

namespace tenure::backends::pg {

PgLedger::PgLedger(std::shared_ptr<SessionCtx> sc)
    : sc_(std::move(sc)), sql_(ledger_sql(sc_->hub->config().names)) {}

namespace {
template <class T>
void fail_later(const std::shared_ptr<SessionCtx>& sc, Completion<T> done, Status s) {
  sc->delivery.complete<T>(std::move(done), std::move(s));
}

Status fenced(const std::string& election, uint64_t token) {
  return make_error(Errc::fenced, "token " + std::to_string(token) + " no longer leads election '" +
                                      election +
                                      "': a newer leader exists or the lease was released");
}
}  // namespace

void PgLedger::claim(const std::string& job_key, uint64_t token, const std::string& holder,
                     UnfinishedPolicy policy, Completion<ClaimResult> done) {
  if (Status s = validate_job_key(job_key); !s.ok())
    return fail_later<ClaimResult>(sc_, std::move(done), s);
  auto sc = sc_;
  std::vector<Param> params{sc_->election, job_key, std::to_string(token), holder,
                            std::string(policy == UnfinishedPolicy::retry ? "true" : "false")};
  sc_->when_clear(
      [sc, sql = sql_.claim, params = std::move(params), token, done = std::move(done)]() mutable {
        sc->run_ready(
            sql, std::move(params),
            [sc, token, done = std::move(done)](Result<PgResult> r) {
              if (!r.ok()) return done(r.status);
              if (r.value.i64(0, 0) == 0) return done(fenced(sc->election, token));
              ClaimResult out;
              out.claimed = r.value.i64(0, 1) > 0;
              out.previous = parse_run(r.value, 0, 2);
              done(out);
            },
            sc);
      });
}

void PgLedger::finish(const std::string& job_key, uint64_t token, bool success,
                      const std::string& detail, Completion<RunRecord> done) {
  if (Status s = validate_job_key(job_key); !s.ok())
    return fail_later<RunRecord>(sc_, std::move(done), s);
  auto sc = sc_;
  std::vector<Param> params{sc_->election, job_key, std::to_string(token),
                            std::string(success ? "true" : "false"), detail};
  sc_->when_clear([sc, sql = sql_.finish, params = std::move(params), job_key, token,
                   done = std::move(done)]() mutable {
    sc->run_ready(
        sql, std::move(params),
        [sc, job_key, token, done = std::move(done)](Result<PgResult> r) {
          if (!r.ok()) return done(r.status);
          const RunRecord rec = parse_run(r.value, 0, 2);
          if (r.value.i64(0, 1) > 0) return done(rec);
          if (r.value.i64(0, 0) == 0) return done(fenced(sc->election, token));
          if (rec.status == RunStatus::none) {
            return done(
                make_error(Errc::bad_state, "job '" + job_key + "' has no claimed run to finish"));
          }
          if (rec.token > token) {
            return done(make_error(Errc::fenced, "job '" + job_key +
                                                     "' was claimed by a newer token " +
                                                     std::to_string(rec.token) + " (ours " +
                                                     std::to_string(token) + ")"));
          }
          if (rec.token == token && rec.status != RunStatus::started) return done(rec);  // a retry
          done(make_error(Errc::bad_state, "job '" + job_key + "' is not started under token " +
                                               std::to_string(token)));
        },
        sc);
  });
}

void PgLedger::read(const std::string& job_key, Completion<RunRecord> done) {
  if (Status s = validate_job_key(job_key); !s.ok())
    return fail_later<RunRecord>(sc_, std::move(done), s);
  auto sc = sc_;
  std::vector<Param> params{sc_->election, job_key};
  sc_->when_clear(
      [sc, sql = sql_.read, params = std::move(params), done = std::move(done)]() mutable {
        sc->run_ready(
            sql, std::move(params),
            [done = std::move(done)](Result<PgResult> r) {
              if (!r.ok()) return done(r.status);
              RunRecord rec;
              if (r.value.rows() > 0) rec = parse_run(r.value, 0, 0);
              done(rec);
            },
            sc);
      });
}

void PgLedger::list(const std::string& prefix, size_t limit,
                    Completion<std::vector<RunRecord>> done) {
  if (Status s = validate_job_prefix(prefix); !s.ok())
    return fail_later<std::vector<RunRecord>>(sc_, std::move(done), s);
  auto sc = sc_;
  std::vector<Param> params{sc_->election, prefix, std::to_string(limit)};
  sc_->when_clear(
      [sc, sql = sql_.list, params = std::move(params), limit, done = std::move(done)]() mutable {
        sc->run_ready(
            sql, std::move(params),
            [limit, done = std::move(done)](Result<PgResult> r) {
              if (!r.ok()) return done(r.status);
              std::vector<RunRecord> out;
              for (int i = 0; i < r.value.rows(); ++i) out.push_back(parse_run(r.value, i, 0));
              keep_last(out, limit);
              done(std::move(out));
            },
            sc);
      });
}

}  // namespace tenure::backends::pg
