// The LeaseBackend over an Election: acquire = campaign (create our key, then see whether it is
// the oldest), followers watch the key just ahead of theirs, release = resign (delete our key).
#include "etcd/etcd_backend.hpp"

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#include "etcd/etcd_election.hpp"
#include "etcd/etcd_lease.hpp"
#include "tenure/backend_options.hpp"

namespace tenure::backends {

namespace etcd {
namespace {

namespace asio = boost::asio;

class EtcdBackend : public LeaseBackend {
 public:
  EtcdBackend(std::shared_ptr<Election> e) : e_(std::move(e)), ledger_(make_etcd_ledger(e_)) {}

  Capabilities capabilities() const override {
    Capabilities c = Capabilities::server_lease();
    c.renews_itself = true;  // the shared lease's keep-alive feeds sink.renewed()
    return c;
  }

  void start(LeaseSink& sink) override { e_->sink = &sink; }

  void acquire(Completion<AcquireOutcome> done) override { campaign(std::move(done), 1); }

  // renews_itself: the keep-alive stream renews. Kept for callers that still renew: succeeds
  // while our key holds `token` and the lease's keep-alives get through.
  void renew(uint64_t token, Completion<LeaseRecord> done) override {
    auto e = e_;
    if (!e->my_rev || static_cast<uint64_t>(e->my_rev) != token || !e->leading)
      return e->post([done, token] { done(lost(token)); });
    if (Clock::now() - e->last_keepalive > e->timing.renew_deadline)
      return e->post([done] {
        done(make_error(Errc::timeout, "no etcd keep-alive got through within renew_deadline"));
      });
    e->call("kv/range", range_body(e->my_key), [e, token, done](Result<json> r) {
      if (!r.ok()) return done(r.status);
      auto kvs = parse_kvs(r.value);
      if (!kvs.ok()) return done(kvs.status);
      if (kvs.value.empty() || static_cast<uint64_t>(kvs.value[0].create_revision) != token) {
        e->forget_key();
        return done(lost(token));
      }
      auto rec = e->record_of(kvs.value[0]);
      rec.expires_in_ms = e->settings.ttl_s * 1000;
      done(rec);
    });
  }

  void release(uint64_t token, Completion<bool> done) override {
    auto e = e_;
    if (e->my_key.empty() || static_cast<uint64_t>(e->my_rev) != token)
      return e->post([done, token] { done(lost(token)); });
    // concurrency.Election.Resign: delete our key if it is still the one we were elected with.
    auto body = txn_body({create_revision_is(e->my_key, e->my_rev)}, {delete_op(e->my_key)}, {});
    e->call("kv/txn", body, [e, token, done](Result<json> r) {
      if (!r.ok()) return done(r.status);
      auto t = parse_txn(r.value);
      if (!t.ok()) return done(t.status);
      e->forget_key();
      if (!t.value.succeeded) return done(lost(token));
      done(true);
    });
  }

  void read(Completion<LeaseRecord> done) override {
    auto e = e_;
    RangeOptions o;
    o.range_end = prefix_end(e->layout.election_prefix);
    o.sort = RangeOptions::Sort::create_ascend;
    o.limit = 1;
    e->call("kv/range", range_body(e->layout.election_prefix, o), [e, done](Result<json> r) {
      if (!r.ok()) return done(r.status);
      auto kvs = parse_kvs(r.value);
      if (!kvs.ok()) return done(kvs.status);
      // Observers (no key of their own) watch the whole election: any candidate coming or going.
      if (!e->my_rev)
        e->watch(e->layout.election_prefix, prefix_end(e->layout.election_prefix),
                 header_revision(r.value) + 1);
      if (kvs.value.empty()) return done(LeaseRecord{});
      done(e->record_of(kvs.value[0]));
    });
  }

