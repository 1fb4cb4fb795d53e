// The run-once ledger in etcd: one JSON record per job under "<root>/.tenure-runs/<election>/".
// Claims and finishes are txns guarded by the fencing token (our candidate key still has the
// create revision we lead with) and by the record's mod revision (nobody wrote it since we read).
#include <chrono>

#include "etcd/etcd_election.hpp"

namespace tenure::backends::etcd {
namespace {

int64_t now_ms() {
  return std::chrono::duration_cast<milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string encode_run(const RunRecord& r) {
  return json{{"status", static_cast<int>(r.status)},
              {"token", std::to_string(r.token)},
              {"holder", r.holder},
              {"started_unix_ms", r.started_unix_ms},
              {"finished_unix_ms", r.finished_unix_ms},
              {"detail", r.detail}}
      .dump();
}

Result<RunRecord> decode_run(const KeyValue& kv, const std::string& job_key) {
  RunRecord r;
  r.job_key = job_key;
  json j = json::parse(kv.value, nullptr, false);
  auto bad = make_error(Errc::backend, "the run record at etcd key '" + kv.key +
                                           "' is not a tenure run record; remove it");
  if (!j.is_object()) return bad;
  try {
    int st = j.at("status").get<int>();
    if (st < 1 || st > 3) return bad;
    r.status = static_cast<RunStatus>(st);
    r.token = std::stoull(j.at("token").get<std::string>());
    r.holder = j.at("holder").get<std::string>();
    r.started_unix_ms = j.at("started_unix_ms").get<int64_t>();
    r.finished_unix_ms = j.at("finished_unix_ms").get<int64_t>();
    r.detail = j.at("detail").get<std::string>();
  } catch (const std::exception&) {
    return bad;
  }
  return r;
}

Status fenced(uint64_t token) {
  return make_error(Errc::fenced, "fencing token " + std::to_string(token) +
                                      " no longer leads the etcd election: the run-once record "
                                      "was not written");
}

class EtcdLedger : public Ledger {
 public:
  explicit EtcdLedger(std::shared_ptr<Election> e) : e_(std::move(e)) {}

  void claim(const std::string& job_key, uint64_t token, const std::string& holder,
             UnfinishedPolicy policy, Completion<ClaimResult> done) override {
    if (auto st = validate_job_key(job_key); !st.ok()) return e_->post([done, st] { done(st); });
    claim_try(job_key, token, holder, policy, std::move(done), 3);
  }

  void finish(const std::string& job_key, uint64_t token, bool success, const std::string& detail,
              Completion<RunRecord> done) override {
    if (auto st = validate_job_key(job_key); !st.ok()) return e_->post([done, st] { done(st); });
    auto e = e_;
    auto key = e->layout.runs_prefix + job_key;
    e->call("kv/range", range_body(key),
            [e, key, job_key, token, success, detail, done](Result<json> r) {
              if (!r.ok()) return done(r.status);
              auto kvs = parse_kvs(r.value);
              if (!kvs.ok()) return done(kvs.status);
              if (kvs.value.empty()) return done(fenced(token));
              auto found = decode_run(kvs.value[0], job_key);
              if (!found.ok()) return done(found.status);
              if (found.value.token != token) return done(fenced(token));  // claimed again since
              RunRecord rec = found.value;
              rec.status = success ? RunStatus::finished : RunStatus::failed;
              rec.finished_unix_ms = now_ms();
              rec.detail = detail;
              auto body = txn_body({create_revision_is(e->my_key, static_cast<int64_t>(token)),
                                    mod_revision_is(key, kvs.value[0].mod_revision)},
                                   {put_op(key, encode_run(rec))}, {});
              e->call("kv/txn", body, [token, rec, done](Result<json> r) {
                if (!r.ok()) return done(r.status);
                auto t = parse_txn(r.value);
                if (!t.ok()) return done(t.status);
                if (!t.value.succeeded) return done(fenced(token));
                done(rec);
              });
            });
  }

  void read(const std::string& job_key, Completion<RunRecord> done) override {
    if (auto st = validate_job_key(job_key); !st.ok()) return e_->post([done, st] { done(st); });
    auto key = e_->layout.runs_prefix + job_key;
    e_->call("kv/range", range_body(key), [job_key, done](Result<json> r) {
      if (!r.ok()) return done(r.status);
      auto kvs = parse_kvs(r.value);
      if (!kvs.ok()) return done(kvs.status);
      if (kvs.value.empty()) {
        RunRecord none;
        none.job_key = job_key;
        return done(none);
      }
      done(decode_run(kvs.value[0], job_key));
    });
  }

  void list(const std::string& prefix, size_t limit,
            Completion<std::vector<RunRecord>> done) override {
    if (auto st = validate_job_prefix(prefix); !st.ok()) return e_->post([done, st] { done(st); });
    auto e = e_;
    auto from = e->layout.runs_prefix + prefix;
    RangeOptions o;
    o.range_end = prefix_end(from);
    o.sort = RangeOptions::Sort::key_ascend;
    e->call("kv/range", range_body(from, o), [e, limit, done](Result<json> r) {
      if (!r.ok()) return done(r.status);
      auto kvs = parse_kvs(r.value);
      if (!kvs.ok()) return done(kvs.status);
      std::vector<RunRecord> out;
      for (auto& kv : kvs.value) {
        auto rec = decode_run(kv, kv.key.substr(e->layout.runs_prefix.size()));
        if (!rec.ok()) return done(rec.status);
        out.push_back(std::move(rec.value));
      }
      keep_last(out, limit);
      done(std::move(out));
    });
  }

 private:
  void claim_try(const std::string& job_key, uint64_t token, const std::string& holder,
                 UnfinishedPolicy policy, Completion<ClaimResult> done, int attempts) {
    auto e = e_;
    auto key = e->layout.runs_prefix + job_key;
    e->call("kv/range", range_body(key),
            [this, e, key, job_key, token, holder, policy, done, attempts](Result<json> r) {
              if (!r.ok()) return done(r.status);
              auto kvs = parse_kvs(r.value);
              if (!kvs.ok()) return done(kvs.status);
              ClaimResult out;
              out.previous.job_key = job_key;
              int64_t mod = 0;
              if (!kvs.value.empty()) {
                auto found = decode_run(kvs.value[0], job_key);
                if (!found.ok()) return done(found.status);
                out.previous = found.value;
                mod = kvs.value[0].mod_revision;
              }
              if (!may_claim(out.previous, token, policy)) return done(out);
              RunRecord rec = started_run(job_key, token, holder);
              // mod_revision == 0 compares "the key does not exist".
              auto body = txn_body({create_revision_is(e->my_key, static_cast<int64_t>(token)),
                                    mod_revision_is(key, mod)},
                                   {put_op(key, encode_run(rec))}, {range_op(e->my_key)});
              e->call(
                  "kv/txn", body,
                  [this, e, job_key, token, holder, policy, done, attempts,
                   out](Result<json> r) mutable {
                    if (!r.ok()) return done(r.status);
                    auto t = parse_txn(r.value);
                    if (!t.ok()) return done(t.status);
                    if (t.value.succeeded) {
                      out.claimed = true;
                      out.token = token;
                      return done(out);
                    }
                    bool still_ours =
                        !t.value.ranges.empty() && !t.value.ranges[0].empty() &&
                        static_cast<uint64_t>(t.value.ranges[0][0].create_revision) == token;
                    if (!still_ours || e->my_key.empty()) return done(fenced(token));
                    if (attempts <= 1)
                      return done(make_error(Errc::backend, "the run record of '" + job_key +
                                                                "' kept changing under the claim"));
                    claim_try(job_key, token, holder, policy, done, attempts - 1);
                  });
            });
  }

  std::shared_ptr<Election> e_;
};

}  // namespace

std::unique_ptr<Ledger> make_etcd_ledger(std::shared_ptr<Election> e) {
  return std::make_unique<EtcdLedger>(std::move(e));
}

}  // namespace tenure::backends::etcd
