#include "tenure/net/http_client.hpp"

#include <algorithm>

#include "http_core.hpp"
#include "tenure/net/registry.hpp"

namespace tenure::net {

namespace detail {

namespace {
// A kept-alive connection idle longer than this is closed rather than reused: servers and
// proxies drop idle connections (often after 30..90 s) without telling us.
constexpr auto kMaxIdle = std::chrono::seconds(25);
}  // namespace

ClientCore::ClientCore(asio::any_io_executor user, HttpClientOptions o)
    : user_ex(std::move(user)),
      deliver(asio::make_strand(user_ex)),
      strand(own_strand(user_ex)),
      opts(std::move(o)),
      deadlines(DeadlineQueue::create(strand)),
      eps(opts.endpoints.size()) {}

bool ClientCore::want_conn(size_t ep, const std::shared_ptr<ConnWaiter>& w, bool urgent,
                           std::unique_ptr<Conn>& out) {
  auto& e = eps[ep];
  const auto now = SteadyClock::now();
  while (!e.idle.empty()) {
    auto c = std::move(e.idle.back());
    e.idle.pop_back();
    idle_total.fetch_sub(1);
    if (now - c->idle_since < kMaxIdle) {
      out = std::move(c);
      return true;
    }
    c->close();
    --e.open;
  }
  // Waiters first: a newcomer does not overtake the queue (gone ones do not count).
  for (auto* q : {&e.urgent, &e.queue})
    while (!q->empty() && !q->front()->waiting()) q->pop_front();
  if (e.open < opts.max_conns_per_endpoint && e.urgent.empty() && e.queue.empty()) {
    ++e.open;
    out = nullptr;
    return true;
  }
  (urgent ? e.urgent : e.queue).push_back(w);
  return false;
}

namespace {
std::shared_ptr<ConnWaiter> next_waiter(EndpointConns& e) {
  for (auto* q : {&e.urgent, &e.queue})
    while (!q->empty()) {
      auto w = std::move(q->front());
      q->pop_front();
      if (w && w->waiting()) return w;
    }
  return nullptr;
}
}  // namespace

void ClientCore::give_back(std::unique_ptr<Conn> c) {
  auto& e = eps[c->endpoint];
  if (!closed.load())
    if (auto w = next_waiter(e)) return w->granted(std::move(c));
  if (closed.load() || e.idle.size() >= opts.max_idle_per_endpoint) {
    c->close();
    return release_slot(c->endpoint);
  }
  c->idle_since = SteadyClock::now();
  e.idle.push_back(std::move(c));
  idle_total.fetch_add(1);
}

void ClientCore::release_slot(size_t ep) {
  auto& e = eps[ep];
  if (e.open > 0) --e.open;
  if (closed.load() || e.open >= opts.max_conns_per_endpoint) return;
  if (auto w = next_waiter(e)) {
    ++e.open;
    w->granted(nullptr);
  }
}

void ClientCore::add_op(const std::shared_ptr<ClientOp>& op) {
  ops.erase(std::remove_if(ops.begin(), ops.end(), [](auto& w) { return w.expired(); }), ops.end());
  ops.push_back(op);
}

void ClientCore::shutdown() {
  auto live = std::move(ops);
  ops.clear();
  for (auto& w : live)
    if (auto op = w.lock()) op->shutdown();
  for (auto& e : eps) {
    for (auto& c : e.idle) c->close();
    e.idle.clear();
    e.urgent.clear();
    e.queue.clear();
  }
  idle_total.store(0);
  deadlines->close();
}

}  // namespace detail

struct HttpClient::Impl {
  std::shared_ptr<detail::ClientCore> core;
};

Result<std::shared_ptr<HttpClient>> HttpClient::create(boost::asio::any_io_executor ex,
                                                       HttpClientOptions opts) {
  if (opts.endpoints.empty())
    return make_error(Errc::invalid_argument,
                      "no endpoint given for " + opts.service + ": give at least one");
  for (const auto& ep : opts.endpoints)
    if (ep.tls && !opts.tls)
      return make_error(Errc::invalid_argument, "endpoint " + ep.describe() + " of " +
                                                    opts.service +
                                                    " uses TLS but no TLS settings were given");
  if (opts.max_idle_per_endpoint == 0) opts.max_idle_per_endpoint = 1;
  if (opts.max_conns_per_endpoint == 0) opts.max_conns_per_endpoint = 1;
  auto impl = std::make_shared<Impl>();
  impl->core = std::make_shared<detail::ClientCore>(std::move(ex), std::move(opts));
  return std::shared_ptr<HttpClient>(new HttpClient(std::move(impl)));
}

HttpClient::HttpClient(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}

HttpClient::~HttpClient() { close(); }

std::shared_ptr<HttpCall> HttpClient::request(HttpRequest req, HttpDone done) {
  return detail::start_request(impl_->core, std::move(req), std::move(done));
}

std::shared_ptr<HttpCall> HttpClient::request_json(std::string method, std::string target,
                                                   const nlohmann::json& body, HttpDone done) {
  HttpRequest req;
  req.method = std::move(method);
  req.target = std::move(target);
  req.headers.emplace_back("Accept", "application/json");
  if (!body.is_null()) {
    req.body = body.dump();
    req.content_type = "application/json";
  }
  return request(std::move(req), std::move(done));
}

std::shared_ptr<HttpStream> HttpClient::stream(HttpRequest req, StreamHandlers handlers) {
  return detail::start_stream(impl_->core, std::move(req), std::move(handlers));
}

void HttpClient::close() {
  auto& core = impl_->core;
  if (core->closed.exchange(true)) return;
  boost::asio::post(core->strand, [core] { core->shutdown(); });
}

const HttpClientOptions& HttpClient::options() const { return impl_->core->opts; }

size_t HttpClient::idle_connections() const { return impl_->core->idle_total.load(); }

}  // namespace tenure::net
