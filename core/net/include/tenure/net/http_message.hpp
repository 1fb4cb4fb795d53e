// What an HTTP request asks for and what comes back. Plain data; no Beast types, so backends
// include this without Beast's headers.
#pragma once

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "tenure/errors.hpp"

namespace tenure::net {

using std::chrono::milliseconds;
using HttpHeaders = std::vector<std::pair<std::string, std::string>>;

// Header lookup, case-insensitive; nullptr when absent.
const std::string* find_header(const HttpHeaders& h, const std::string& name);

struct HttpRequest {
  std::string method = "GET";  // GET, PUT, POST, DELETE, PATCH
  std::string target = "/";    // path and query, already percent-encoded
  HttpHeaders headers;         // extra headers (auth headers come from the client's Auth)
  std::string body;
  std::string content_type;  // set when body is non-empty ("application/json")

  // Whole request (connect, send, headers and body) must finish within this; 0: the client's
  // default. Long polls (Consul ?wait=5m) set their own, longer, value here.
  milliseconds timeout{0};
  // Largest accepted body in bytes; 0: the client's default. For streams: largest object.
  size_t max_body = 0;
  // Safe to send again on another endpoint after the connection died mid-request. Set for reads
  // and for writes the server deduplicates (etcd txn guarded by revision). Defaults to true for
  // GET/HEAD; see HttpClient's failover notes.
  std::optional<bool> idempotent;
  // Waits ahead of ordinary requests when every connection is busy (HttpClientOptions::
  // max_conns_per_endpoint): etcd's lease keep-alive must not expire behind a burst of writes.
  bool urgent = false;
  // The client's Auth adds nothing (etcd's /v3/auth/authenticate, which mints the token).
  bool skip_auth = false;
  // Only for streams: no byte for this long ends the stream with Errc::timeout; 0: no limit.
  milliseconds idle_timeout{0};
};

struct HttpResponse {
  int status = 0;  // HTTP status; 0 when no response arrived
  HttpHeaders headers;
  std::string body;
  // From Retry-After (seconds form) on 429/503; copy into Status::detail once it exists.
  std::optional<milliseconds> retry_after;
  std::string endpoint;  // which endpoint answered (Endpoint::describe())

  const std::string* header(const std::string& name) const { return find_header(headers, name); }
  // The body as JSON. Errc::backend naming the endpoint when the body is not JSON or the
  // Content-Type is not application/json (a proxy's HTML error page, ...).
  Result<nlohmann::json> json() const;
};

// Results of HttpClient::request. ok: a 2xx response arrived. Failed with a response (value.status
// != 0): the server answered non-2xx; value keeps status, headers, a bounded body and retry_after
// so callers can branch on 404/409/410; the failed Status carries http_status and retry_after in
// its detail too.
// Failed without a response (value.status == 0): connect/transport/timeout/limit errors.
using HttpResult = Result<HttpResponse>;

// Maps a non-2xx response onto an Errc with a message for the operator:
//   401 auth_failed, 403 permission_denied, 429 and 503 backend ("... retry after N ms"),
//   other 4xx/5xx backend. The message names `service`, the endpoint and the status, plus the
//   server's short error text when the body carries one, never request headers (tokens).
Status http_status_error(const std::string& service, const HttpResponse& r);

}  // namespace tenure::net
