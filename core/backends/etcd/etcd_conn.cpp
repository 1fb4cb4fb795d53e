#include "etcd/etcd_conn.hpp"

#include "etcd/etcd_lease.hpp"
#include "tenure/net/registry.hpp"

namespace tenure::backends::etcd {

namespace {

// etcd's POST /v3/auth/authenticate: the token it returns goes into "Authorization" as is.
net::TokenFetch token_fetch(std::shared_ptr<std::weak_ptr<net::HttpClient>> client,
                            std::string user, std::string password) {
  return [client, user, password](std::function<void(Result<std::string>)> done) {
    auto http = client->lock();
    if (!http) return done(make_error(Errc::bad_state, "the etcd client is closed"));
    net::HttpRequest req;
    req.method = "POST";
    req.target = "/v3/auth/authenticate";
    req.content_type = "application/json";
    req.body = json{{"name", user}, {"password", password}}.dump();
    req.skip_auth = true;
    req.idempotent = true;
    http->request(std::move(req), [user, done](net::HttpResult r) {
      json body = json::parse(r.value.body, nullptr, false);
      if (auto e = error_from_body(body, r.value.endpoint, "login of user '" + user + "'"))
        return done(*e);
      if (!r.ok()) return done(r.status);
      auto t = body.is_object() ? body.find("token") : body.end();
      if (t == body.end() || !t->is_string())
        return done(make_error(Errc::auth_failed,
                               "etcd at " + r.value.endpoint + " gave no token for user '" + user +
                                   "': is authentication enabled on the server?"));
      done(t->get<std::string>());
    });
  };
}

}  // namespace

Result<std::shared_ptr<EtcdConn>> EtcdConn::get(const boost::asio::any_io_executor& io,
                                                const EtcdSettings& s) {
  Status err;
  auto& reg = net::ConnectionRegistry::of(io);
  auto conn = reg.get_or_create<EtcdConn>(s.connection_key(), [&]() -> std::shared_ptr<EtcdConn> {
    auto c = std::shared_ptr<EtcdConn>(new EtcdConn());
    c->strand_ = net::own_strand(io);
    net::HttpClientOptions o;
    o.service = "etcd";
    o.endpoints = s.endpoints;
    if (s.tls) {
      auto tls = net::TlsContext::create(s.tls_options);
      if (!tls.ok()) {
        err = tls.status;
        return nullptr;
      }
      o.tls = tls.value;
    }
    // The fetch needs the client it belongs to: a weak pointer filled in below.
    auto slot = std::make_shared<std::weak_ptr<net::HttpClient>>();
    if (!s.user.empty())
      o.auth = net::refreshing_token("Authorization", token_fetch(slot, s.user, s.password));
    auto http = net::HttpClient::create(c->strand_, std::move(o));
    if (!http.ok()) {
      err = http.status;
      return nullptr;
    }
    c->http_ = http.value;
    *slot = c->http_;
    for (auto& e : s.endpoints) c->where_ += (c->where_.empty() ? "" : ",") + e.describe();
    return c;
  });
  if (!conn) return err.ok() ? make_error(Errc::internal, "etcd connection not created") : err;
  return conn;
}

EtcdConn::~EtcdConn() {
  pools_.clear();
  if (http_) http_->close();
}

Status EtcdConn::answer_error(const net::HttpResponse& r, const std::string& what) const {
  json body = json::parse(r.body, nullptr, false);
  if (auto e = error_from_body(body, r.endpoint, what)) return *e;
  if (r.status == 404)
    return make_error(Errc::backend, "no etcd v3 API at " + r.endpoint + " (HTTP 404 for the " +
                                         what +
                                         "): is this etcd's client port (2379), not its peer "
                                         "port or another server, and etcd 3.4 or newer?");
  return net::http_status_error("etcd", r);
}

void EtcdConn::call(const std::string& path, const json& body, milliseconds timeout,
                    bool idempotent, std::function<void(Result<json>)> done, bool urgent) {
  net::HttpRequest req;
  req.method = "POST";
  req.target = "/v3/" + path;
  req.content_type = "application/json";
  req.body = body.dump();
  req.timeout = timeout;
  req.idempotent = idempotent;
  req.urgent = urgent;
  std::weak_ptr<EtcdConn> weak = shared_from_this();
  http_->request(std::move(req), [weak, path, done = std::move(done)](net::HttpResult r) {
    auto self = weak.lock();
    if (!self) return;
    if (!r.ok()) {
      if (r.value.status != 0) return done(self->answer_error(r.value, path));
      Status s = r.status;
      if (s.code == Errc::backend) s.message += " (is " + self->where_ + " an etcd client port?)";
      return done(s);
    }
    json j = json::parse(r.value.body, nullptr, false);
    if (j.is_discarded() || !j.is_object())
      return done(make_error(Errc::backend, "etcd at " + r.value.endpoint + " answered the " +
                                                path +
                                                " with something that is not JSON: is this an "
                                                "etcd client port?"));
    if (auto e = error_from_body(j, r.value.endpoint, path)) return done(*e);
    done(std::move(j));
  });
}

std::shared_ptr<net::HttpStream> EtcdConn::watch(const json& create,
                                                 std::function<void(Result<WatchMessage>)> on_msg,
                                                 std::function<void(Status)> on_end) {
  net::HttpRequest req;
  req.method = "POST";
  req.target = "/v3/watch";
  req.content_type = "application/json";
  req.body = create.dump();
  req.max_body = size_t(4) << 20;
  // A watch only reads: when its endpoint fails before the stream starts, open it on the next.
  req.idempotent = true;
  net::StreamHandlers h;
  auto head_error = std::make_shared<Status>();
  std::weak_ptr<EtcdConn> weak = shared_from_this();
  h.on_head = [weak, head_error](const net::HttpResponse& head) {
    auto self = weak.lock();
    if (self && (head.status < 200 || head.status > 299))
      *head_error = self->answer_error(head, "watch");
  };
  h.on_value = [on_msg](json v) { on_msg(parse_watch_message(v)); };
  h.on_end = [head_error, on_end](Status s) { on_end(head_error->ok() ? s : *head_error); };
  return http_->stream(std::move(req), std::move(h));
}

LeasePool& EtcdConn::leases(int64_t ttl_s) {
  auto& p = pools_[ttl_s];
  if (!p) p = std::make_unique<LeasePool>(weak_from_this(), ttl_s);
  return *p;
}

}  // namespace tenure::backends::etcd
