// The run-once ledger on Redis: one hash per job key (status, token, holder, started, finished,
// detail) under PREFIX{election}:run:, changed only by scripts that compare the caller's fencing
// token with the election's token counter.
#include <algorithm>
#include <cstdlib>

#include "redis/redis_session.hpp"

namespace tenure::backends::redis {

namespace {

RunStatus status_from(const std::string& s) {
  if (s == "started") return RunStatus::started;
  if (s == "finished") return RunStatus::finished;
  if (s == "failed") return RunStatus::failed;
  return RunStatus::none;
}

RunRecord record_from(const std::string& job_key, const Reply& fields) {
  RunRecord rec;
  rec.job_key = job_key;
  for (size_t i = 0; i + 1 < fields.elements.size(); i += 2) {
    const std::string& k = fields.elements[i].str;
    const std::string& v = fields.elements[i + 1].str;
    if (k == "status")
      rec.status = status_from(v);
    else if (k == "token")
      rec.token = std::strtoull(v.c_str(), nullptr, 10);
    else if (k == "holder")
      rec.holder = v;
    else if (k == "started")
      rec.started_unix_ms = std::atoll(v.c_str());
    else if (k == "finished")
      rec.finished_unix_ms = std::atoll(v.c_str());
    else if (k == "detail")
      rec.detail = v;
  }
  return rec;
}

class RedisLedger final : public Ledger {
 public:
  explicit RedisLedger(std::shared_ptr<SessionCore> core) : core_(std::move(core)) {}

  void claim(const std::string& job_key, uint64_t token, const std::string& holder,
             UnfinishedPolicy policy, Completion<ClaimResult> done) override {
    auto core = core_;
    if (auto st = validate_job_key(job_key); !st.ok()) {
      core->delivery.post([done, st] { done(st); });
      return;
    }
    core->eval(
        claim_script(), {core->keys.job_prefix + job_key, core->keys.lease},
        {std::to_string(token), holder, policy == UnfinishedPolicy::retry ? "retry" : "skip"},
        [core = core.get(), done, job_key, token](Result<Reply> r) {
          if (!r.ok()) {
            done(r.status);
            return;
          }
          const Reply& rep = r.value;
          if (rep.is_error() || rep.type != Reply::Type::array || rep.elements.size() < 3) {
            done(reply_error(rep, core->settings, "the ledger claim of job '" + job_key + "'"));
            return;
          }
          const long long code = rep.elements[0].as_int();
          if (code == -1) {
            done(make_error(Errc::fenced, "job '" + job_key + "': token " + std::to_string(token) +
                                              " is not the live leadership token of election '" +
                                              core->election + "' (now " +
                                              rep.elements[1].as_string() +
                                              "): this leader was replaced or its lease expired"));
            return;
          }
          ClaimResult out;
          out.claimed = code == 1;
          out.previous = record_from(job_key, rep.elements[2]);
          done(out);
        });
  }

  void finish(const std::string& job_key, uint64_t token, bool success, const std::string& detail,
              Completion<RunRecord> done) override {
    auto core = core_;
    if (auto st = validate_job_key(job_key); !st.ok()) {
      core->delivery.post([done, st] { done(st); });
      return;
    }
    core->eval(
        finish_script(), {core->keys.job_prefix + job_key, core->keys.lease},
        {std::to_string(token), success ? "1" : "0", detail, core->identity},
        [core = core.get(), done, job_key, token](Result<Reply> r) {
          if (!r.ok()) {
            done(r.status);
            return;
          }
          const Reply& rep = r.value;
          if (rep.is_error() || rep.type != Reply::Type::array || rep.elements.size() < 3) {
            done(reply_error(rep, core->settings, "the ledger finish of job '" + job_key + "'"));
            return;
          }
          const long long code = rep.elements[0].as_int();
          const std::string info = rep.elements[1].as_string();
          if (code == -1) {
            done(make_error(Errc::fenced, "job '" + job_key + "': finish with token " +
                                              std::to_string(token) +
                                              " refused: the ruling token is " + info +
                                              " (a newer leader took over, or the lease expired)"));
            return;
          }
          if (code == -2) {
            done(make_error(Errc::fenced, "job '" + job_key + "' has no run claimed under token " +
                                              std::to_string(token) + ": claim it first"));
            return;
          }
          done(record_from(job_key, rep.elements[2]));
        });
  }