  void close(Clock::time_point deadline, std::function<void()> done) override {
    auto e = e_;
    e->stop_watch();
    e->sink = nullptr;
    auto left = std::chrono::duration_cast<milliseconds>(deadline - e->executor->now());
    if (left < milliseconds(1)) left = milliseconds(1);
    auto finished = std::make_shared<bool>(false);
    auto finish = [e, finished, done] {
      if (std::exchange(*finished, true)) return;
      e->closed = true;
      asio::post(e->io, done);
    };
    // The bound: whatever is still out at the deadline is abandoned.
    auto timer = std::make_shared<asio::steady_timer>(e->io, left);
    timer->async_wait([finish, timer](const boost::system::error_code&) { finish(); });
    auto detach = [e, left, finish, timer] {
      asio::post(e->conn->strand(), [e, left, finish, timer] {
        e->conn->leases(e->settings.ttl_s).detach(e->user_id, left, [e, finish, timer] {
          asio::post(e->io, [finish, timer] {
            timer->cancel();
            finish();
          });
        });
      });
    };
    if (!e->my_rev || e->my_key.empty()) return detach();
    // Resign (delete our key) first, so a follower takes over at once even when other electors
    // of this process keep the shared lease alive.
    auto body = txn_body({create_revision_is(e->my_key, e->my_rev)}, {delete_op(e->my_key)}, {});
    e->conn->call("kv/txn", body, left, true, [detach](Result<json>) { detach(); });
    e->forget_key();
  }

  Ledger* ledger() override { return ledger_.get(); }

 private:
  static Status lost(uint64_t token) {
    return make_error(Errc::lost, "the etcd election key of fencing token " +
                                      std::to_string(token) + " is not ours (any more)");
  }

  // attempts: our key may vanish between creating and ranging (lease expired): one retry.
  void campaign(Completion<AcquireOutcome> done, int attempts) {
    auto e = e_;
    e->ensure_key([this, e, done, attempts](Status st) {
      if (!st.ok()) return done(st);
      RangeOptions o;
      o.range_end = prefix_end(e->layout.election_prefix);
      o.sort = RangeOptions::Sort::create_ascend;
      e->call("kv/range", range_body(e->layout.election_prefix, o),
              [this, e, done, attempts](Result<json> r) {
                if (!r.ok()) return done(r.status);
                auto kvs = parse_kvs(r.value);
                if (!kvs.ok()) return done(kvs.status);
                bool mine = false;
                for (auto& kv : kvs.value)
                  if (kv.key == e->my_key && kv.create_revision == e->my_rev) mine = true;
                if (!mine) {
                  e->forget_key();
                  if (attempts > 0) return campaign(done, attempts - 1);
                  return done(make_error(Errc::backend, "our etcd election key " + e->my_key +
                                                            " vanished right after it was made"));
                }
                const KeyValue* leader = lowest_create(kvs.value);
                AcquireOutcome out;
                if (leader->key == e->my_key) {
                  e->leading = true;
                  e->stop_watch();
                  out.acquired = true;
                  out.record = e->record_of(*leader);
                  out.record.holder = e->identity;
                  return done(out);
                }
                e->leading = false;
                out.record = e->record_of(*leader);
                // Wait for the candidate just ahead of us, as concurrency.Election does; from
                // the revision after this read, so the watcher starts in sync (a past start
                // revision is served by etcd's 100 ms catch-up loop).
                if (const KeyValue* ahead = newest_before(kvs.value, e->my_rev))
                  e->watch(ahead->key, "", header_revision(r.value) + 1);
                done(out);
              });
    });
  }

  std::shared_ptr<Election> e_;
  std::unique_ptr<Ledger> ledger_;
};

}  // namespace
}  // namespace etcd

Result<std::unique_ptr<LeaseBackend>> make_etcd_backend(const BackendContext& ctx) {
  if (Status st = require_asio_runtime(ctx, "etcd"); !st.ok()) return st;
  auto s = etcd::parse_etcd_settings(ctx);
  if (!s.ok()) return s.status;
  auto conn = etcd::EtcdConn::get(ctx.io, s.value);
  if (!conn.ok()) return conn.status;
  auto e = std::make_shared<etcd::Election>(ctx, std::move(s.value), std::move(conn.value));
  return std::unique_ptr<LeaseBackend>(new etcd::EtcdBackend(std::move(e)));
}

}  // namespace tenure::backends
