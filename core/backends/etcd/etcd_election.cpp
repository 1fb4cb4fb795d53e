#include "etcd/etcd_election.hpp"

#include <atomic>
#include <boost/asio/post.hpp>

#include "etcd/etcd_lease.hpp"
#include "tenure/log.hpp"

namespace tenure::backends::etcd {

namespace asio = boost::asio;

namespace {
std::atomic<uint64_t> next_user{1};

// Posts fn(election) to the election's strand; drops it when the election is gone or closed by
// then. Holds the election weakly, so a pending lease or watch callback never keeps it alive.
std::function<void(std::function<void(Election&)>)> back_to(std::weak_ptr<Election> weak) {
  return [weak](std::function<void(Election&)> fn) {
    auto self = weak.lock();
    if (!self) return;
    asio::post(self->io, [weak, fn = std::move(fn)] {
      auto s = weak.lock();
      if (s && !s->closed) fn(*s);
    });
  };
}
}  // namespace

Election::Election(const BackendContext& ctx, EtcdSettings s, std::shared_ptr<EtcdConn> c)
    : io(ctx.io),
      executor(ctx.executor),
      settings(std::move(s)),
      conn(std::move(c)),
      layout(make_layout(settings.path, ctx.election)),
      election(ctx.election),
      identity(ctx.identity),
      timing(ctx.timing),
      request_timeout(ctx.request_timeout.count() > 0 ? ctx.request_timeout
                                                      : request_timeout_for(ctx.timing)),
      user_id(next_user++) {}

void Election::post(std::function<void()> fn) {
  asio::post(io, [self = shared_from_this(), fn = std::move(fn)] {
    if (!self->closed) fn();
  });
}

void Election::call(const std::string& path, const json& body,
                    std::function<void(Result<json>)> done, bool idempotent) {
  std::weak_ptr<Election> weak = shared_from_this();
  conn->call(path, body, request_timeout, idempotent,
             [weak, done = std::move(done)](Result<json> r) mutable {
               auto self = weak.lock();
               if (!self) return;
               asio::post(self->io, [weak, done = std::move(done), r = std::move(r)]() mutable {
                 auto s = weak.lock();
                 if (s && !s->closed) done(std::move(r));
               });
             });
}

void Election::with_lease(std::function<void(Status)> done) {
  if (lease_id) return post([done] { done({}); });
  lease_waiters.push_back(std::move(done));
  if (attaching) return;
  attaching = true;
  std::weak_ptr<Election> weak = shared_from_this();
  auto back = back_to(weak);
  LeaseUser u;
  u.timing = timing;
  u.request_timeout = request_timeout;
  u.renewed = [back](int64_t id) { back([id](Election& e) { e.on_renewed(id); }); };
  u.lost = [back](int64_t id, Status why) {
    back([id, why](Election& e) { e.on_lease_lost(id, why); });
  };
  asio::post(conn->strand(),
             [c = conn, uid = user_id, el = election, ttl = settings.ttl_s, u, back] {
               c->leases(ttl).attach(uid, el, u, [back](Result<int64_t> r) {
                 back([r](Election& e) {
                   e.attaching = false;
                   if (r.ok()) {
                     e.lease_id = r.value;
                     e.my_key = e.layout.candidate_key(r.value);
                     e.last_keepalive = Clock::now();
                   }
                   auto waiters = std::move(e.lease_waiters);
                   for (auto& w : waiters) w(r.status);
                 });
               });
             });
}

void Election::ensure_key(std::function<void(Status)> done) {
  if (my_rev) return post([done] { done({}); });
  with_lease([self = shared_from_this(), done](Status st) {
    if (!st.ok()) return done(st);
    if (self->my_rev) return done({});
    // concurrency.Election.Campaign's txn: create our key unless it exists, else read it.
    auto body =
        txn_body({create_revision_is(self->my_key, 0)},
                 {put_op(self->my_key, self->identity, self->lease_id)}, {range_op(self->my_key)});
    self->call("kv/txn", body, [self, done](Result<json> r) {
      if (!r.ok()) return done(r.status);
      auto t = parse_txn(r.value);
      if (!t.ok()) return done(t.status);
      if (t.value.succeeded) {
        self->my_rev = t.value.revision;
      } else if (!t.value.ranges.empty() && !t.value.ranges[0].empty()) {
        self->my_rev = t.value.ranges[0][0].create_revision;
      } else {
        return done(make_error(
            Errc::backend, "etcd txn on " + self->my_key + " neither created nor found the key"));
      }
      done({});
    });
  });
}

LeaseRecord Election::record_of(const KeyValue& kv) const {
  LeaseRecord r;
  r.holder = kv.value;
  r.token = static_cast<uint64_t>(kv.create_revision);
  r.lease_duration = timing.lease_duration;
  return r;
}

void Election::watch(const std::string& key, const std::string& range_end, int64_t start_rev) {
  std::string what = key + '\0' + range_end;
  if (stream && watched == what) return;
  stop_watch();
  watched = what;
  std::weak_ptr<Election> weak = shared_from_this();
  auto opened = Clock::now();
  auto back = back_to(weak);
  auto gen = std::make_shared<std::string>(what);
  stream = conn->watch(
      watch_create_body(key, range_end, start_rev),
      [back, gen](Result<WatchMessage> m) {
        back([m, gen](Election& e) {
          if (e.watched != *gen) return;  // an older watch
          // Any event, a cancel (compacted start revision) or an error: look again. The next
          // acquire or read re-reads the election and watches from a fresh revision.
          if (!m.ok() || m.value.canceled || !m.value.events.empty()) {
            if (m.ok() && m.value.compact_revision > 0)
              log(LogLevel::info, "etcd",
                  "watch canceled: its start revision was compacted (compact revision " +
                      std::to_string(m.value.compact_revision) + "); reading the election again",
                  e.election, e.identity);
            if (!m.ok() || m.value.canceled) e.stop_watch();
            if (e.sink) e.sink->changed();
          }
        });
      },
      [back, gen, opened](Status end) {
        back([gen, end, opened](Election& e) {
          if (e.watched != *gen) return;
          e.stop_watch();
          if (!e.sink) return;
          // A watch that fails at once (server down) must not spin: the core's follower poll
          // retries then.
          if (!end.ok() && Clock::now() - opened < std::chrono::seconds(1)) {
            e.sink->report(end);
            return;
          }
          e.sink->changed();
        });
      });
}

void Election::stop_watch() {
  if (stream) stream->close();
  stream.reset();
  watched.clear();
}

void Election::forget_key() {
  my_rev = 0;
  leading = false;
}

void Election::on_renewed(int64_t lease) {
  if (lease != lease_id) return;
  last_keepalive = Clock::now();
  if (leading && sink) {
    LeaseRecord r;
    r.holder = identity;
    r.token = static_cast<uint64_t>(my_rev);
    r.lease_duration = timing.lease_duration;
    sink->renewed(r);
  }
}

void Election::on_lease_lost(int64_t lease, Status why) {
  if (lease != lease_id) return;
  lease_id = 0;
  my_key.clear();
  const bool was_leading = leading;
  forget_key();
  stop_watch();
  if (!sink) return;
  if (was_leading)
    sink->lost(why);
  else
    sink->changed();
}

}  // namespace tenure::backends::etcd
