#include "redis/redis_session.hpp"

#include <atomic>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/post.hpp>
#include <charconv>

#include "redis/redis_backend.hpp"
#include "tenure/backend_options.hpp"
#include "tenure/fencing.hpp"

namespace tenure::backends::redis {

namespace asio = boost::asio;

SessionCore::SessionCore(const BackendContext& ctx, RedisSettings s,
                         std::shared_ptr<SharedConnections> sh)
    : io(ctx.io),
      settings(std::move(s)),
      keys(make_keys(settings.prefix, ctx.election)),
      election(ctx.election),
      identity(ctx.identity),
      timing(ctx.timing),
      shared(std::move(sh)),
      delivery(ctx.executor) {}

void SessionCore::report_no_keyspace() {
  if (reported_no_keyspace || !sink) return;
  reported_no_keyspace = true;
  sink->report(
      make_error(Errc::permission_denied,
                 "Redis refused CONFIG SET notify-keyspace-events, so a lease that expires "
                 "(a crashed leader) is noticed by timer and polling at retry_period instead of "
                 "by push; allow CONFIG for this user or set notify-keyspace-events Ex on the "
                 "server"));
}

void SessionCore::eval(const Script& script, std::vector<std::string> keys_,
                       std::vector<std::string> args, std::function<void(Result<Reply>)> done,
                       milliseconds min_uptime) {
  if (!shared) {
    delivery.complete<Reply>(std::move(done),
                             make_error(Errc::bad_state, "the Redis session is closed"));
    return;
  }
  std::vector<std::string> argv;
  argv.reserve(3 + keys_.size() + args.size());
  argv.push_back("EVALSHA");
  argv.push_back(script.sha1);
  argv.push_back(std::to_string(keys_.size()));
  for (auto& k : keys_) argv.push_back(std::move(k));
  for (auto& a : args) argv.push_back(std::move(a));
  // The callbacks wait inside the connection: they hold only weak references to it and to this
  // session, so no cycle keeps either alive (a closed session's completions are dropped anyway).
  std::weak_ptr<RespConnection> wconn = shared->cmd;
  auto deliver = [d = delivery, done = std::move(done)](Result<Reply> r) {
    d.complete<Reply>(done, std::move(r));
  };
  auto argv_p = std::make_shared<std::vector<std::string>>(std::move(argv));
  shared->cmd->command(
      *argv_p,
      [wconn, argv_p, &script, deliver = std::move(deliver), min_uptime](Result<Reply> r) mutable {
        if (r.ok() && r.value.starts_with("NOSCRIPT")) {
          // The server does not know the script (first use, or it restarted): send the body.
          auto conn = wconn.lock();
          if (!conn) return;
          (*argv_p)[0] = "EVAL";
          (*argv_p)[1] = script.body;
          conn->command(*argv_p, std::move(deliver), min_uptime);
          return;
        }
        deliver(std::move(r));
      },
      min_uptime);
}

void SessionCore::close_now() {
  if (closed) return;
  closed = true;
  delivery.close();
  if (subscriber && watch_id) subscriber->remove(watch_id);
  subscriber.reset();
  sink = nullptr;
  shared.reset();  // the last session of a URL closes its connections
}

bool parse_token(const std::string& s, uint64_t& out) {
  const auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && p == s.data() + s.size() && out <= kMaxFencingToken;
}

bool parse_lease_value(const std::string& v, LeaseRecord& out) {
  // "TOKEN TTL ACQ REN TRANSITIONS HOLDER", each number within 0..2^63-1 (from_chars takes no
  // sign, unlike strtoull, which reads "-1" as 2^64-1).
  const char* p = v.c_str();
  const char* end = p + v.size();
  uint64_t nums[5];
  for (auto& n : nums) {
    const auto [next, ec] = std::from_chars(p, end, n);
    if (ec != std::errc() || next >= end || *next != ' ' || n > kMaxFencingToken) return false;
    p = next + 1;
  }
  if (p >= end) return false;
  out.token = nums[0];
  out.lease_duration = milliseconds(static_cast<long long>(nums[1]));
  out.acquired_unix_ms = static_cast<int64_t>(nums[2]);
  out.renewed_unix_ms = static_cast<int64_t>(nums[3]);
  out.transitions = nums[4];
  out.holder.assign(p, end);
  return true;
}

namespace {

// {ok, record, pttl, token} from the lease scripts.
struct LeaseReply {
  bool ok = false;
  bool held = false;
  LeaseRecord record;
  std::string token;
};

Result<LeaseReply> decode(const Result<Reply>& r, const SessionCore& c, const std::string& what) {
  if (!r.ok()) return r.status;
  const Reply& rep = r.value;
  if (rep.is_error()) return reply_error(rep, c.settings, what);
  if (rep.type != Reply::Type::array || rep.elements.size() < 4)
    return reply_error(Reply{}, c.settings, what);
  LeaseReply out;
  out.ok = rep.elements[0].as_int() == 1;
  const std::string value = rep.elements[1].as_string();
  out.token = rep.elements[3].as_string();
  if (!value.empty()) {
    if (!parse_lease_value(value, out.record))
      return make_error(Errc::backend, "the lease key " + c.keys.lease + " at " +
                                           c.settings.conn.display +
                                           " holds a value tenure did not write");
    out.held = true;
    const long long pttl = rep.elements[2].as_int(-1);
    out.record.expires_in_ms = pttl >= 0 ? pttl : -1;
  } else {
    // Empty: the script had no token to tell (renew or release of a lease that is gone).
    if (!out.token.empty() && !parse_token(out.token, out.record.token))
      return make_error(Errc::backend, "the fencing token counter " + c.keys.counter + " at " +
                                           c.settings.conn.display + " holds '" +
                                           out.token.substr(0, 40) +
                                           "', not a token tenure wrote (0.." +
                                           std::to_string(kMaxFencingToken) + ")");
    out.record.lease_duration = c.timing.lease_duration;
  }
  return out;
}

class RedisBackend final : public LeaseBackend {
 public:
  explicit RedisBackend(std::shared_ptr<SessionCore> core)
      : core_(std::move(core)), ledger_(make_redis_ledger(core_)) {}
  ~RedisBackend() override {
    if (close_called_) return;
    auto core = core_;
    asio::post(core->io, [core] { core->close_now(); });
  }

