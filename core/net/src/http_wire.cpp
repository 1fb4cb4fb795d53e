#include <cstdlib>

#include "http_core.hpp"

namespace tenure::net::detail {

namespace {

std::optional<milliseconds> parse_retry_after(const std::string* v) {
  // Only the delay-seconds form; an HTTP date would need the wall clock and servers of interest
  // (etcd, Consul, Kubernetes API) send seconds.
  if (!v || v->empty() || v->size() > 9) return std::nullopt;
  for (char c : *v)
    if (c < '0' || c > '9') return std::nullopt;
  return milliseconds(std::atoll(v->c_str()) * 1000);
}

}  // namespace

bool is_idempotent(const HttpRequest& req) {
  if (req.idempotent) return *req.idempotent;
  return req.method == "GET" || req.method == "HEAD";
}

http::request<http::string_body> build_request(const ClientCore& core, const HttpRequest& req,
                                               const Endpoint& ep,
                                               const HttpHeaders& auth_headers) {
  http::request<http::string_body> r;
  r.method_string(req.method);
  r.target(req.target);
  r.version(11);
  r.set(http::field::host, ep.authority());
  r.set(http::field::user_agent, core.opts.user_agent);
  for (const auto& [k, v] : req.headers) r.set(k, v);
  for (const auto& [k, v] : auth_headers) r.set(k, v);
  if (!req.body.empty() || req.method == "POST" || req.method == "PUT" || req.method == "PATCH") {
    if (!req.content_type.empty()) r.set(http::field::content_type, req.content_type);
    r.body() = req.body;
  }
  r.keep_alive(true);
  r.prepare_payload();
  return r;
}

HttpResponse to_response(const http::response_header<>& head, std::string body,
                         const Endpoint& ep) {
  HttpResponse out;
  out.status = int(head.result_int());
  for (const auto& f : head)
    out.headers.emplace_back(std::string(f.name_string()), std::string(f.value()));
  out.body = std::move(body);
  out.endpoint = ep.describe();
  if (out.status == 429 || out.status == 503)
    out.retry_after = parse_retry_after(out.header("Retry-After"));
  return out;
}

}  // namespace tenure::net::detail