  void read(const std::string& job_key, Completion<RunRecord> done) override {
    auto core = core_;
    if (auto st = validate_job_key(job_key); !st.ok()) {
      core->delivery.post([done, st] { done(st); });
      return;
    }
    // A plain HGETALL: reads need no script.
    if (!core->shared) {
      core->delivery.post(
          [done] { done(make_error(Errc::bad_state, "the Redis session is closed")); });
      return;
    }
    std::weak_ptr<SessionCore> weak = core;
    core->shared->cmd->command(
        {"HGETALL", core->keys.job_prefix + job_key}, [weak, done, job_key](Result<Reply> r) {
          auto core = weak.lock();
          if (!core) return;
          core->delivery.post([core, done, job_key, r] {
            if (!r.ok()) {
              done(r.status);
              return;
            }
            if (r.value.is_error() || r.value.type != Reply::Type::array) {
              done(reply_error(r.value, core->settings,
                               "reading the ledger record of job '" + job_key + "'"));
              return;
            }
            done(record_from(job_key, r.value));
          });
        });
  }

  // SCAN for the job hashes under the prefix (the keyspace is walked, in batches, without
  // blocking the server), then HGETALL each. Records are few per job and listing is rare.
  void list(const std::string& prefix, size_t limit,
            Completion<std::vector<RunRecord>> done) override {
    auto core = core_;
    if (auto st = validate_job_prefix(prefix); !st.ok()) {
      core->delivery.post([done, st] { done(st); });
      return;
    }
    if (!core->shared) {
      core->delivery.post(
          [done] { done(make_error(Errc::bad_state, "the Redis session is closed")); });
      return;
    }
    auto state = std::make_shared<ListState>();
    state->pattern = glob_escape(core->keys.job_prefix + prefix) + "*";
    state->limit = limit;
    state->done = std::move(done);
    scan_step(core, state);
  }

 private:
  struct ListState {
    std::string pattern;
    size_t limit = 0;
    std::string cursor = "0";
    std::vector<std::string> keys;
    std::vector<RunRecord> records;
    size_t pending = 0;
    bool failed = false;
    Completion<std::vector<RunRecord>> done;
  };

  static std::string glob_escape(const std::string& s) {
    std::string out;
    for (char c : s) {
      if (c == '*' || c == '?' || c == '[' || c == ']' || c == '\\') out.push_back('\\');
      out.push_back(c);
    }
    return out;
  }

  static void scan_step(const std::shared_ptr<SessionCore>& core,
                        const std::shared_ptr<ListState>& st) {
    std::weak_ptr<SessionCore> weak = core;
    core->shared->cmd->command(
        {"SCAN", st->cursor, "MATCH", st->pattern, "COUNT", "1000"}, [weak, st](Result<Reply> r) {
          auto core = weak.lock();
          if (!core) return;
          core->delivery.post([core, st, r] {
            if (!r.ok()) return st->done(r.status);
            const Reply& rep = r.value;
            if (rep.is_error() || rep.type != Reply::Type::array || rep.elements.size() != 2)
              return st->done(reply_error(rep, core->settings, "listing the ledger (SCAN)"));
            for (const Reply& k : rep.elements[1].elements) st->keys.push_back(k.str);
            st->cursor = rep.elements[0].as_string();
            if (st->cursor != "0" && !st->cursor.empty()) return scan_step(core, st);
            read_all(core, st);
          });
        });
  }

  static void read_all(const std::shared_ptr<SessionCore>& core,
                       const std::shared_ptr<ListState>& st) {
    // Keys sort like job keys (same prefix): keep the last `limit` before reading them.
    std::sort(st->keys.begin(), st->keys.end());
    st->keys.erase(std::unique(st->keys.begin(), st->keys.end()), st->keys.end());
    if (st->keys.size() > st->limit)
      st->keys.erase(st->keys.begin(), st->keys.end() - static_cast<std::ptrdiff_t>(st->limit));
    st->pending = st->keys.size();
    if (st->pending == 0) return st->done(std::vector<RunRecord>{});
    std::weak_ptr<SessionCore> weak = core;
    const size_t skip = core->keys.job_prefix.size();
    for (const std::string& key : st->keys) {
      core->shared->cmd->command({"HGETALL", key}, [weak, st, key, skip](Result<Reply> r) {
        auto core = weak.lock();
        if (!core) return;
        core->delivery.post([core, st, key, skip, r] {
          if (st->failed) return;
          if (!r.ok() || r.value.is_error() || r.value.type != Reply::Type::array) {
            st->failed = true;
            return st->done(
                r.ok() ? reply_error(r.value, core->settings, "reading ledger record " + key)
                       : r.status);
          }
          if (!r.value.elements.empty())  // gone since the scan: skip it
            st->records.push_back(record_from(key.substr(skip), r.value));
          if (--st->pending == 0) {
            keep_last(st->records, st->limit);
            st->done(std::move(st->records));
          }
        });
      });
    }
  }

  std::shared_ptr<SessionCore> core_;
};

}  // namespace

std::unique_ptr<Ledger> make_redis_ledger(std::shared_ptr<SessionCore> core) {
  return std::make_unique<RedisLedger>(std::move(core));
}

}  // namespace tenure::backends::redis