  Capabilities capabilities() const override { return Capabilities::server_lease(); }

  void acquire(Completion<AcquireOutcome> done) override {
    auto core = core_;
    const auto ttl = core->timing.lease_duration;
    core->eval(
        acquire_script(), {core->keys.lease, core->keys.counter, core->keys.transitions},
        {core->identity, std::to_string(ttl.count()), core->keys.channel,
         core->uncertain_acquire ? "1" : "0"},
        [core = core.get(), done](Result<Reply> r) {
          const auto now = core->delivery.executor().now();
          if (!r.ok() && r.status.detail.retry_after) {
            // The server started less than one lease_duration ago: it may have lost the lease of a
            // leader that still believes it leads. Wait that out.
            const milliseconds left = *r.status.detail.retry_after;
            AcquireOutcome out;
            out.record.lease_duration = core->timing.lease_duration;
            out.record.expires_in_ms = left.count();
            out.retry_at = now + left;
            done(out);
            return;
          }
          if (!r.ok() && (r.status.code == Errc::timeout || r.status.code == Errc::unreachable))
            core->uncertain_acquire = true;
          auto d = decode(r, *core, "the acquire script");
          if (!d.ok()) {
            done(d.status);
            return;
          }
          core->uncertain_acquire = false;
          AcquireOutcome out;
          out.acquired = d.value.ok;
          out.record = d.value.record;
          if (!out.acquired && d.value.held && out.record.expires_in_ms >= 0)
            out.retry_at = now + milliseconds(out.record.expires_in_ms + 1);
          done(out);
        },
        core->settings.restart_guard ? ttl : milliseconds(0));
  }

  void renew(uint64_t token, Completion<LeaseRecord> done) override {
    auto core = core_;
    core->eval(renew_script(), {core->keys.lease},
               {core->identity, std::to_string(token),
                std::to_string(core->timing.lease_duration.count())},
               [core = core.get(), done, token](Result<Reply> r) {
                 auto d = decode(r, *core, "the renew script");
                 if (!d.ok()) {
                   done(d.status);
                   return;
                 }
                 if (!d.value.ok) {
                   done(lost_status(*core, d.value, token, "renew"));
                   return;
                 }
                 done(d.value.record);
               });
  }

  void release(uint64_t token, Completion<bool> done) override {
    auto core = core_;
    core->eval(release_script(), {core->keys.lease},
               {core->identity, std::to_string(token), core->keys.channel},
               [core = core.get(), done, token](Result<Reply> r) {
                 auto d = decode(r, *core, "the release script");
                 if (!d.ok()) {
                   done(d.status);
                   return;
                 }
                 if (!d.value.ok) {
                   done(lost_status(*core, d.value, token, "release"));
                   return;
                 }
                 done(true);
               });
  }

  void read(Completion<LeaseRecord> done) override {
    auto core = core_;
    core->eval(read_script(), {core->keys.lease, core->keys.counter}, {},
               [core = core.get(), done](Result<Reply> r) {
                 auto d = decode(r, *core, "the read script");
                 if (!d.ok()) {
                   done(d.status);
                   return;
                 }
                 done(d.value.record);
               });
  }

  void start(LeaseSink& sink) override {
    auto core = core_;
    core->sink = &sink;
    core->delivery.post([core] {
      if (core->closed || !core->shared) return;
      core->subscriber = core->shared->subscriber();
      if (!core->subscriber) return;  // polling by TTL timers only
      std::weak_ptr<SessionCore> weak = core;
      core->watch_id = core->subscriber->add(
          core->keys.channel, core->keys.lease, core->io, core->timing.retry_period,
          [weak](const std::string& payload) {
            auto c = weak.lock();
            if (!c || c->closed || !c->sink) return;
            if (payload == Subscriber::kKeyspaceRefused) {
              c->report_no_keyspace();
              return;
            }
            // Our own acquisition needs no wake-up.
            if (payload.rfind("acquired ", 0) == 0 && payload.size() > c->identity.size() &&
                payload.compare(payload.size() - c->identity.size(), std::string::npos,
                                c->identity) == 0 &&
                payload[payload.size() - c->identity.size() - 1] == ' ')
              return;
            c->sink->changed();
          });
      if (core->subscriber->keyspace_refused()) core->report_no_keyspace();
    });
  }

  void close(Clock::time_point, std::function<void()> done) override {
    close_called_ = true;
    auto core = core_;
    core->delivery.close();
    asio::post(core->io, [core, done = std::move(done)] {
      core->close_now();
      if (done) done();
    });
  }

  Ledger* ledger() override { return ledger_.get(); }

 private:
  static Status lost_status(const SessionCore& c, const LeaseReply& d, uint64_t token,
                            const char* what) {
    if (!d.held)
      return make_error(Errc::lost, "cannot " + std::string(what) + " the lease of election '" +
                                        c.election + "' with token " + std::to_string(token) +
                                        ": it expired and no one holds it now");
    return make_error(Errc::lost, "cannot " + std::string(what) + " the lease of election '" +
                                      c.election + "' with token " + std::to_string(token) + ": '" +
                                      d.record.holder + "' holds it with token " +
                                      std::to_string(d.record.token));
  }

  std::shared_ptr<SessionCore> core_;
  std::unique_ptr<Ledger> ledger_;
  std::atomic<bool> close_called_{false};
};

}  // namespace
}  // namespace tenure::backends::redis

namespace tenure::backends {

Result<std::unique_ptr<LeaseBackend>> make_redis_backend(const BackendContext& ctx) {
  using namespace redis;
  if (Status st = require_asio_runtime(ctx, "Redis"); !st.ok()) return st;
  auto settings = parse_settings(ctx);
  if (!settings.ok()) return settings.status;
  auto shared = get_shared_connections(ctx.io, settings.value.conn, settings.value.keyspace_events,
                                       settings.value.share_connections);
  if (!shared.ok()) return shared.status;
  auto core =
      std::make_shared<SessionCore>(ctx, std::move(settings.value), std::move(shared.value));
  return std::unique_ptr<LeaseBackend>(new RedisBackend(std::move(core)));
}

}  // namespace tenure::backends
